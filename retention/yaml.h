// A small YAML document tree, and typed accessors whose errors point at the offending line.
//
// kq reads YAML in two places: audit Policy files (retention/policy.h) and the kqd config file
// (server). yaml-cpp is included only in retention/yaml.cc; everything else sees this tree.
//
//   KQ_ASSIGN_OR_RETURN(yaml::Node root, yaml::ParseFile("/etc/kq/policy.yaml"));
//   const yaml::Node* rules = root.Find("rules");
//   KQ_ASSIGN_OR_RETURN(auto verbs, rule.Get("verbs")->StringList());
//   // on error: "policy.yaml:12:5: rules[3].verbs: expected a list of strings"
//
// A Node is a plain value (maps, sequences and scalars own their children) that also remembers
// where it was read: the source name, 1-based line and column, and its path from the root
// ("rules[3].verbs"). Anchors and aliases are expanded (the expansion is bounded, see
// kMaxNodes). Map keys must be scalars and must not repeat. Nodes are immutable after parsing
// and safe to read from several threads.
#ifndef KQ_RETENTION_YAML_H_
#define KQ_RETENTION_YAML_H_

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/clock.h"

namespace kq::yaml {

// Parsing limits: a document bigger than this (after alias expansion) or nested deeper is
// refused with InvalidArgument rather than exhausting memory or the stack.
inline constexpr size_t kMaxNodes = 1'000'000;
inline constexpr int kMaxDepth = 200;

enum class Kind { kNull, kScalar, kSequence, kMap };

class Node {
 public:
  // One `key: value` pair of a map, in document order. `key` is a scalar node (it carries the
  // key's own line and column).
  struct Entry;

  Node() = default;

  Kind kind() const { return kind_; }
  bool IsNull() const { return kind_ == Kind::kNull; }
  bool IsScalar() const { return kind_ == Kind::kScalar; }
  bool IsSequence() const { return kind_ == Kind::kSequence; }
  bool IsMap() const { return kind_ == Kind::kMap; }

  // Where the node was read. Line and column are 1-based (0 for nodes of an empty document).
  const std::string& source() const { return *source_; }
  int line() const { return line_; }
  int column() const { return column_; }
  // "rules[3].verbs"; "" for the root.
  const std::string& path() const { return path_; }

  // Scalar text as written (quotes removed, escapes resolved). "" for non-scalars.
  const std::string& scalar() const { return scalar_; }
  // True when the scalar was quoted ('x' or "x") or a block scalar: then "null", "true" or "7"
  // are strings, never null, booleans or numbers.
  bool quoted() const { return quoted_; }

  // Sequence items; empty for other kinds.
  const std::vector<Node>& items() const { return items_; }
  // Map entries in document order; empty for other kinds.
  const std::vector<Entry>& entries() const { return entries_; }
  // The value under `key` of a map, or nullptr (also for non-maps).
  const Node* Find(std::string_view key) const;

  // "<source>:<line>:<column>: <path>: <message>" (the path part is left out for the root).
  [[nodiscard]] absl::Status Error(std::string_view message) const;

  // Typed views. Each fails with Error("expected ...") when the node has another shape.
  [[nodiscard]] absl::StatusOr<std::string> String() const;  // any scalar, as text
  [[nodiscard]] absl::StatusOr<bool> Bool() const;           // true/false (YAML 1.2 core)
  [[nodiscard]] absl::StatusOr<int64_t> Int() const;         // decimal integer
  // A span in common/time.h notation ("90d", "36h", "1d12h"); unit: micros.
  [[nodiscard]] absl::StatusOr<TimeMicros> Duration() const;
  // A sequence of scalars. A null node (`verbs:` with nothing after it) is an empty list.
  [[nodiscard]] absl::StatusOr<std::vector<std::string>> StringList() const;

  // Fails when this is not a map, or when it has a key outside `allowed` (the error points at
  // that key: `unknown field "verb" (expected one of: level, users, ...)`).
  [[nodiscard]] absl::Status ExpectMap(std::initializer_list<std::string_view> allowed) const;

  // Construction, for the parser and for tests that build documents in code. Children get
  // their paths from their parent ("parent.key", "parent[i]").
  static Node MakeScalar(std::string text, bool quoted = false);
  static Node MakeSequence(std::vector<Node> items);
  static Node MakeMap(std::vector<std::pair<std::string, Node>> entries);
  // Sets the source, position and path of this node, and re-derives its children's paths.
  void SetOrigin(std::shared_ptr<const std::string> source, int line, int column, std::string path);

 private:
  friend class Builder;
  void RebasePaths();

  Kind kind_ = Kind::kNull;
  std::shared_ptr<const std::string> source_ = EmptySource();
  int line_ = 0;
  int column_ = 0;
  std::string path_;
  std::string scalar_;
  bool quoted_ = false;
  std::vector<Node> items_;
  std::vector<Entry> entries_;

  static std::shared_ptr<const std::string> EmptySource();
};

struct Node::Entry {
  Node key;
  Node value;
};

// Parses one YAML document. An empty text is a null root. More than one document, or a
// syntax error, fails with InvalidArgument "<source_name>:<line>:<column>: <what>".
[[nodiscard]] absl::StatusOr<Node> Parse(std::string_view text, std::string_view source_name);

// Reads and parses a file; the source name in errors is the path as given. A missing or
// unreadable file fails with NotFound / PermissionDenied naming the path.
[[nodiscard]] absl::StatusOr<Node> ParseFile(const std::string& path);

}  // namespace kq::yaml

#endif  // KQ_RETENTION_YAML_H_
