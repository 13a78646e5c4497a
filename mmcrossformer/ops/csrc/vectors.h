// Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
//
// Vectors of W floats (GCC/Clang vector extensions) shared by the kernels of
// mmcrossformer.ops, and the choice of the widest the CPU runs. Every kernel
// is written once as a template over W and compiled three times: W = 16
// (AVX-512), 8 (AVX2 + FMA) and 4 (any CPU).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

namespace mmcrossformer {

// A vector of W floats, ints or bfloat16 bit patterns, loaded and stored
// unaligned, aliasing plain values.
template <int W>
struct Vectors {
  typedef float f __attribute__((vector_size(W * 4), aligned(4), may_alias));
  typedef int32_t i
      __attribute__((vector_size(W * 4), aligned(4), may_alias));
  typedef uint32_t u
      __attribute__((vector_size(W * 4), aligned(4), may_alias));
  typedef uint16_t h
      __attribute__((vector_size(W * 2), aligned(2), may_alias));
};
template <int W>
using vf = typename Vectors<W>::f;
template <int W>
using vi = typename Vectors<W>::i;
template <int W>
using vu = typename Vectors<W>::u;
template <int W>
using vh = typename Vectors<W>::h;

template <int W>
__attribute__((always_inline)) inline vf<W> splat(float x) {
  return vf<W>{} + x;
}

template <int W>
__attribute__((always_inline)) inline vf<W> load(const float* p) {
  vf<W> v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

template <int W>
__attribute__((always_inline)) inline void store(float* p, vf<W> v) {
  std::memcpy(p, &v, sizeof(v));
}

// bfloat16 (as its bit pattern) -> float: exact.
template <int W>
__attribute__((always_inline)) inline vf<W> load(const uint16_t* p) {
  vh<W> half;
  std::memcpy(&half, p, sizeof(half));
  const vu<W> bits = __builtin_convertvector(half, vu<W>) << 16;
  vf<W> v;
  std::memcpy(&v, &bits, sizeof(v));
  return v;
}

// float -> bfloat16, rounded to nearest even, NaN kept (as c10::BFloat16).
template <int W>
__attribute__((always_inline)) inline void store(uint16_t* p, vf<W> v) {
  vu<W> bits;
  std::memcpy(&bits, &v, sizeof(bits));
  const vu<W> rounded = (bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16;
  const vu<W> nan = vu<W>{} + 0x7FC0u;
  const vh<W> half = __builtin_convertvector(v != v ? nan : rounded, vh<W>);
  std::memcpy(p, &half, sizeof(half));
}

// The widest vector (16, 8 or 4 floats) the CPU runs, at most the one
// PyTorch's ATEN_CPU_CAPABILITY allows ("avx512", "avx2" or "default"), as
// PyTorch's own kernels.
inline int widest_vector() {
#if defined(__x86_64__) && defined(__GNUC__)
  const char* env = std::getenv("ATEN_CPU_CAPABILITY");
  const std::string cap = env ? env : "avx512";
  if (cap == "avx512" && __builtin_cpu_supports("avx512f")) return 16;
  if (cap != "default" && __builtin_cpu_supports("avx2") &&
      __builtin_cpu_supports("fma"))
    return 8;
#endif
  return 4;
}

}  // namespace mmcrossformer
