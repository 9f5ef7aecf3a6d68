// 64-bit FNV-1a (Fowler/Noll/Vo): tiny, unseeded and the same on every platform and build, so
// what it gives today it gives in any later build for the same bytes. Finding ids and the
// quarantine's record hashes are stored with it. Not a cryptographic hash.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace edi {

inline constexpr uint64_t kFnv1aOffsetBasis = 0xcbf29ce484222325ULL;

// The hash of `bytes`; given the hash of earlier bytes as `h`, that of them all.
inline uint64_t Fnv1a64(std::string_view bytes, uint64_t h = kFnv1aOffsetBasis) {
  for (const char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

// A hash of `bytes` taken eight at a time (little-endian words, then the tail bytes), each
// step `h ^= w; h *= prime; h ^= h >> 29`: a fraction of Fnv1a64's steps, for hashing every
// record. Each step is a bijection of the running value, so bytes that differ in one word
// always hash differently. The same on every platform and build. Not a cryptographic hash.
inline uint64_t ContentHash64(std::string_view bytes) {
  uint64_t h = kFnv1aOffsetBasis ^ bytes.size();
  auto step = [&h](uint64_t w) {
    h ^= w;
    h *= 0x100000001b3ULL;
    h ^= h >> 29;
  };
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t n = bytes.size();
  for (; n >= 8; n -= 8, p += 8) {
    uint64_t w = 0;
    if constexpr (std::endian::native == std::endian::little) {
      std::memcpy(&w, p, sizeof w);  // one load (a byte-wise loop is not merged into one)
    } else {
      for (int i = 7; i >= 0; --i) w = (w << 8) | p[i];
    }
    step(w);
  }
  uint64_t tail = 0;
  for (size_t i = n; i > 0; --i) tail = (tail << 8) | p[i - 1];
  step(tail);
  return h;
}

}  // namespace edi
