// Lookahead: Belady over the sample-ahead window. After a step's misses are
// fetched the buffer keeps the rows with the nearest next use inside the
// window of K known future steps (`--lookahead K`); rows with no use inside
// it are ordered by a prior (the VIP probability by default), and a miss is
// admitted only if it beats the row it would evict, else bypassed. Starts
// empty: a VIP fill moves rows the window then finds no use for (on `small`
// it cost 1.2 % more rows than Belady at K = 25; empty reaches Belady, see
// docs/BENCHMARKS.md). A pinned share of the capacity keeps the top-VIP rows.
//
// Its knobs are the action it returns before every step (rd_replace), so an
// agent choosing them per decision drives the same rule:
//   --policy-options prior=vip|count|degree|none,margin=M,pinned=P,window=W
#include <stdlib.h>
#include <string.h>

#include "buffer/menu.h"
#include "buffer/policy.h"
#include "cli.h"
#include "error.h"

static int create(const rd_policy_params *p, void **state) {
  rd_replace *k = calloc(1, sizeof *k);
  if (!k) return rd_error_set("out of memory");
  *k = rd_menu_start(p->lookahead);
  char *opts = strdup(p->options ? p->options : ""), *save = NULL;
  int rc = 0;
  double v;
  for (char *kv = strtok_r(opts, ",", &save); kv && rc == 0; kv = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(kv, '=');
    if (!eq) {
      rc = rd_error_set("policy options: '%s' is not KEY=VALUE", kv);
      break;
    }
    *eq = 0;
    const char *val = eq + 1;
    if (!strcmp(kv, "prior")) {
      rd_prior pr;
      rc = rd_prior_parse(val, &pr);
      k->prior = pr;
    } else if (!strcmp(kv, "margin")) {
      rc = rd_parse_number("policy options: margin", val, 0, 1e6, &k->margin);
    } else if (!strcmp(kv, "pinned")) {
      rc = rd_parse_number("policy options: pinned", val, 0, 1, &k->pinned);
    } else if (!strcmp(kv, "window")) {
      rc = rd_parse_number("policy options: window", val, 0, p->lookahead, &v);
      k->window = (int32_t)v;
    } else {
      rc = rd_error_set("policy options: unknown '%s' (known: prior, margin, pinned, window)", kv);
    }
  }
  free(opts);
  if (rc) {
    free(k);
    return -1;
  }
  *state = k;
  return 0;
}

static void decide(void *state, const rd_policy_params *p, const rd_window *w, rd_replace *out) {
  (void)p;
  (void)w;
  *out = *(const rd_replace *)state;
}

static void destroy(void *state) { free(state); }

const rd_policy_ops rd_policy_lookahead = {
    .name = "lookahead",
    .summary = "Belady inside the sample-ahead window (--lookahead K), a VIP prior beyond it",
    .uses_buffer = 1, .init = RD_INIT_EMPTY, .rule = RD_RULE_LOOKAHEAD,
    .flags = RD_POLICY_FUTURE | RD_POLICY_VIP,
    .create = create, .decide = decide, .destroy = destroy};
