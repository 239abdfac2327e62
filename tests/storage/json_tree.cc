#include "tests/storage/json_tree.h"

#include <cstdint>

namespace kq::testing {
namespace {

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  bool Parse(JsonTree* out) {
    Space();
    if (!Value(out, 0)) return false;
    Space();
    return i_ == s_.size();
  }

 private:
  void Space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t'))
      ++i_;
  }
  bool Eat(char c) {
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  static void PutUtf8(uint32_t cp, std::string* out) {
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
  bool Hex4(uint32_t* v) {
    if (i_ + 4 > s_.size()) return false;
    *v = 0;
    for (int k = 0; k < 4; ++k) {
      char c = s_[i_++];
      *v <<= 4;
      if (c >= '0' && c <= '9') {
        *v |= c - '0';
      } else if (c >= 'a' && c <= 'f') {
        *v |= c - 'a' + 10;
      } else if (c >= 'A' && c <= 'F') {
        *v |= c - 'A' + 10;
      } else {
        return false;
      }
    }
    return true;
  }
  bool String(std::string* out) {
    if (!Eat('"')) return false;
    while (i_ < s_.size()) {
      char c = s_[i_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c != '\\') {
        out->push_back(c);
        continue;
      }
      if (i_ >= s_.size()) return false;
      char e = s_[i_++];
      switch (e) {
        case '"':
          out->push_back('"');
          break;
        case '\\':
          out->push_back('\\');
          break;
        case '/':
          out->push_back('/');
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
          if (cp >= 0xD800 && cp < 0xDC00 && i_ + 1 < s_.size() && s_[i_] == '\\' &&
              s_[i_ + 1] == 'u') {
            i_ += 2;
            uint32_t lo;
            if (!Hex4(&lo)) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          PutUtf8(cp, out);
          break;
        }
        default:
          return false;
      }
    }
    return false;
  }
  bool Value(JsonTree* out, int depth) {
    if (depth > 1000 || i_ >= s_.size()) return false;
    char c = s_[i_];
    if (c == '{') {
      ++i_;
      out->kind = JsonTree::Kind::kObject;
      Space();
      if (Eat('}')) return true;
      while (true) {
        Space();
        std::string key;
        if (!String(&key)) return false;
        Space();
        if (!Eat(':')) return false;
        Space();
        JsonTree v;
        if (!Value(&v, depth + 1)) return false;
        if (!out->members.emplace(std::move(key), std::move(v)).second) return false;
        Space();
        if (Eat('}')) return true;
        if (!Eat(',')) return false;
      }
    }
    if (c == '[') {
      ++i_;
      out->kind = JsonTree::Kind::kArray;
      Space();
      if (Eat(']')) return true;
      while (true) {
        Space();
        out->items.emplace_back();
        if (!Value(&out->items.back(), depth + 1)) return false;
        Space();
        if (Eat(']')) return true;
        if (!Eat(',')) return false;
      }
    }
    if (c == '"') {
      out->kind = JsonTree::Kind::kString;
      return String(&out->text);
    }
    for (std::string_view word : {"true", "false", "null"}) {
      if (s_.substr(i_, word.size()) == word) {
        i_ += word.size();
        out->kind = word == "null" ? JsonTree::Kind::kNull : JsonTree::Kind::kBool;
        out->text = word;
        return true;
      }
    }
    size_t start = i_;
    while (i_ < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[i_])) || s_[i_] == '-' ||
                              s_[i_] == '+' || s_[i_] == '.' || s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
    }
    if (start == i_) return false;
    out->kind = JsonTree::Kind::kNumber;
    out->text = s_.substr(start, i_ - start);
    return true;
  }

  std::string_view s_;
  size_t i_ = 0;
};

}  // namespace

std::optional<JsonTree> ParseJsonTree(std::string_view json) {
  JsonTree tree;
  if (!Parser(json).Parse(&tree)) return std::nullopt;
  return tree;
}

std::string JsonTree::DebugString() const {
  switch (kind) {
    case Kind::kNull:
      return "null";
    case Kind::kBool:
    case Kind::kNumber:
      return text;
    case Kind::kString:
      return "\"" + text + "\"";
    case Kind::kArray: {
      std::string s = "[";
      for (size_t i = 0; i < items.size(); ++i) {
        if (i > 0) s.push_back(',');
        s.append(items[i].DebugString());
      }
      return s + "]";
    }
    case Kind::kObject: {
      std::string s = "{";
      bool first = true;
      for (const auto& [k, v] : members) {
        if (!first) s.push_back(',');
        s.push_back('"');
        s.append(k);
        s.append("\":");
        s.append(v.DebugString());
        first = false;
      }
      return s + "}";
    }
  }
  return "";
}

}  // namespace kq::testing
