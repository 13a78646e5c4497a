// Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
//
// mmcrossformer::token_major_attention: multi-head self-attention of many
// short sequences (the spatial encoder's: 17 joints, 4 channels per head,
// one sequence per frame), on the CPU, in fp32, inference only.
//
//   qkv (3 * C, N, B) -> (C, N, B)
//
// with C = heads * width channels, N tokens per sequence and B sequences:
// row c * N + n of qkv holds channel c (queries, then keys, then values; head
// h owns channels h * width .. (h + 1) * width - 1 of each) of token n of
// every sequence, the sequences innermost. A vector register holds one value
// of W sequences, so every product, the softmax and the weighted sum run in
// full vectors with no shuffles: per block of W sequences, head and query,
// the N scores, their softmax and the output are a few hundred vector
// instructions on data that stays in the L1 cache. PyTorch's fused kernel
// instead solves one N x N x width problem per sequence and head, far too
// small for its vector loops (docs/benchmark.md).
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "vectors.h"

namespace {

using namespace mmcrossformer;

// exp(x) for x <= 0, per lane: 2^n * p(r) with x = n ln2 + r, |r| <= ln2 / 2,
// p Cephes' degree-7 polynomial for expf (relative error below 2e-7).
template <int W>
__attribute__((always_inline)) inline vf<W> exp_nonpositive(vf<W> x) {
  x = x < splat<W>(-87.f) ? splat<W>(-87.f) : x;  // 2^-126 at most below
  const vf<W> round = splat<W>(12582912.f);        // 1.5 * 2^23
  const vf<W> n = (x * splat<W>(1.44269504088896341f) + round) - round;
  const vf<W> r =
      x - n * splat<W>(0.693359375f) + n * splat<W>(2.12194440e-4f);
  vf<W> p = splat<W>(1.9875691500e-4f);
  p = p * r + splat<W>(1.3981999507e-3f);
  p = p * r + splat<W>(8.3334519073e-3f);
  p = p * r + splat<W>(4.1665795894e-2f);
  p = p * r + splat<W>(1.6666665459e-1f);
  p = p * r + splat<W>(5.0000001201e-1f);
  p = p * r * r + r + splat<W>(1.f);
  vi<W> bits = (__builtin_convertvector(n, vi<W>) + 127) << 23;
  vf<W> scale;
  std::memcpy(&scale, &bits, sizeof(scale));
  return p * scale;
}

// Attention of W sequences: rows of qkv and out are `stride` floats apart,
// the block's first sequence at offset 0 of each. `scores` holds N vectors.
// WIDTH > 0 fixes the head width at compile time (the loops over a head's
// channels then unroll and its queries stay in registers); 0 takes `width`.
template <int W, int WIDTH>
__attribute__((always_inline)) inline void attend_block(
    const float* __restrict qkv, float* __restrict out, int64_t stride,
    int64_t N, int64_t heads, int64_t any_width, vf<W>* __restrict scores) {
  const int64_t width = WIDTH > 0 ? WIDTH : any_width;
  const int64_t C = heads * width;
  const float scale = 1.f / std::sqrt(static_cast<float>(width));
  auto row = [&](int64_t channel, int64_t token) {
    return load<W>(qkv + (channel * N + token) * stride);
  };
  for (int64_t h = 0; h < heads; ++h) {
    const int64_t q0 = h * width, k0 = C + h * width, v0 = 2 * C + h * width;
    for (int64_t i = 0; i < N; ++i) {
      vf<W> top = splat<W>(-INFINITY);
      for (int64_t j = 0; j < N; ++j) {
        vf<W> s = {};
        for (int64_t d = 0; d < width; ++d)
          s += row(q0 + d, i) * row(k0 + d, j);
        scores[j] = s * scale;
        top = top > scores[j] ? top : scores[j];
      }
      vf<W> sum = {};
      for (int64_t j = 0; j < N; ++j) {
        scores[j] = exp_nonpositive<W>(scores[j] - top);
        sum += scores[j];
      }
      const vf<W> inv = 1.f / sum;
      for (int64_t d = 0; d < width; ++d) {
        vf<W> o = {};
        for (int64_t j = 0; j < N; ++j) o += scores[j] * row(v0 + d, j);
        store<W>(out + ((q0 + d) * N + i) * stride, o * inv);
      }
    }
  }
}

// Blocks begin .. end - 1 of W sequences each.
template <int W>
__attribute__((always_inline)) inline void attend_blocks(
    const float* qkv, float* out, int64_t stride, int64_t N, int64_t heads,
    int64_t width, int64_t begin, int64_t end) {
  std::vector<float> scores(N * W);
  auto* s = reinterpret_cast<vf<W>*>(scores.data());
  for (int64_t b = begin; b < end; ++b) {
    if (width == 4)  // the spatial encoder's heads (32 channels, 8 heads)
      attend_block<W, 4>(qkv + b * W, out + b * W, stride, N, heads, 4, s);
    else
      attend_block<W, 0>(qkv + b * W, out + b * W, stride, N, heads, width,
                         s);
  }
}

using BlocksFn = void (*)(const float*, float*, int64_t, int64_t, int64_t,
                          int64_t, int64_t, int64_t);

// One copy per instruction set; the widest the CPU runs is chosen at run
// time.
#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx512f"))) void attend_blocks_avx512(
    const float* qkv, float* out, int64_t stride, int64_t N, int64_t heads,
    int64_t width, int64_t begin, int64_t end) {
  attend_blocks<16>(qkv, out, stride, N, heads, width, begin, end);
}
__attribute__((target("avx2,fma"))) void attend_blocks_avx2(
    const float* qkv, float* out, int64_t stride, int64_t N, int64_t heads,
    int64_t width, int64_t begin, int64_t end) {
  attend_blocks<8>(qkv, out, stride, N, heads, width, begin, end);
}
#endif
void attend_blocks_baseline(const float* qkv, float* out, int64_t stride,
                            int64_t N, int64_t heads, int64_t width,
                            int64_t begin, int64_t end) {
  attend_blocks<4>(qkv, out, stride, N, heads, width, begin, end);
}

// The widest copy the CPU runs (vectors.h).
std::pair<BlocksFn, int64_t> widest_kernel() {
  switch (widest_vector()) {
#if defined(__x86_64__) && defined(__GNUC__)
    case 16:
      return {attend_blocks_avx512, 16};
    case 8:
      return {attend_blocks_avx2, 8};
#endif
    default:
      return {attend_blocks_baseline, 4};
  }
}

at::Tensor token_major_attention(const at::Tensor& qkv, int64_t heads) {
  TORCH_CHECK(qkv.device().is_cpu() && qkv.scalar_type() == at::kFloat,
              "token_major_attention: qkv must be a float32 CPU tensor, got ",
              qkv.scalar_type(), " on ", qkv.device());
  TORCH_CHECK(qkv.dim() == 3, "token_major_attention: qkv must be "
              "(3 * channels, tokens, sequences), got ", qkv.sizes());
  TORCH_CHECK(heads > 0 && qkv.size(0) % (3 * heads) == 0,
              "token_major_attention: ", qkv.size(0), " rows are not 3 x ",
              heads, " heads of equal width");
  const int64_t N = qkv.size(1), B = qkv.size(2);
  const int64_t C = qkv.size(0) / 3, width = C / heads;
  const at::Tensor src = qkv.contiguous();
  at::Tensor out = at::empty({C, N, B}, qkv.options());
  if (out.numel() == 0) return out;
  const float* in = src.data_ptr<float>();
  float* res = out.data_ptr<float>();
  static const auto [blocks_fn, W] = widest_kernel();
  // whole blocks of W sequences in parallel, then the last B % W through a
  // zero-padded copy
  at::parallel_for(0, B / W, 1, [&](int64_t begin, int64_t end) {
    blocks_fn(in, res, B, N, heads, width, begin, end);
  });
  if (const int64_t tail = B % W, start = B - tail; tail) {
    at::Tensor pad_in = at::zeros({3 * C * N, W}, qkv.options());
    at::Tensor pad_out = at::empty({C * N, W}, qkv.options());
    float* pi = pad_in.data_ptr<float>();
    float* po = pad_out.data_ptr<float>();
    for (int64_t r = 0; r < 3 * C * N; ++r)
      std::memcpy(pi + r * W, in + r * B + start, tail * sizeof(float));
    blocks_fn(pi, po, W, N, heads, width, 0, 1);
    for (int64_t r = 0; r < C * N; ++r)
      std::memcpy(res + r * B + start, po + r * W, tail * sizeof(float));
  }
  return out;
}

}  // namespace

TORCH_LIBRARY_FRAGMENT(mmcrossformer, m) {
  m.def("token_major_attention(Tensor qkv, int heads) -> Tensor");
}

TORCH_LIBRARY_IMPL(mmcrossformer, CPU, m) {
  m.impl("token_major_attention", &token_major_attention);
}
