#include "retention/yaml.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status.h"
#include "common/strings.h"
#include "common/time.h"

namespace kq::yaml {

std::shared_ptr<const std::string> Node::EmptySource() {
  static const auto* empty =
      new std::shared_ptr<const std::string>(std::make_shared<const std::string>("<yaml>"));
  return *empty;
}

const Node* Node::Find(std::string_view key) const {
  for (const Entry& e : entries_) {
    if (e.key.scalar_ == key) return &e.value;
  }
  return nullptr;
}

absl::Status Node::Error(std::string_view message) const {
  std::string where = line_ > 0 ? absl::StrCat(*source_, ":", line_, ":", column_, ": ")
                                : absl::StrCat(*source_, ": ");
  if (!path_.empty()) absl::StrAppend(&where, path_, ": ");
  return absl::InvalidArgumentError(absl::StrCat(where, Sv(message)));
}

absl::StatusOr<std::string> Node::String() const {
  if (kind_ != Kind::kScalar) return Error("expected a string");
  return scalar_;
}

absl::StatusOr<bool> Node::Bool() const {
  if (kind_ == Kind::kScalar && !quoted_) {
    if (scalar_ == "true" || scalar_ == "True" || scalar_ == "TRUE") return true;
    if (scalar_ == "false" || scalar_ == "False" || scalar_ == "FALSE") return false;
  }
  return Error("expected true or false");
}

absl::StatusOr<int64_t> Node::Int() const {
  if (kind_ == Kind::kScalar && !quoted_ && !scalar_.empty()) {
    int64_t value = 0;
    const char* end = scalar_.data() + scalar_.size();
    auto [ptr, ec] = std::from_chars(scalar_.data(), end, value);
    if (ec == std::errc() && ptr == end) return value;
  }
  return Error("expected an integer");
}

absl::StatusOr<TimeMicros> Node::Duration() const {
  if (kind_ != Kind::kScalar) return Error("expected a duration such as 7d, 36h or 1d12h");
  absl::StatusOr<TimeMicros> d = ParseDuration(scalar_);
  if (!d.ok()) {
    return Error(
        absl::StrCat("expected a duration such as 7d, 36h or 1d12h, got \"", scalar_, "\""));
  }
  return *d;
}

absl::StatusOr<std::vector<std::string>> Node::StringList() const {
  std::vector<std::string> out;
  if (kind_ == Kind::kNull) return out;
  if (kind_ != Kind::kSequence) return Error("expected a list of strings");
  out.reserve(items_.size());
  for (const Node& item : items_) {
    if (item.kind_ != Kind::kScalar) return item.Error("expected a string");
    out.push_back(item.scalar_);
  }
  return out;
}

absl::Status Node::ExpectMap(std::initializer_list<std::string_view> allowed) const {
  if (kind_ != Kind::kMap) return Error("expected a map");
  for (const Entry& e : entries_) {
    bool known = false;
    for (std::string_view a : allowed) known = known || a == e.key.scalar_;
    if (!known) {
      std::vector<absl::string_view> names;
      for (std::string_view a : allowed) names.push_back(Sv(a));
      return e.key.Error(absl::StrCat("unknown field \"", e.key.scalar_,
                                      "\" (expected one of: ", absl::StrJoin(names, ", "), ")"));
    }
  }
  return absl::OkStatus();
}

Node Node::MakeScalar(std::string text, bool quoted) {
  Node n;
  n.kind_ = Kind::kScalar;
  n.scalar_ = std::move(text);
  n.quoted_ = quoted;
  return n;
}

Node Node::MakeSequence(std::vector<Node> items) {
  Node n;
  n.kind_ = Kind::kSequence;
  n.items_ = std::move(items);
  n.RebasePaths();
  return n;
}

Node Node::MakeMap(std::vector<std::pair<std::string, Node>> entries) {
  Node n;
  n.kind_ = Kind::kMap;
  for (auto& [key, value] : entries) {
    n.entries_.push_back(Entry{MakeScalar(std::move(key)), std::move(value)});
  }
  n.RebasePaths();
  return n;
}

void Node::SetOrigin(std::shared_ptr<const std::string> source, int line, int column,
                     std::string path) {
  source_ = std::move(source);
  line_ = line;
  column_ = column;
  path_ = std::move(path);
  RebasePaths();
}

void Node::RebasePaths() {
  for (size_t i = 0; i < items_.size(); ++i) {
    Node& child = items_[i];
    child.path_ = absl::StrCat(path_, "[", i, "]");
    if (child.line_ == 0) child.source_ = source_;
    child.RebasePaths();
  }
  for (Entry& e : entries_) {
    e.key.path_ = path_;
    e.value.path_ = path_.empty() ? e.key.scalar_ : absl::StrCat(path_, ".", e.key.scalar_);
    if (e.key.line_ == 0) e.key.source_ = source_;
    if (e.value.line_ == 0) e.value.source_ = source_;
    e.value.RebasePaths();
  }
}

// Converts yaml-cpp's node graph into our tree. Paths are built on the way down, so no rebase
// pass is needed.
class Builder {
 public:
  explicit Builder(std::shared_ptr<const std::string> source) : source_(std::move(source)) {}

  [[nodiscard]] absl::Status Convert(const YAML::Node& in, std::string path, int depth, Node* out) {
    if (++nodes_ > kMaxNodes) {
      return Position(in, path, Node())
          .Error(
              absl::StrCat("document too large (more than ", kMaxNodes, " nodes after aliases)"));
    }
    *out = Position(in, std::move(path), Node());
    if (depth > kMaxDepth) return out->Error("nested too deeply");
    switch (in.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        out->kind_ = Kind::kNull;
        return absl::OkStatus();
      case YAML::NodeType::Scalar:
        out->kind_ = Kind::kScalar;
        out->scalar_ = in.Scalar();
        out->quoted_ = in.Tag() == "!";
        return absl::OkStatus();
      case YAML::NodeType::Sequence: {
        out->kind_ = Kind::kSequence;
        out->items_.resize(in.size());
        size_t i = 0;
        for (const YAML::Node& item : in) {
          KQ_RETURN_IF_ERROR(
              Convert(item, absl::StrCat(out->path_, "[", i, "]"), depth + 1, &out->items_[i]));
          ++i;
        }
        return absl::OkStatus();
      }
      case YAML::NodeType::Map: {
        out->kind_ = Kind::kMap;
        out->entries_.reserve(in.size());
        for (const auto& kv : in) {
          Node key = Position(kv.first, out->path_, Node());
          if (!kv.first.IsScalar()) return key.Error("a map key must be a plain string");
          key.kind_ = Kind::kScalar;
          key.scalar_ = kv.first.Scalar();
          key.quoted_ = kv.first.Tag() == "!";
          if (out->Find(key.scalar_) != nullptr) {
            return key.Error(absl::StrCat("duplicate key \"", key.scalar_, "\""));
          }
          std::string child_path =
              out->path_.empty() ? key.scalar_ : absl::StrCat(out->path_, ".", key.scalar_);
          Node value;
          KQ_RETURN_IF_ERROR(Convert(kv.second, std::move(child_path), depth + 1, &value));
          out->entries_.push_back(Node::Entry{std::move(key), std::move(value)});
        }
        return absl::OkStatus();
      }
    }
    return out->Error("unsupported YAML node");
  }

 private:
  Node Position(const YAML::Node& in, std::string path, Node n) const {
    n.source_ = source_;
    YAML::Mark mark = in.Mark();
    if (!mark.is_null()) {
      n.line_ = mark.line + 1;
      n.column_ = mark.column + 1;
    }
    n.path_ = std::move(path);
    return n;
  }

  std::shared_ptr<const std::string> source_;
  size_t nodes_ = 0;
};

absl::StatusOr<Node> Parse(std::string_view text, std::string_view source_name) {
  auto source = std::make_shared<const std::string>(source_name);
  std::vector<YAML::Node> docs;
  // yaml-cpp reports errors by throwing; this is the one place they are caught.
  try {
    docs = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& e) {
    std::string where = *source;
    if (!e.mark.is_null()) absl::StrAppend(&where, ":", e.mark.line + 1, ":", e.mark.column + 1);
    return absl::InvalidArgumentError(absl::StrCat(where, ": invalid YAML: ", e.msg));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(*source, ": invalid YAML: ", e.what()));
  }
  Node root;
  root.SetOrigin(source, 0, 0, "");
  if (docs.empty()) return root;
  if (docs.size() > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(*source, ": expected one YAML document, found ", docs.size()));
  }
  Builder builder(source);
  try {
    KQ_RETURN_IF_ERROR(builder.Convert(docs[0], "", 0, &root));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(*source, ": invalid YAML: ", e.msg));
  }
  return root;
}

absl::StatusOr<Node> ParseFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno;
    std::string msg = absl::StrCat("cannot read ", path, ": ", std::strerror(err));
    if (err == ENOENT) return absl::NotFoundError(msg);
    if (err == EACCES) return absl::PermissionDeniedError(msg);
    return absl::FailedPreconditionError(msg);
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat("error reading ", path));
  return Parse(buf.str(), path);
}

}  // namespace kq::yaml
