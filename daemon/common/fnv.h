// 64-bit FNV-1a (Fowler/Noll/Vo): tiny, unseeded and the same on every platform and build, so
// what it gives today it gives in any later build for the same bytes. Finding ids and the
// quarantine's record hashes are stored with it. Not a cryptographic hash.
#pragma once

#include <cstdint>
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

}  // namespace edi
