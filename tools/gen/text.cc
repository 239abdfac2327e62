#include "tools/gen/text.h"

namespace kq::gen {
namespace {

void Append2(int v, std::string* out) {
  out->push_back(static_cast<char>('0' + v / 10));
  out->push_back(static_cast<char>('0' + v % 10));
}

// Howard Hinnant's civil_from_days: days since 1970-01-01 to (year, month, day).
void CivilFromDays(int64_t z, int64_t* y, int* m, int* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2 ? 1 : 0);
}

// Appends "YYYY-MM-DDTHH:MM:SS" and returns the microseconds within the second.
int64_t AppendDateTime(TimeMicros t, std::string* out) {
  int64_t secs = t / kMicrosPerSecond;
  int64_t micros = t % kMicrosPerSecond;
  if (micros < 0) {
    micros += kMicrosPerSecond;
    --secs;
  }
  int64_t days = secs / 86400;
  int64_t sod = secs % 86400;
  if (sod < 0) {
    sod += 86400;
    --days;
  }
  int64_t year;
  int month;
  int day;
  CivilFromDays(days, &year, &month, &day);
  const int y = static_cast<int>(year);
  Append2(y / 100 % 100, out);
  Append2(y % 100, out);
  out->push_back('-');
  Append2(month, out);
  out->push_back('-');
  Append2(day, out);
  out->push_back('T');
  Append2(static_cast<int>(sod / 3600), out);
  out->push_back(':');
  Append2(static_cast<int>(sod / 60 % 60), out);
  out->push_back(':');
  Append2(static_cast<int>(sod % 60), out);
  return micros;
}

constexpr char kHexDigits[] = "0123456789abcdef";

}  // namespace

void AppendUint(uint64_t v, std::string* out) {
  char buf[20];
  int n = 0;
  do {
    buf[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n > 0) out->push_back(buf[--n]);
}

void AppendMicroTime(TimeMicros t, std::string* out) {
  int64_t micros = AppendDateTime(t, out);
  char frac[8] = {'.', '0', '0', '0', '0', '0', '0', 'Z'};
  for (int i = 6; i >= 1; --i) {
    frac[i] = static_cast<char>('0' + micros % 10);
    micros /= 10;
  }
  out->append(frac, 8);
}

void AppendSecondsTime(TimeMicros t, std::string* out) {
  AppendDateTime(t, out);
  out->push_back('Z');
}

void AppendUuid(Rng& rng, std::string* out) {
  uint64_t hi = rng.Next();
  uint64_t lo = rng.Next();
  hi = (hi & ~0xf000ULL) | 0x4000ULL;        // version 4
  lo = (lo & ~(3ULL << 62)) | (2ULL << 62);  // variant 10
  char buf[36];
  int pos = 0;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) buf[pos++] = '-';
    const uint64_t word = i < 16 ? hi : lo;
    const int shift = 60 - 4 * (i % 16);
    buf[pos++] = kHexDigits[(word >> shift) & 0xf];
  }
  out->append(buf, 36);
}

void AppendNameSuffix(Rng& rng, int n, std::string* out) {
  static constexpr char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  for (int i = 0; i < n; ++i) out->push_back(kAlphabet[rng.Below(sizeof(kAlphabet) - 1)]);
}

void AppendHex(Rng& rng, int n, std::string* out) {
  for (int i = 0; i < n; ++i) out->push_back(kHexDigits[rng.Below(16)]);
}

void AppendGoDuration(TimeMicros d, std::string* out) {
  if (d < 0) d = 0;
  auto append_frac = [out](int64_t frac, int digits) {
    char buf[6];
    for (int i = digits - 1; i >= 0; --i) {
      buf[i] = static_cast<char>('0' + frac % 10);
      frac /= 10;
    }
    int len = digits;
    while (len > 0 && buf[len - 1] == '0') --len;
    if (len > 0) {
      out->push_back('.');
      out->append(buf, len);
    }
  };
  if (d == 0) {
    out->append("0s");
  } else if (d < 1000) {
    AppendUint(static_cast<uint64_t>(d), out);
    out->append("µs");
  } else if (d < kMicrosPerSecond) {
    AppendUint(static_cast<uint64_t>(d / 1000), out);
    append_frac(d % 1000, 3);
    out->append("ms");
  } else if (d < kMicrosPerMinute) {
    AppendUint(static_cast<uint64_t>(d / kMicrosPerSecond), out);
    append_frac(d % kMicrosPerSecond, 6);
    out->push_back('s');
  } else {
    if (d >= kMicrosPerHour) {
      AppendUint(static_cast<uint64_t>(d / kMicrosPerHour), out);
      out->push_back('h');
    }
    AppendUint(static_cast<uint64_t>(d / kMicrosPerMinute % 60), out);
    out->push_back('m');
    AppendUint(static_cast<uint64_t>(d / kMicrosPerSecond % 60), out);
    append_frac(d % kMicrosPerSecond, 6);
    out->push_back('s');
  }
}

}  // namespace kq::gen
