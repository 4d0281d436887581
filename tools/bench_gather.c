// Gather bandwidth: rd_cuda_gather_rows building a mini-batch matrix of `rows`
// rows of F floats from three sources in equal shares (random rows of tables
// of `table_rows` rows each, so the reads scatter as the real ones do), as
// GB/s moved (each row read and written, plus its 8-byte source entry) and as
// a fraction of the device's peak DRAM bandwidth, 2 × memory clock × bus
// width (DDR: two transfers per clock). A device-to-device cudaMemcpy of the
// same matrix is printed beside it as the practical ceiling.
//
//   bench_gather [rows=1000000] [F=100] [table_rows=2000000] [iterations=20]
//
// One line of key=value pairs on stdout; exit 1 with a message on any error.
#include <cuda_runtime_api.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "cuda/device.h"
#include "cuda/kernels.h"
#include "error.h"
#include "rng.h"

static void die_cuda(const char *call, cudaError_t e) {
  fprintf(stderr, "bench_gather: %s failed: %s\n", call, cudaGetErrorString(e));
  exit(1);
}
#define CK(call)                                   \
  do {                                             \
    const cudaError_t e_ = (call);                 \
    if (e_ != cudaSuccess) die_cuda(#call, e_);    \
  } while (0)
#define RD(call)                                                     \
  do {                                                               \
    if ((call) != 0) {                                               \
      fprintf(stderr, "bench_gather: %s\n", rd_error());             \
      exit(1);                                                       \
    }                                                                \
  } while (0)

static long arg(int argc, char **argv, int i, long def) {
  if (argc <= i) return def;
  char *end;
  const long v = strtol(argv[i], &end, 10);
  if (*end || v <= 0) {
    fprintf(stderr, "bench_gather: argument %d '%s' is not a positive integer (see --help)\n", i, argv[i]);
    exit(2);
  }
  return v;
}

int main(int argc, char **argv) {
  if (rd_cli_wants_help(argc, argv)) {
    printf("usage: bench_gather [ROWS [F [TABLE [ITERS]]]]\n"
           "  the feature gather's bandwidth against the GPU's peak: ROWS rows of F floats\n"
           "  (1000000, 100) gathered from three tables of TABLE rows (2000000), ITERS times (20)\n");
    return 0;
  }
  const int64_t rows = arg(argc, argv, 1, 1000000), table = arg(argc, argv, 3, 2000000);
  const int F = (int)arg(argc, argv, 2, 100), iters = (int)arg(argc, argv, 4, 20);
  int dev;
  RD(rd_cuda_select_device(0, &dev));
  const size_t row_bytes = (size_t)F * sizeof(float), tables = 3 * (size_t)table * row_bytes;
  RD(rd_cuda_check_free(tables + (size_t)rows * (row_bytes * 2 + sizeof(rd_gather_src)),
                        "bench_gather's tables and matrix"));

  rd_gather_src *src = malloc((size_t)rows * sizeof *src);
  if (!src) return fprintf(stderr, "bench_gather: out of memory\n"), 1;
  rd_rng rng = rd_rng_stream(1, 0, 0);
  for (int64_t i = 0; i < rows; i++)
    src[i] = (rd_gather_src){(int32_t)(i % 3), (int32_t)rd_rng_below(&rng, (uint64_t)table)};
  float *tab, *x, *copy;
  rd_gather_src *dsrc;
  CK(cudaMalloc((void **)&tab, tables));
  CK(cudaMalloc((void **)&x, (size_t)rows * row_bytes));
  CK(cudaMalloc((void **)&copy, (size_t)rows * row_bytes));
  CK(cudaMalloc((void **)&dsrc, (size_t)rows * sizeof *dsrc));
  CK(cudaMemset(tab, 0x3f, tables));
  CK(cudaMemcpy(dsrc, src, (size_t)rows * sizeof *dsrc, cudaMemcpyHostToDevice));
  const float *local = tab, *buffer = tab + (size_t)table * F, *fetched = tab + 2 * (size_t)table * F;

  cudaEvent_t t0, t1;
  CK(cudaEventCreate(&t0));
  CK(cudaEventCreate(&t1));
  float gather_ms, copy_ms;
  RD(rd_cuda_gather_rows(dsrc, rows, F, local, buffer, fetched, x, 0));  // warm-up
  CK(cudaEventRecord(t0, 0));
  for (int it = 0; it < iters; it++) RD(rd_cuda_gather_rows(dsrc, rows, F, local, buffer, fetched, x, 0));
  CK(cudaEventRecord(t1, 0));
  CK(cudaEventSynchronize(t1));
  CK(cudaEventElapsedTime(&gather_ms, t0, t1));
  CK(cudaMemcpyAsync(copy, x, (size_t)rows * row_bytes, cudaMemcpyDeviceToDevice, 0));
  CK(cudaEventRecord(t0, 0));
  for (int it = 0; it < iters; it++)
    CK(cudaMemcpyAsync(copy, x, (size_t)rows * row_bytes, cudaMemcpyDeviceToDevice, 0));
  CK(cudaEventRecord(t1, 0));
  CK(cudaEventSynchronize(t1));
  CK(cudaEventElapsedTime(&copy_ms, t0, t1));

  int clock_khz, bus_bits;
  struct cudaDeviceProp prop;
  CK(cudaGetDeviceProperties(&prop, dev));
  // CUDA 13 dropped memoryClockRate from cudaDeviceProp; the attribute remains.
  CK(cudaDeviceGetAttribute(&clock_khz, cudaDevAttrMemoryClockRate, dev));
  CK(cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, dev));
  const double peak = 2.0 * clock_khz * 1e3 * bus_bits / 8 / 1e9;
  const double moved = (double)rows * (2.0 * (double)row_bytes + sizeof(rd_gather_src)) * iters;
  const double gbps = moved / (gather_ms * 1e-3) / 1e9;
  const double copy_gbps = 2.0 * (double)rows * (double)row_bytes * iters / (copy_ms * 1e-3) / 1e9;
  printf("device=\"%s\" rows=%lld F=%d table_rows=%lld iterations=%d path=%s gather_ms=%.4f "
         "gather_GBps=%.1f peak_GBps=%.1f fraction_of_peak=%.3f memcpy_GBps=%.1f "
         "fraction_of_memcpy=%.3f\n",
         prop.name, (long long)rows, F, (long long)table, iters, F % 4 == 0 ? "float4" : "float",
         gather_ms / iters, gbps, peak, gbps / peak, copy_gbps, gbps / copy_gbps);
  CK(cudaEventDestroy(t0));
  CK(cudaEventDestroy(t1));
  CK(cudaFree(tab));
  CK(cudaFree(x));
  CK(cudaFree(copy));
  CK(cudaFree(dsrc));
  free(src);
  return 0;
}
