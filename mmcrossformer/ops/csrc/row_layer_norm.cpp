// Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
//
// mmcrossformer::row_layer_norm: LayerNorm over the last dimension of
// narrow rows, the spatial encoder's tokens (32 channels per joint). CPU,
// float32, inference only.
//
//   x (..., C) float32, weight and bias (C) float32 -> y (..., C) float32
//   y = (x - mean) / sqrt(var + eps) * weight + bias
//
// mean and (biased) var of each row, the variance from the centred values
// (two passes over the row while it sits in a register or the L1 cache).
// PyTorch's LayerNorm kernel spends most of its time per row on rows this
// short: 0.6 ms for the 11,016 rows of a chunk of 648 frames at one thread,
// about 13 times a copy of them (docs/benchmark.md).
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <utility>

#include "vectors.h"

namespace {

using namespace mmcrossformer;

// The sum of a vector's W lanes, halving the vector (W a power of two).
template <int W>
__attribute__((always_inline)) inline float lane_sum(vf<W> v) {
  if constexpr (W == 1) {
    return v[0];
  } else {
    vf<W / 2> low, high;
    std::memcpy(&low, &v, sizeof(low));
    std::memcpy(&high, reinterpret_cast<const char*>(&v) + sizeof(low),
                sizeof(high));
    return lane_sum<W / 2>(low + high);
  }
}

// Rows begin .. end - 1 of C values each: whole vectors of W channels, then
// the last C % W channels one at a time.
template <int W>
__attribute__((always_inline)) inline void normalize_rows(
    const float* x, float* y, int64_t C, const float* weight,
    const float* bias, float eps, int64_t begin, int64_t end) {
  const int64_t whole = C - C % W;
  for (int64_t r = begin; r < end; ++r) {
    const float* xr = x + r * C;
    float* yr = y + r * C;
    vf<W> acc = {};
    for (int64_t c = 0; c < whole; c += W) acc += load<W>(xr + c);
    float sum = lane_sum<W>(acc);
    for (int64_t c = whole; c < C; ++c) sum += xr[c];
    const float mean = sum / static_cast<float>(C);
    const vf<W> mean_v = splat<W>(mean);
    vf<W> squares = {};
    for (int64_t c = 0; c < whole; c += W) {
      const vf<W> d = load<W>(xr + c) - mean_v;
      squares += d * d;
    }
    float var = lane_sum<W>(squares);
    for (int64_t c = whole; c < C; ++c)
      var += (xr[c] - mean) * (xr[c] - mean);
    const float rstd = 1.f / std::sqrt(var / static_cast<float>(C) + eps);
    const vf<W> rstd_v = splat<W>(rstd);
    for (int64_t c = 0; c < whole; c += W)
      store<W>(yr + c, (load<W>(xr + c) - mean_v) * rstd_v *
                               load<W>(weight + c) +
                           load<W>(bias + c));
    for (int64_t c = whole; c < C; ++c)
      yr[c] = (xr[c] - mean) * rstd * weight[c] + bias[c];
  }
}

using NormFn = void (*)(const float*, float*, int64_t, const float*,
                        const float*, float, int64_t, int64_t);

// One copy per instruction set.
#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx512f"))) void normalize_avx512(
    const float* x, float* y, int64_t C, const float* weight,
    const float* bias, float eps, int64_t begin, int64_t end) {
  normalize_rows<16>(x, y, C, weight, bias, eps, begin, end);
}
__attribute__((target("avx2,fma"))) void normalize_avx2(
    const float* x, float* y, int64_t C, const float* weight,
    const float* bias, float eps, int64_t begin, int64_t end) {
  normalize_rows<8>(x, y, C, weight, bias, eps, begin, end);
}
#endif
void normalize_baseline(const float* x, float* y, int64_t C,
                        const float* weight, const float* bias, float eps,
                        int64_t begin, int64_t end) {
  normalize_rows<4>(x, y, C, weight, bias, eps, begin, end);
}

// The widest copy the CPU runs (vectors.h).
NormFn widest_kernel() {
  switch (widest_vector()) {
#if defined(__x86_64__) && defined(__GNUC__)
    case 16:
      return normalize_avx512;
    case 8:
      return normalize_avx2;
#endif
    default:
      return normalize_baseline;
  }
}

at::Tensor row_layer_norm(const at::Tensor& x, const at::Tensor& weight,
                          const at::Tensor& bias, double eps) {
  TORCH_CHECK(x.device().is_cpu() && x.scalar_type() == at::kFloat,
              "row_layer_norm: x must be a float32 CPU tensor, got ",
              x.scalar_type(), " on ", x.device());
  TORCH_CHECK(x.dim() >= 1, "row_layer_norm: x must have a channel "
              "dimension, got a scalar");
  const int64_t C = x.size(-1);
  for (const auto& [name, p] : {std::pair{"weight", &weight},
                                std::pair{"bias", &bias}})
    TORCH_CHECK(p->device().is_cpu() && p->scalar_type() == at::kFloat &&
                    p->dim() == 1 && p->size(0) == C,
                "row_layer_norm: ", name, " must be a float32 CPU tensor "
                "of ", C, " channels, got ", p->scalar_type(), " ",
                p->sizes(), " on ", p->device());
  TORCH_CHECK(eps > 0, "row_layer_norm: eps must be positive, got ", eps);
  const at::Tensor src = x.contiguous();
  const at::Tensor w = weight.contiguous(), b = bias.contiguous();
  at::Tensor out = at::empty_like(src);
  if (out.numel() == 0) return out;
  static const NormFn normalize = widest_kernel();
  const int64_t rows = src.numel() / C;
  const float* xp = src.data_ptr<float>();
  float* yp = out.data_ptr<float>();
  const float e = static_cast<float>(eps);
  // about 16 k values per task
  const int64_t grain = std::max<int64_t>(1, 16384 / C);
  at::parallel_for(0, rows, grain, [&](int64_t begin, int64_t end) {
    normalize(xp, yp, C, w.data_ptr<float>(), b.data_ptr<float>(), e, begin,
              end);
  });
  return out;
}

}  // namespace

TORCH_LIBRARY_FRAGMENT(mmcrossformer, m) {
  m.def(
      "row_layer_norm(Tensor x, Tensor weight, Tensor bias, float eps) -> "
      "Tensor");
}

TORCH_LIBRARY_IMPL(mmcrossformer, CPU, m) {
  m.impl("row_layer_norm", &row_layer_norm);
}
