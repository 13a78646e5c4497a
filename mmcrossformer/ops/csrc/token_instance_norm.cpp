// Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
//
// mmcrossformer::token_instance_norm: every channel of every sample
// normalised over the sample's tokens, then scaled and shifted per channel
// (GroupNorm with one group per channel, i.e. instance norm, over tokens
// laid out channels innermost): the CJI's GroupNorm over the 17 joints of a
// frame. CPU, inference only.
//
//   x (B, N, C) float32 or bfloat16, weight and bias (C) float32
//     -> y (B, N, C), x's dtype
//   y = (x - mean) / sqrt(var + eps) * weight + bias
//
// mean and (biased) var of each sample's channel over its N tokens, all in
// float32 and relative to the first token (bfloat16 is widened on load and
// rounded to nearest even on store).
// A vector holds W channels of one token, so the two passes for the mean and
// the variance and the one that writes run over a sample's N x C values
// while they sit in the L1 cache. PyTorch's GroupNorm kernel on this
// channels-last layout is several times slower (docs/benchmark.md).
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/util/BFloat16.h>
#include <torch/library.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>

#include "vectors.h"

namespace {

using namespace mmcrossformer;

// Channels c .. c + W - 1 of one sample: x and y point at channel c of its
// first token, tokens C values apart.
template <int W, typename T>
__attribute__((always_inline)) inline void normalize_channels(
    const T* __restrict x, T* __restrict y, int64_t N, int64_t C,
    const float* weight, const float* bias, float eps) {
  // relative to the first token (exact where the tokens are close, the
  // ill-conditioned case: the mean then carries no rounding of their size)
  const vf<W> first = load<W>(x);
  auto centred = [&](int64_t n) { return load<W>(x + n * C) - first; };
  vf<W> sum = {};
  for (int64_t n = 0; n < N; ++n) sum += centred(n);
  const vf<W> mean = sum / splat<W>(static_cast<float>(N));
  vf<W> squares = {};
  for (int64_t n = 0; n < N; ++n) {
    const vf<W> d = centred(n) - mean;
    squares += d * d;
  }
  const vf<W> var = squares / splat<W>(static_cast<float>(N));
  vf<W> scale;
  for (int l = 0; l < W; ++l) scale[l] = 1.f / std::sqrt(var[l] + eps);
  scale *= load<W>(weight);
  const vf<W> shift = load<W>(bias);
  for (int64_t n = 0; n < N; ++n)
    store<W>(y + n * C, (centred(n) - mean) * scale + shift);
}

// Samples begin .. end - 1: whole vectors of W channels, then the last
// C % W channels one at a time.
template <int W, typename T>
__attribute__((always_inline)) inline void normalize_samples(
    const T* x, T* y, int64_t N, int64_t C, const float* weight,
    const float* bias, float eps, int64_t begin, int64_t end) {
  for (int64_t s = begin; s < end; ++s) {
    const T* xs = x + s * N * C;
    T* ys = y + s * N * C;
    int64_t c = 0;
    for (; c + W <= C; c += W)
      normalize_channels<W>(xs + c, ys + c, N, C, weight + c, bias + c, eps);
    for (; c < C; ++c)
      normalize_channels<1>(xs + c, ys + c, N, C, weight + c, bias + c, eps);
  }
}

template <typename T>
using NormFn = void (*)(const T*, T*, int64_t, int64_t, const float*,
                        const float*, float, int64_t, int64_t);

// One copy per instruction set and dtype (T: float, or uint16_t for the bit
// patterns of bfloat16).
#if defined(__x86_64__) && defined(__GNUC__)
template <typename T>
__attribute__((target("avx512f"))) void normalize_avx512(
    const T* x, T* y, int64_t N, int64_t C, const float* weight,
    const float* bias, float eps, int64_t begin, int64_t end) {
  normalize_samples<16>(x, y, N, C, weight, bias, eps, begin, end);
}
template <typename T>
__attribute__((target("avx2,fma"))) void normalize_avx2(
    const T* x, T* y, int64_t N, int64_t C, const float* weight,
    const float* bias, float eps, int64_t begin, int64_t end) {
  normalize_samples<8>(x, y, N, C, weight, bias, eps, begin, end);
}
#endif
template <typename T>
void normalize_baseline(const T* x, T* y, int64_t N, int64_t C,
                        const float* weight, const float* bias, float eps,
                        int64_t begin, int64_t end) {
  normalize_samples<4>(x, y, N, C, weight, bias, eps, begin, end);
}

// The widest copy the CPU runs (vectors.h).
template <typename T>
NormFn<T> widest_kernel() {
  switch (widest_vector()) {
#if defined(__x86_64__) && defined(__GNUC__)
    case 16:
      return normalize_avx512<T>;
    case 8:
      return normalize_avx2<T>;
#endif
    default:
      return normalize_baseline<T>;
  }
}

template <typename T>
void run(const T* x, T* y, int64_t B, int64_t N, int64_t C,
         const float* weight, const float* bias, float eps) {
  static const NormFn<T> normalize = widest_kernel<T>();
  // about 16 k values per task
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(
                                                        1, N * C));
  at::parallel_for(0, B, grain, [&](int64_t begin, int64_t end) {
    normalize(x, y, N, C, weight, bias, eps, begin, end);
  });
}

at::Tensor token_instance_norm(const at::Tensor& x, const at::Tensor& weight,
                               const at::Tensor& bias, double eps) {
  TORCH_CHECK(x.device().is_cpu() && (x.scalar_type() == at::kFloat ||
                                      x.scalar_type() == at::kBFloat16),
              "token_instance_norm: x must be a float32 or bfloat16 CPU "
              "tensor, got ", x.scalar_type(), " on ", x.device());
  TORCH_CHECK(x.dim() == 3, "token_instance_norm: x must be (samples, "
              "tokens, channels), got ", x.sizes());
  const int64_t B = x.size(0), N = x.size(1), C = x.size(2);
  for (const auto& [name, p] : {std::pair{"weight", &weight},
                                std::pair{"bias", &bias}})
    TORCH_CHECK(p->device().is_cpu() && p->scalar_type() == at::kFloat &&
                    p->dim() == 1 && p->size(0) == C,
                "token_instance_norm: ", name, " must be a float32 CPU "
                "tensor of ", C, " channels, got ", p->scalar_type(), " ",
                p->sizes(), " on ", p->device());
  TORCH_CHECK(eps > 0, "token_instance_norm: eps must be positive, got ",
              eps);
  const at::Tensor src = x.contiguous();
  const at::Tensor w = weight.contiguous(), b = bias.contiguous();
  at::Tensor out = at::empty_like(src);
  if (out.numel() == 0) return out;
  const float e = static_cast<float>(eps);
  if (x.scalar_type() == at::kFloat)
    run(src.data_ptr<float>(), out.data_ptr<float>(), B, N, C,
        w.data_ptr<float>(), b.data_ptr<float>(), e);
  else
    run(reinterpret_cast<const uint16_t*>(src.data_ptr<at::BFloat16>()),
        reinterpret_cast<uint16_t*>(out.data_ptr<at::BFloat16>()), B, N, C,
        w.data_ptr<float>(), b.data_ptr<float>(), e);
  return out;
}

}  // namespace

TORCH_LIBRARY_FRAGMENT(mmcrossformer, m) {
  m.def(
      "token_instance_norm(Tensor x, Tensor weight, Tensor bias, float eps) "
      "-> Tensor");
}

TORCH_LIBRARY_IMPL(mmcrossformer, CPU, m) {
  m.impl("token_instance_norm", &token_instance_norm);
}
