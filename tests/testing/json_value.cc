#include "tests/testing/json_value.h"

#include <cstdint>
#include <cstdlib>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace kq::testing {
namespace {

constexpr int kMaxDepth = 1000;

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  absl::StatusOr<JsonValue> Document() {
    JsonValue v;
    if (!Value(&v, 0)) return Failure();
    Space();
    if (pos_ != text_.size()) {
      error_ = "trailing characters";
      return Failure();
    }
    return v;
  }

 private:
  absl::Status Failure() const {
    return absl::InvalidArgumentError(absl::StrCat("JSON: ", error_, " at offset ", pos_));
  }
  bool Error(const char* what) {
    error_ = what;
    return false;
  }
  void Space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' ||
                                   text_[pos_] == '\r' || text_[pos_] == '\t')) {
      ++pos_;
    }
  }
  bool Eat(char c) {
    Space();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool Literal(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return Error("bad literal");
    pos_ += word.size();
    return true;
  }
  bool Hex4(uint32_t* cp) {
    if (pos_ + 4 > text_.size()) return Error("short \\u escape");
    *cp = 0;
    for (int i = 0; i < 4; ++i) {
      char c = text_[pos_++];
      *cp <<= 4;
      if (IsDigit(c)) {
        *cp |= static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        *cp |= static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        *cp |= static_cast<uint32_t>(c - 'A' + 10);
      } else {
        return Error("bad \\u escape");
      }
    }
    return true;
  }

  bool String(std::string* out) {
    ++pos_;  // the opening quote
    while (pos_ < text_.size()) {
      char c = text_[pos_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return Error("control character in a string");
      if (c != '\\') {
        out->push_back(c);
        continue;
      }
      if (pos_ >= text_.size()) break;
      char e = text_[pos_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out->push_back(e);
          break;
        case 'b':
          out->push_back('\b');
          break;
        case 'f':
          out->push_back('\f');
          break;
        case 'n':
          out->push_back('\n');
          break;
        case 'r':
          out->push_back('\r');
          break;
        case 't':
          out->push_back('\t');
          break;
        case 'u': {
          uint32_t cp;
          if (!Hex4(&cp)) return false;
          // A surrogate pair is one code point; a lone surrogate is valid JSON syntax and is
          // kept as its 3-byte encoding.
          if (cp >= 0xD800 && cp < 0xDC00 && text_.substr(pos_, 2) == "\\u") {
            size_t save = pos_;
            pos_ += 2;
            uint32_t lo;
            if (!Hex4(&lo)) return false;
            if (lo >= 0xDC00 && lo < 0xE000) {
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else {
              pos_ = save;
            }
          }
          AppendUtf8(cp, out);
          break;
        }
        default:
          return Error("bad escape");
      }
    }
    return Error("unterminated string");
  }

  bool Number(JsonValue* v) {
    size_t start = pos_;
    if (pos_ < text_.size() && text_[pos_] == '-') ++pos_;
    size_t digits = pos_;
    while (pos_ < text_.size() && IsDigit(text_[pos_])) ++pos_;
    if (pos_ == digits) return Error("unexpected character");
    if (text_[digits] == '0' && pos_ - digits > 1) return Error("leading zero");
    if (pos_ < text_.size() && text_[pos_] == '.') {
      size_t frac = ++pos_;
      while (pos_ < text_.size() && IsDigit(text_[pos_])) ++pos_;
      if (pos_ == frac) return Error("no digits after '.'");
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      size_t exp = pos_;
      while (pos_ < text_.size() && IsDigit(text_[pos_])) ++pos_;
      if (pos_ == exp) return Error("no digits in the exponent");
    }
    v->kind = JsonValue::Kind::kNumber;
    v->number = std::strtod(std::string(text_.substr(start, pos_ - start)).c_str(), nullptr);
    return true;
  }

  bool Object(JsonValue* v, int depth) {
    v->kind = JsonValue::Kind::kObject;
    ++pos_;
    if (Eat('}')) return true;
    do {
      Space();
      if (pos_ >= text_.size() || text_[pos_] != '"') return Error("expected a key");
      std::string key;
      if (!String(&key)) return false;
      if (v->Find(key) != nullptr) return Error("duplicate key");
      if (!Eat(':')) return Error("expected ':'");
      JsonValue member;
      if (!Value(&member, depth + 1)) return false;
      v->members.emplace_back(std::move(key), std::move(member));
    } while (Eat(','));
    return Eat('}') || Error("expected '}'");
  }

  bool Array(JsonValue* v, int depth) {
    v->kind = JsonValue::Kind::kArray;
    ++pos_;
    if (Eat(']')) return true;
    do {
      JsonValue item;
      if (!Value(&item, depth + 1)) return false;
      v->items.push_back(std::move(item));
    } while (Eat(','));
    return Eat(']') || Error("expected ']'");
  }

  bool Value(JsonValue* v, int depth) {
    if (depth > kMaxDepth) return Error("nested too deeply");
    Space();
    if (pos_ >= text_.size()) return Error("unexpected end");
    size_t start = pos_;
    char c = text_[pos_];
    bool ok;
    if (c == '{') {
      ok = Object(v, depth);
    } else if (c == '[') {
      ok = Array(v, depth);
    } else if (c == '"') {
      v->kind = JsonValue::Kind::kString;
      ok = String(&v->str);
    } else if (c == 't' || c == 'f') {
      v->kind = JsonValue::Kind::kBool;
      v->boolean = c == 't';
      ok = Literal(c == 't' ? "true" : "false");
    } else if (c == 'n') {
      ok = Literal("null");
    } else {
      ok = Number(v);
    }
    if (ok) v->raw = std::string(text_.substr(start, pos_ - start));
    return ok;
  }

  std::string_view text_;
  size_t pos_ = 0;
  std::string error_;
};

void AppendQuoted(std::string_view s, std::string* out) {
  out->push_back('"');
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppend(out, absl::StrFormat("\\u%04x", c));
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}

void AppendDebug(const JsonValue& v, std::string* out) {
  switch (v.kind) {
    case JsonValue::Kind::kNull:
      absl::StrAppend(out, "null");
      return;
    case JsonValue::Kind::kBool:
      absl::StrAppend(out, v.boolean ? "true" : "false");
      return;
    case JsonValue::Kind::kNumber:
      absl::StrAppend(out, v.raw);
      return;
    case JsonValue::Kind::kString:
      AppendQuoted(v.str, out);
      return;
    case JsonValue::Kind::kArray:
      out->push_back('[');
      for (size_t i = 0; i < v.items.size(); ++i) {
        if (i > 0) out->push_back(',');
        AppendDebug(v.items[i], out);
      }
      out->push_back(']');
      return;
    case JsonValue::Kind::kObject:
      out->push_back('{');
      for (size_t i = 0; i < v.members.size(); ++i) {
        if (i > 0) out->push_back(',');
        AppendQuoted(v.members[i].first, out);
        out->push_back(':');
        AppendDebug(v.members[i].second, out);
      }
      out->push_back('}');
      return;
  }
}

}  // namespace

const JsonValue* JsonValue::Find(std::string_view key) const {
  for (const auto& [k, v] : members) {
    if (k == key) return &v;
  }
  return nullptr;
}

const JsonValue& JsonValue::operator[](std::string_view key) const {
  static const JsonValue* null_value = new JsonValue();
  const JsonValue* v = Find(key);
  return v != nullptr ? *v : *null_value;
}

std::string_view JsonValue::Str(std::string_view key) const {
  const JsonValue* v = Find(key);
  return v != nullptr && v->kind == Kind::kString ? std::string_view(v->str) : "";
}

std::vector<std::string> JsonValue::Strings() const {
  std::vector<std::string> out;
  for (const JsonValue& item : items) {
    if (item.kind == Kind::kString) out.push_back(item.str);
  }
  return out;
}

bool JsonValue::operator==(const JsonValue& other) const {
  if (kind != other.kind) return false;
  switch (kind) {
    case Kind::kNull:
      return true;
    case Kind::kBool:
      return boolean == other.boolean;
    case Kind::kNumber:
      return raw == other.raw;
    case Kind::kString:
      return str == other.str;
    case Kind::kArray:
      return items == other.items;
    case Kind::kObject:
      if (members.size() != other.members.size()) return false;
      for (const auto& [key, value] : members) {
        const JsonValue* theirs = other.Find(key);
        if (theirs == nullptr || !(value == *theirs)) return false;
      }
      return true;
  }
  return false;
}

std::string JsonValue::DebugString() const {
  std::string out;
  AppendDebug(*this, &out);
  return out;
}

absl::StatusOr<JsonValue> ParseJson(std::string_view text) { return Parser(text).Document(); }

void PrintTo(const JsonValue& value, std::ostream* os) { *os << value.DebugString(); }

}  // namespace kq::testing
