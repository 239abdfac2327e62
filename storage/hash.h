// Hash64: the stable 64-bit hash kq stores on disk (Bloom filters, dedupe keys): FNV-1a-style
// mixing over 8-byte little-endian words, then the remaining bytes one by one, then
// MurmurHash3's fmix64 finaliser. Stored on disk: never change its output.
// Thread-safe (pure function).
#ifndef KQ_STORAGE_HASH_H_
#define KQ_STORAGE_HASH_H_

#include <cstdint>
#include <cstring>
#include <string_view>

namespace kq::storage {

inline uint64_t Hash64(std::string_view bytes, uint64_t seed = 0xcbf29ce484222325ull) {
  constexpr uint64_t kPrime = 0x100000001b3ull;
  uint64_t h = seed ^ bytes.size();
  const char* p = bytes.data();
  size_t n = bytes.size();
  while (n >= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);  // little-endian hosts only (x86-64, arm64)
    h = (h ^ word) * kPrime;
    h ^= h >> 29;
    p += 8;
    n -= 8;
  }
  while (n > 0) {
    h = (h ^ static_cast<unsigned char>(*p++)) * kPrime;
    --n;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

}  // namespace kq::storage

#endif  // KQ_STORAGE_HASH_H_
