#include "loss.h"

#include <string.h>

#include "../error.h"

int rd_xent_check_labels(const int32_t *labels, int n, int num_classes) {
  for (int i = 0; i < n; i++)
    if (labels[i] >= num_classes)
      return rd_error_set("xent: row %d has label %d >= %d classes", i, labels[i], num_classes);
  return 0;
}

double rd_softmax_xent(const rd_real *logits, const int32_t *labels, int n, int num_classes,
                       rd_real *dlogits, int64_t *correct) {
  if (rd_xent_check_labels(labels, n, num_classes)) return NAN;
  int64_t counted = 0, hits = 0;
  for (int i = 0; i < n; i++) counted += labels[i] >= 0;
  double loss = 0, scale = counted ? 1.0 / (double)counted : 0;
  for (int i = 0; i < n; i++) {
    const rd_real *row = logits + (size_t)i * num_classes;
    rd_real *d = dlogits ? dlogits + (size_t)i * num_classes : NULL;
    if (labels[i] < 0) {
      if (d) memset(d, 0, (size_t)num_classes * sizeof *d);
      continue;
    }
    int best = 0;
    for (int c = 1; c < num_classes; c++)
      if (row[c] > row[best]) best = c;
    // log-sum-exp shifted by the max, in double whatever rd_real is.
    double sum = 0;
    for (int c = 0; c < num_classes; c++) sum += exp((double)row[c] - (double)row[best]);
    double lse = (double)row[best] + log(sum);
    loss += lse - (double)row[labels[i]];
    hits += best == labels[i];
    if (d)
      for (int c = 0; c < num_classes; c++)
        d[c] = (rd_real)((exp((double)row[c] - lse) - (c == labels[i])) * scale);
  }
  if (correct) *correct = hits;
  return loss * scale;
}
