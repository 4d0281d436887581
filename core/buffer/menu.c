#include "menu.h"

const rd_prior rd_menu_priors[RD_MENU_PRIORS] = {RD_PRIOR_VIP, RD_PRIOR_COUNT, RD_PRIOR_DEGREE};
const double rd_menu_margins[RD_MENU_MARGINS] = {0, 0.1, 0.25, 0.5, 1};
const double rd_menu_pinned[RD_MENU_PINNED] = {0, 0.05, 0.1, 0.25, 0.5};

void rd_menu_windows(int32_t K, int32_t out[RD_MENU_WINDOWS]) {
  out[0] = 0;
  out[1] = K / 4;
  out[2] = K / 2;
  out[3] = K;
}

rd_replace rd_menu_start(int32_t K) { return (rd_replace){.tune = 1, .window = K, .prior = RD_PRIOR_VIP}; }
