#include "storage/json_check.h"

#include <cstdint>
#include <vector>

#include "absl/strings/str_cat.h"

namespace kq::storage {
namespace {

class Checker {
 public:
  Checker(std::string_view text, int max_depth)
      : p_(text.data()),
        begin_(text.data()),
        end_(text.data() + text.size()),
        max_depth_(max_depth) {}

  bool Run(std::string* error) {
    SkipSpace();
    if (!Value(0)) {
      *error = absl::StrCat(error_, " at offset ", p_ - begin_);
      return false;
    }
    SkipSpace();
    if (p_ != end_) {
      *error = absl::StrCat("unexpected content after the value at offset ", p_ - begin_);
      return false;
    }
    return true;
  }

 private:
  bool Fail(const char* what) {
    error_ = what;
    return false;
  }
  void SkipSpace() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }
  bool Literal(std::string_view word) {
    if (static_cast<size_t>(end_ - p_) < word.size() || std::string_view(p_, word.size()) != word) {
      return Fail("invalid literal");
    }
    p_ += word.size();
    return true;
  }
  static bool IsDigit(char c) { return c >= '0' && c <= '9'; }
  static bool IsHex(char c) {
    return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  }
  bool Number() {
    if (p_ < end_ && *p_ == '-') ++p_;
    if (p_ >= end_ || !IsDigit(*p_)) return Fail("invalid number");
    if (*p_ == '0') {
      ++p_;
    } else {
      while (p_ < end_ && IsDigit(*p_)) ++p_;
    }
    if (p_ < end_ && *p_ == '.') {
      ++p_;
      if (p_ >= end_ || !IsDigit(*p_)) return Fail("invalid number");
      while (p_ < end_ && IsDigit(*p_)) ++p_;
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ >= end_ || !IsDigit(*p_)) return Fail("invalid number");
      while (p_ < end_ && IsDigit(*p_)) ++p_;
    }
    return true;
  }
  bool String() {
    ++p_;  // opening quote
    while (p_ < end_) {
      unsigned char c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        ++p_;
        return true;
      }
      if (c < 0x20) return Fail("control character in string");
      if (c == '\\') {
        ++p_;
        if (p_ >= end_) break;
        char e = *p_;
        if (e == 'u') {
          if (end_ - p_ < 5) break;
          for (int i = 1; i <= 4; ++i) {
            if (!IsHex(p_[i])) return Fail("invalid \\u escape");
          }
          p_ += 5;
          continue;
        }
        if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' && e != 'n' && e != 'r' &&
            e != 't') {
          return Fail("invalid escape in string");
        }
      }
      ++p_;
    }
    return Fail("unterminated string");
  }
  bool Value(int depth) {
    if (p_ >= end_) return Fail("unexpected end of input");
    switch (*p_) {
      case '{':
        return Object(depth + 1);
      case '[':
        return Array(depth + 1);
      case '"':
        return String();
      case 't':
        return Literal("true");
      case 'f':
        return Literal("false");
      case 'n':
        return Literal("null");
      default:
        return Number();
    }
  }
  bool Object(int depth) {
    if (depth > max_depth_) return Fail("nesting too deep");
    ++p_;
    SkipSpace();
    if (p_ < end_ && *p_ == '}') {
      ++p_;
      return true;
    }
    while (true) {
      SkipSpace();
      if (p_ >= end_ || *p_ != '"') return Fail("expected a string key");
      if (!String()) return false;
      SkipSpace();
      if (p_ >= end_ || *p_ != ':') return Fail("expected ':'");
      ++p_;
      SkipSpace();
      if (!Value(depth)) return false;
      SkipSpace();
      if (p_ >= end_) return Fail("unexpected end of input in object");
      if (*p_ == '}') {
        ++p_;
        return true;
      }
      if (*p_ != ',') return Fail("expected ',' or '}'");
      ++p_;
    }
  }
  bool Array(int depth) {
    if (depth > max_depth_) return Fail("nesting too deep");
    ++p_;
    SkipSpace();
    if (p_ < end_ && *p_ == ']') {
      ++p_;
      return true;
    }
    while (true) {
      SkipSpace();
      if (!Value(depth)) return false;
      SkipSpace();
      if (p_ >= end_) return Fail("unexpected end of input in array");
      if (*p_ == ']') {
        ++p_;
        return true;
      }
      if (*p_ != ',') return Fail("expected ',' or ']'");
      ++p_;
    }
  }

  const char* p_;
  const char* begin_;
  const char* end_;
  int max_depth_;
  const char* error_ = "";
};

}  // namespace

bool CheckJson(std::string_view text, int max_depth, std::string* error) {
  return Checker(text, max_depth).Run(error);
}

}  // namespace kq::storage
