// The menu of the LOOKAHEAD rule's knobs that agents choose from, in one
// place for the LLM menu agents (agents/llm: each answer names a value of
// every knob) and the menu classifiers (agents/classifier/menu.h: an action
// sets one knob to one value): the window of the K known steps that counts
// (0, K/4, K/2, K), the prior for rows with no known use, the admission
// margin and the pinned top-VIP share.
#ifndef RUDDER_MENU_H
#define RUDDER_MENU_H

#include <stdint.h>

#include "buffer.h"

enum { RD_MENU_WINDOWS = 4, RD_MENU_PRIORS = 3, RD_MENU_MARGINS = 5, RD_MENU_PINNED = 5 };

extern const rd_prior rd_menu_priors[RD_MENU_PRIORS];  // vip, count, degree
extern const double rd_menu_margins[RD_MENU_MARGINS];   // 0, 0.1, 0.25, 0.5, 1
extern const double rd_menu_pinned[RD_MENU_PINNED];     // 0, 0.05, 0.1, 0.25, 0.5

// The knobs the rule starts from, the lookahead policy's defaults: the
// whole window of K steps, the VIP prior, no margin, nothing pinned.
rd_replace rd_menu_start(int32_t K);

// The windows for K known steps: 0, K/4, K/2, K (equal ones repeat when K < 4).
void rd_menu_windows(int32_t K, int32_t out[RD_MENU_WINDOWS]);

#endif
