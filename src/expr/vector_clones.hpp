// The evaluator's loops compiled twice, for AVX2 and for baseline x86-64, the copy to run picked
// once when the program loads (GCC's function multiversioning). AVX2 without FMA: every operation
// rounds as the baseline copy's does, so both give the same bits.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define TESSERA_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define TESSERA_VECTOR_CLONES
#endif
