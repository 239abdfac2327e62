#include "common/time.h"

#include <cctype>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/strings.h"

namespace kq {
namespace {

// Reads exactly `n` digits at `pos`; false if they are not all digits.
bool ReadDigits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

}  // namespace

absl::StatusOr<TimeMicros> ParseTimestamp(std::string_view text) {
  auto bad = [&] {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid timestamp \"", Sv(text), "\": expected RFC 3339 like 2026-11-01T12:00:00Z"));
  };
  int year, month, day, hour = 0, minute = 0, second = 0;
  if (!ReadDigits(text, 0, 4, &year) || text.size() < 10 || text[4] != '-' ||
      !ReadDigits(text, 5, 2, &month) || text[7] != '-' || !ReadDigits(text, 8, 2, &day)) {
    return bad();
  }
  size_t pos = 10;
  int64_t micros = 0;
  int offset_seconds = 0;
  if (pos < text.size()) {
    if (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' ') return bad();
    if (!ReadDigits(text, pos + 1, 2, &hour) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
        !ReadDigits(text, pos + 4, 2, &minute) || pos + 6 >= text.size() || text[pos + 6] != ':' ||
        !ReadDigits(text, pos + 7, 2, &second)) {
      return bad();
    }
    pos += 9;
    if (pos < text.size() && text[pos] == '.') {
      ++pos;
      int digits = 0;
      while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
        if (digits < 6) micros = micros * 10 + (text[pos] - '0');
        ++digits;
        ++pos;
      }
      if (digits == 0) return bad();
      for (int i = digits; i < 6; ++i) micros *= 10;
    }
    if (pos >= text.size()) return bad();
    if (text[pos] == 'Z' || text[pos] == 'z') {
      ++pos;
    } else if (text[pos] == '+' || text[pos] == '-') {
      int oh, om;
      if (!ReadDigits(text, pos + 1, 2, &oh) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
          !ReadDigits(text, pos + 4, 2, &om)) {
        return bad();
      }
      offset_seconds = (oh * 3600 + om * 60) * (text[pos] == '-' ? -1 : 1);
      pos += 6;
    } else {
      return bad();
    }
    if (pos != text.size()) return bad();
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return bad();
  }
  absl::CivilSecond civil(year, month, day, hour, minute, second);
  if (civil.day() != day) return bad();  // e.g. February 30th normalised away
  absl::Time t = absl::FromCivil(civil, absl::UTCTimeZone());
  return absl::ToUnixMicros(t) + micros - int64_t{offset_seconds} * kMicrosPerSecond;
}

std::string FormatTimestamp(TimeMicros t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::FromUnixMicros(t), absl::UTCTimeZone());
}

absl::StatusOr<TimeMicros> ParseDuration(std::string_view text) {
  auto bad = [&] {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid duration \"", Sv(text), "\": expected a number and a unit (ms, s, m, h, d, w), ",
        "e.g. 30s, 15m, 7d"));
  };
  if (text.empty()) return bad();
  TimeMicros total = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    int64_t n = 0;
    size_t start = pos;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
      if (n > (int64_t{1} << 40)) return bad();
      n = n * 10 + (text[pos++] - '0');
    }
    if (pos == start) return bad();
    std::string_view rest = text.substr(pos);
    TimeMicros unit;
    size_t len = 1;
    if (rest.starts_with("ms")) {
      unit = 1000, len = 2;
    } else if (rest.starts_with("us")) {
      unit = 1, len = 2;
    } else if (rest.starts_with("s")) {
      unit = kMicrosPerSecond;
    } else if (rest.starts_with("m")) {
      unit = kMicrosPerMinute;
    } else if (rest.starts_with("h")) {
      unit = kMicrosPerHour;
    } else if (rest.starts_with("d")) {
      unit = kMicrosPerDay;
    } else if (rest.starts_with("w")) {
      unit = 7 * kMicrosPerDay;
    } else {
      return bad();
    }
    total += n * unit;
    pos += len;
  }
  return total;
}

std::string FormatDuration(TimeMicros d) {
  if (d == 0) return "0s";
  std::string out;
  if (d < 0) {
    out = "-";
    d = -d;
  }
  if (d % kMicrosPerSecond != 0 && d < kMicrosPerSecond) {
    if (d % 1000 == 0) return absl::StrCat(out, d / 1000, "ms");
    return absl::StrCat(out, d, "us");
  }
  struct Unit {
    TimeMicros size;
    const char* name;
  };
  for (Unit u : {Unit{kMicrosPerDay, "d"}, Unit{kMicrosPerHour, "h"}, Unit{kMicrosPerMinute, "m"},
                 Unit{kMicrosPerSecond, "s"}}) {
    if (d >= u.size) {
      absl::StrAppend(&out, d / u.size, u.name);
      d %= u.size;
    }
  }
  if (d >= 1000) absl::StrAppend(&out, d / 1000, "ms");
  return out;
}

}  // namespace kq
