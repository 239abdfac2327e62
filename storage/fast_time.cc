#include "storage/fast_time.h"

#include <cstdint>

namespace kq::storage {
namespace {

// Howard Hinnant's days_from_civil / civil_from_days (public domain algorithms).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

bool Digits(const char* p, int n, unsigned* out) {
  unsigned v = 0;
  for (int i = 0; i < n; ++i) {
    unsigned c = static_cast<unsigned char>(p[i]) - '0';
    if (c > 9) return false;
    v = v * 10 + c;
  }
  *out = v;
  return true;
}

void PutDigits(char* p, int n, unsigned v) {
  for (int i = n - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
}

unsigned DaysInMonth(int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

}  // namespace

bool ParseCanonicalTimestamp(std::string_view s, TimeMicros* t) {
  if (s.size() != kCanonicalTimestampSize || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
      s[13] != ':' || s[16] != ':' || s[19] != '.' || s[26] != 'Z') {
    return false;
  }
  unsigned y, mo, d, h, mi, sec, us;
  const char* p = s.data();
  if (!Digits(p, 4, &y) || !Digits(p + 5, 2, &mo) || !Digits(p + 8, 2, &d) ||
      !Digits(p + 11, 2, &h) || !Digits(p + 14, 2, &mi) || !Digits(p + 17, 2, &sec) ||
      !Digits(p + 20, 6, &us)) {
    return false;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > DaysInMonth(y, mo) || h > 23 || mi > 59 || sec > 59) {
    return false;
  }
  int64_t days = DaysFromCivil(y, mo, d);
  *t = ((days * 24 + h) * 60 + mi) * 60 * kMicrosPerSecond + sec * kMicrosPerSecond + us;
  return true;
}

bool FormatCanonicalTimestamp(TimeMicros t, char out[kCanonicalTimestampSize]) {
  int64_t days = t / kMicrosPerDay;
  int64_t rem = t % kMicrosPerDay;
  if (rem < 0) {
    rem += kMicrosPerDay;
    --days;
  }
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  if (y < 0 || y > 9999) return false;
  unsigned secs = static_cast<unsigned>(rem / kMicrosPerSecond);
  unsigned us = static_cast<unsigned>(rem % kMicrosPerSecond);
  PutDigits(out, 4, static_cast<unsigned>(y));
  out[4] = '-';
  PutDigits(out + 5, 2, m);
  out[7] = '-';
  PutDigits(out + 8, 2, d);
  out[10] = 'T';
  PutDigits(out + 11, 2, secs / 3600);
  out[13] = ':';
  PutDigits(out + 14, 2, secs / 60 % 60);
  out[16] = ':';
  PutDigits(out + 17, 2, secs % 60);
  out[19] = '.';
  PutDigits(out + 20, 6, us);
  out[26] = 'Z';
  return true;
}

bool IsCanonicalTimestamp(std::string_view text, TimeMicros t) {
  // ParseCanonicalTimestamp accepts exactly the texts FormatCanonicalTimestamp writes (valid
  // fields only, one text per time), so parsing and comparing times is the same test as
  // formatting and comparing texts, and cheaper (no divisions).
  TimeMicros parsed;
  return ParseCanonicalTimestamp(text, &parsed) && parsed == t;
}

}  // namespace kq::storage
