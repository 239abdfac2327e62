// Rng: a small, fast, portable pseudo-random generator for the traffic generator.
//
// xoshiro256** seeded through splitmix64, so the same seed gives the same stream on every
// compiler and standard library (std:: distributions are not portable). Not cryptographic.
// Not thread-safe; each Generator owns its own.
#ifndef KQ_TOOLS_GEN_RANDOM_H_
#define KQ_TOOLS_GEN_RANDOM_H_

#include <cmath>
#include <cstdint>

namespace kq::gen {

// splitmix64: one step. Also used to derive independent seeds from one seed.
inline uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class Rng {
 public:
  explicit Rng(uint64_t seed) { Seed(seed); }

  void Seed(uint64_t seed) {
    uint64_t sm = seed;
    for (uint64_t& word : s_) word = SplitMix64(&sm);
  }

  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, n); n > 0. Lemire's multiply-shift (the tiny bias is irrelevant here).
  uint64_t Below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * n) >> 64);
  }

  // Uniform in [lo, hi] (inclusive).
  int64_t Between(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Below(static_cast<uint64_t>(hi - lo) + 1));
  }

  // Uniform in [0, 1).
  double Unit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

  // True with probability p.
  bool Chance(double p) { return Unit() < p; }

  // Exponentially distributed with the given mean.
  double Exponential(double mean) { return -mean * PortableLog(1.0 - Unit()); }

  // Natural logarithm of x > 0 from IEEE basic operations only, so that it gives the same bits
  // with every libm (std::log may differ in the last place between implementations).
  static double PortableLog(double x) {
    int exponent = 0;
    double m = std::frexp(x, &exponent);  // x = m * 2^exponent, m in [0.5, 1): exact
    if (m < 0.7071067811865476) {         // keep m in [sqrt(1/2), sqrt(2)): exact
      m *= 2;
      --exponent;
    }
    // ln(m) = 2 atanh(z) with z = (m - 1) / (m + 1), |z| < 0.18: the series converges fast.
    const double z = (m - 1) / (m + 1);
    const double z2 = z * z;
    double term = z;
    double sum = 0;
    for (int k = 1; k <= 31; k += 2) {
      sum += term / k;
      term *= z2;
    }
    return 2 * sum + exponent * 0.6931471805599453;  // ln 2
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace kq::gen

#endif  // KQ_TOOLS_GEN_RANDOM_H_
