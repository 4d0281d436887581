// The training objective: softmax cross-entropy over the seed rows.
#ifndef RUDDER_LOSS_H
#define RUDDER_LOSS_H

#include <stdint.h>

#include "../ops/real.h"

#ifdef RD_REAL_DOUBLE
#define rd_softmax_xent rd_softmax_xent_f64
#define rd_xent_check_labels rd_xent_check_labels_f64
#endif

// 0, or -1 with rd_error_set naming the first row whose label is >= num_classes.
int rd_xent_check_labels(const int32_t *labels, int n, int num_classes);

// Mean cross-entropy of softmax(logits) (n × num_classes) against labels over
// the rows with a label >= 0 (rows labelled < 0 are ignored: excluded from the
// mean, from *correct, and given zero gradient). dlogits (may be NULL) gets the
// gradient of that mean; *correct (may be NULL) the number of counted rows
// whose first argmax is the label. Returns 0 when no row counts, and NAN with
// rd_error_set if a label is >= num_classes.
double rd_softmax_xent(const rd_real *logits, const int32_t *labels, int n, int num_classes,
                       rd_real *dlogits, int64_t *correct);

#endif
