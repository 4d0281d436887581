// MassiveGNN: start from the top-degree halo nodes and run the score rule's
// replacement on a timer, every `period` steps (default: delta).
#include "buffer/policy.h"

static void decide(void *state, const rd_policy_params *p, const rd_window *w, rd_replace *out) {
  (void)state;
  out->replace = w->step > 0 && w->step % p->period == 0;
  out->fraction = p->fraction;
}

const rd_policy_ops rd_policy_periodic = {
    .name = "periodic", .summary = "score-rule replacement every `period` steps (MassiveGNN)",
    .uses_buffer = 1, .init = RD_INIT_DEGREE, .rule = RD_RULE_SCORE, .decide = decide};
