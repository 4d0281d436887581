// Placeholder translation unit of the CUDA backend: proves the toolchain links.
#include <cuda_runtime.h>

extern "C" int rd_cuda_device_count(void) {
  int n = 0;
  return cudaGetDeviceCount(&n) == cudaSuccess ? n : 0;
}
