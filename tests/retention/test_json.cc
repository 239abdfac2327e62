#include "tests/retention/test_json.h"

#include <cstdlib>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace kq::testing {
namespace {

class Reader {
 public:
  explicit Reader(std::string_view text) : text_(text) {}

  absl::StatusOr<Json> Document() {
    Json v;
    if (!Value(&v, 0)) return Failure();
    Space();
    if (pos_ != text_.size()) return Fail("trailing characters");
    return v;
  }

 private:
  absl::Status Failure() const {
    return absl::InvalidArgumentError(absl::StrCat("JSON: ", error_, " at offset ", pos_));
  }
  absl::Status Fail(std::string what) {
    error_ = std::move(what);
    return Failure();
  }
  bool Error(std::string what) {
    error_ = std::move(what);
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

  static void AppendUtf8(std::string* out, unsigned cp) {
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

  bool Hex4(unsigned* cp) {
    if (pos_ + 4 > text_.size()) return Error("short \\u escape");
    *cp = 0;
    for (int i = 0; i < 4; ++i) {
      char c = text_[pos_++];
      *cp <<= 4;
      if (c >= '0' && c <= '9')
        *cp |= c - '0';
      else if (c >= 'a' && c <= 'f')
        *cp |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F')
        *cp |= c - 'A' + 10;
      else
        return Error("bad \\u escape");
    }
    return true;
  }

  bool String(std::string* out) {
    ++pos_;  // opening quote
    while (pos_ < text_.size()) {
      char c = text_[pos_++];
      if (c == '"') return true;
      if (c != '\\') {
        out->push_back(c);
        continue;
      }
      if (pos_ >= text_.size()) break;
      char e = text_[pos_++];
      switch (e) {
        case 'n':
          out->push_back('\n');
          break;
        case 't':
          out->push_back('\t');
          break;
        case 'r':
          out->push_back('\r');
          break;
        case 'b':
          out->push_back('\b');
          break;
        case 'f':
          out->push_back('\f');
          break;
        case 'u': {
          unsigned cp;
          if (!Hex4(&cp)) return false;
          if (cp >= 0xD800 && cp < 0xDC00 && text_.substr(pos_, 2) == "\\u") {
            pos_ += 2;
            unsigned lo;
            if (!Hex4(&lo)) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          AppendUtf8(out, cp);
          break;
        }
        default:
          out->push_back(e);
      }
    }
    return Error("unterminated string");
  }

  bool Value(Json* v, int depth) {
    if (depth > 100) return Error("nested too deeply");
    Space();
    if (pos_ >= text_.size()) return Error("unexpected end");
    size_t start = pos_;
    char c = text_[pos_];
    bool ok = true;
    if (c == '{') {
      v->kind = Json::Kind::kObject;
      ++pos_;
      if (!Eat('}')) {
        do {
          Space();
          if (pos_ >= text_.size() || text_[pos_] != '"') return Error("expected a key");
          std::string key;
          if (!String(&key)) return false;
          if (!Eat(':')) return Error("expected ':'");
          Json member;
          if (!Value(&member, depth + 1)) return false;
          v->members.emplace_back(std::move(key), std::move(member));
        } while (Eat(','));
        if (!Eat('}')) return Error("expected '}'");
      }
    } else if (c == '[') {
      v->kind = Json::Kind::kArray;
      ++pos_;
      if (!Eat(']')) {
        do {
          Json item;
          if (!Value(&item, depth + 1)) return false;
          v->items.push_back(std::move(item));
        } while (Eat(','));
        if (!Eat(']')) return Error("expected ']'");
      }
    } else if (c == '"') {
      v->kind = Json::Kind::kString;
      ok = String(&v->str);
    } else if (c == 't' || c == 'f') {
      v->kind = Json::Kind::kBool;
      v->boolean = c == 't';
      ok = Literal(c == 't' ? "true" : "false");
    } else if (c == 'n') {
      ok = Literal("null");
    } else {
      v->kind = Json::Kind::kNumber;
      std::string digits;
      while (pos_ < text_.size() &&
             std::string_view("+-.eE0123456789").find(text_[pos_]) != std::string_view::npos) {
        digits.push_back(text_[pos_++]);
      }
      if (digits.empty()) return Error("unexpected character");
      v->number = std::strtod(digits.c_str(), nullptr);
    }
    if (ok) v->raw = std::string(text_.substr(start, pos_ - start));
    return ok;
  }

  std::string_view text_;
  size_t pos_ = 0;
  std::string error_;
};

}  // namespace

const Json* Json::Find(std::string_view key) const {
  for (const auto& [k, v] : members) {
    if (k == key) return &v;
  }
  return nullptr;
}

const Json& Json::operator[](std::string_view key) const {
  static const Json* null_value = new Json();
  const Json* v = Find(key);
  return v != nullptr ? *v : *null_value;
}

std::vector<std::string> Json::Strings() const {
  std::vector<std::string> out;
  for (const Json& item : items) {
    if (item.kind == Kind::kString) out.push_back(item.str);
  }
  return out;
}

absl::StatusOr<Json> ParseJson(std::string_view text) { return Reader(text).Document(); }

}  // namespace kq::testing
