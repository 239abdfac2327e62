#include "retention/ledger.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/json_escape.h"
#include "common/status.h"
#include "common/strings.h"
#include "common/time.h"
#include "retention/yaml.h"

namespace kq::retention {
namespace {

absl::Status Errno(std::string_view what, const std::string& path) {
  return absl::InternalError(absl::StrCat(Sv(what), " ", path, ": ", std::strerror(errno)));
}

absl::Status SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return Errno("cannot open directory", dir);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Errno("cannot sync directory", dir);
  return absl::OkStatus();
}

std::string QuotedList(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ",";
    AppendJsonQuoted(items[i], &out);
  }
  return out + "]";
}

// Reads the complete lines of a file (a torn last line without '\n' is dropped). A missing file
// has no lines.
absl::StatusOr<std::vector<std::string>> ReadLines(const std::string& path) {
  std::vector<std::string> lines;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (!std::filesystem::exists(path)) return lines;
    return Errno("cannot read", path);
  }
  std::stringstream buf;
  buf << in.rdbuf();
  std::string text = buf.str();
  size_t start = 0;
  while (true) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) break;
    if (nl > start) lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

std::string Field(const yaml::Node& n, std::string_view key) {
  const yaml::Node* v = n.Find(key);
  return v != nullptr && v->IsScalar() ? v->scalar() : "";
}

absl::StatusOr<TimeMicros> TimeField(const yaml::Node& n, std::string_view key) {
  const yaml::Node* v = n.Find(key);
  if (v == nullptr || !v->IsScalar()) return n.Error(absl::StrCat("missing ", Sv(key)));
  absl::StatusOr<TimeMicros> t = ParseTimestamp(v->scalar());
  if (!t.ok()) return v->Error(StdSv(t.status().message()));
  return *t;
}

uint64_t UintField(const yaml::Node& n, std::string_view key) {
  const yaml::Node* v = n.Find(key);
  if (v == nullptr) return 0;
  absl::StatusOr<int64_t> i = v->Int();
  return i.ok() && *i > 0 ? static_cast<uint64_t>(*i) : 0;
}

std::vector<std::string> ListField(const yaml::Node& n, std::string_view key) {
  const yaml::Node* v = n.Find(key);
  if (v == nullptr) return {};
  absl::StatusOr<std::vector<std::string>> l = v->StringList();
  return l.ok() ? *l : std::vector<std::string>{};
}

}  // namespace

absl::Status AppendLineDurably(const std::string& path, std::string_view line, bool sync) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("cannot open", path);
  std::string data = absl::StrCat(Sv(line), "\n");
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      absl::Status s = Errno("cannot write", path);
      ::close(fd);
      return s;
    }
    done += static_cast<size_t>(n);
  }
  int rc = sync ? ::fsync(fd) : 0;
  ::close(fd);
  if (rc != 0) return Errno("cannot sync", path);
  return absl::OkStatus();
}

absl::Status WriteFileAtomically(const std::string& path, std::string_view contents, bool sync) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("cannot create", tmp);
  size_t done = 0;
  while (done < contents.size()) {
    ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      absl::Status s = Errno("cannot write", tmp);
      ::close(fd);
      return s;
    }
    done += static_cast<size_t>(n);
  }
  if (sync && ::fsync(fd) != 0) {
    absl::Status s = Errno("cannot sync", tmp);
    ::close(fd);
    return s;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return Errno("cannot rename", tmp);
  if (!sync) return absl::OkStatus();
  return SyncDir(std::filesystem::path(path).parent_path().string());
}

bool LegalHold::Covers(std::string_view ns, TimeMicros range_from, TimeMicros range_to) const {
  if (released) return false;
  if (range_to <= from || range_from >= to) return false;
  if (namespaces.empty()) return true;
  for (const std::string& n : namespaces) {
    if (n == ns) return true;
  }
  return false;
}

absl::StatusOr<std::unique_ptr<Ledger>> Ledger::Open(std::string dir, std::string env, Clock* clock,
                                                     bool sync) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", dir, ": ", ec.message()));
  std::unique_ptr<Ledger> ledger(new Ledger(std::move(dir), std::move(env), clock, sync));
  KQ_RETURN_IF_ERROR(ledger->LoadHolds());
  return ledger;
}

absl::Status Ledger::LoadHolds() {
  std::string path = dir_ + "/holds.jsonl";
  KQ_ASSIGN_OR_RETURN(std::vector<std::string> lines, ReadLines(path));
  absl::MutexLock lock(&mu_);
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string source = absl::StrCat(path, " line ", i + 1);
    KQ_ASSIGN_OR_RETURN(yaml::Node n, yaml::Parse(lines[i], source));
    std::string op = Field(n, "op");
    uint64_t id = UintField(n, "id");
    if (op == "add") {
      LegalHold h;
      h.id = id;
      h.namespaces = ListField(n, "namespaces");
      KQ_ASSIGN_OR_RETURN(h.from, TimeField(n, "from"));
      KQ_ASSIGN_OR_RETURN(h.to, TimeField(n, "to"));
      KQ_ASSIGN_OR_RETURN(h.created, TimeField(n, "at"));
      h.reason = Field(n, "reason");
      h.created_by = Field(n, "by");
      holds_.push_back(std::move(h));
    } else if (op == "release") {
      for (LegalHold& h : holds_) {
        if (h.id != id) continue;
        KQ_ASSIGN_OR_RETURN(TimeMicros at, TimeField(n, "at"));
        h.released = at;
        h.released_by = Field(n, "by");
      }
    } else {
      return n.Error(absl::StrCat("unknown hold record \"", op, "\""));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<LegalHold> Ledger::AddHold(LegalHold hold) {
  if (hold.to <= hold.from) {
    return absl::InvalidArgumentError("a hold needs --from before --to");
  }
  if (hold.reason.empty()) return absl::InvalidArgumentError("a hold needs a --reason");
  {
    absl::MutexLock lock(&mu_);
    hold.id = holds_.empty() ? 1 : holds_.back().id + 1;
    hold.created = clock_->Now();
    hold.released.reset();
    std::string line = absl::StrCat(
        R"({"op":"add","id":)", hold.id, R"(,"env":)", JsonQuote(env_), R"(,"namespaces":)",
        QuotedList(hold.namespaces), R"(,"from":")", FormatTimestamp(hold.from), R"(","to":")",
        FormatTimestamp(hold.to), R"(","reason":)", JsonQuote(hold.reason), R"(,"by":)",
        JsonQuote(hold.created_by), R"(,"at":")", FormatTimestamp(hold.created), "\"}");
    KQ_RETURN_IF_ERROR(AppendLineDurably(dir_ + "/holds.jsonl", line, sync_));
    holds_.push_back(hold);
  }
  TrailRecord r;
  r.time = hold.created;
  r.action = "hold-add";
  r.from = hold.from;
  r.to = hold.to;
  r.namespaces = hold.namespaces;
  r.detail = absl::StrCat("hold ", hold.id, " by ", hold.created_by, ": ", hold.reason);
  KQ_RETURN_IF_ERROR(AppendTrail(std::move(r)));
  return hold;
}

absl::Status Ledger::ReleaseHold(uint64_t id, std::string_view by) {
  TrailRecord r;
  {
    absl::MutexLock lock(&mu_);
    LegalHold* hold = nullptr;
    for (LegalHold& h : holds_) {
      if (h.id == id) hold = &h;
    }
    if (hold == nullptr) return absl::NotFoundError(absl::StrCat("no hold with id ", id));
    if (hold->released) {
      return absl::FailedPreconditionError(
          absl::StrCat("hold ", id, " was already released at ", FormatTimestamp(*hold->released)));
    }
    TimeMicros now = clock_->Now();
    std::string line = absl::StrCat(R"({"op":"release","id":)", id, R"(,"by":)", JsonQuote(by),
                                    R"(,"at":")", FormatTimestamp(now), "\"}");
    KQ_RETURN_IF_ERROR(AppendLineDurably(dir_ + "/holds.jsonl", line, sync_));
    hold->released = now;
    hold->released_by = std::string(by);
    r.time = now;
    r.action = "hold-release";
    r.from = hold->from;
    r.to = hold->to;
    r.namespaces = hold->namespaces;
    r.detail = absl::StrCat("hold ", id, " released by ", Sv(by), " (", hold->reason, ")");
  }
  return AppendTrail(std::move(r));
}

std::vector<LegalHold> Ledger::Holds(bool include_released) const {
  absl::MutexLock lock(&mu_);
  std::vector<LegalHold> out;
  for (const LegalHold& h : holds_) {
    if (include_released || !h.released) out.push_back(h);
  }
  return out;
}

bool Ledger::IsHeld(std::string_view ns, TimeMicros from, TimeMicros to) const {
  absl::MutexLock lock(&mu_);
  for (const LegalHold& h : holds_) {
    if (h.Covers(ns, from, to)) return true;
  }
  return false;
}

absl::Status Ledger::AppendTrail(TrailRecord r) {
  std::string line = absl::StrCat(
      R"({"time":")", FormatTimestamp(r.time), R"(","env":)", JsonQuote(env_), R"(,"action":)",
      JsonQuote(r.action), R"(,"tier":)", JsonQuote(r.tier), R"(,"from":")",
      FormatTimestamp(r.from), R"(","to":")", FormatTimestamp(r.to), R"(","namespaces":)",
      QuotedList(r.namespaces), R"(,"events":)", r.events, R"(,"bytes":)", r.bytes, R"(,"digest":)",
      JsonQuote(r.digest), R"(,"detail":)", JsonQuote(r.detail), "}");
  absl::MutexLock lock(&mu_);
  return AppendLineDurably(dir_ + "/trail.jsonl", line, sync_);
}

absl::StatusOr<std::vector<TrailRecord>> Ledger::ReadTrail() const {
  std::string path = dir_ + "/trail.jsonl";
  std::vector<std::string> lines;
  {
    absl::MutexLock lock(&mu_);
    KQ_ASSIGN_OR_RETURN(lines, ReadLines(path));
  }
  std::vector<TrailRecord> out;
  for (size_t i = 0; i < lines.size(); ++i) {
    KQ_ASSIGN_OR_RETURN(yaml::Node n, yaml::Parse(lines[i], absl::StrCat(path, " line ", i + 1)));
    TrailRecord r;
    KQ_ASSIGN_OR_RETURN(r.time, TimeField(n, "time"));
    r.action = Field(n, "action");
    r.tier = Field(n, "tier");
    KQ_ASSIGN_OR_RETURN(r.from, TimeField(n, "from"));
    KQ_ASSIGN_OR_RETURN(r.to, TimeField(n, "to"));
    r.namespaces = ListField(n, "namespaces");
    r.events = UintField(n, "events");
    r.bytes = UintField(n, "bytes");
    r.digest = Field(n, "digest");
    r.detail = Field(n, "detail");
    out.push_back(std::move(r));
  }
  return out;
}

absl::StatusOr<TimeMicros> Ledger::BodiesDroppedBefore() const {
  std::string path = dir_ + "/state.json";
  if (!std::filesystem::exists(path)) return INT64_MIN;
  KQ_ASSIGN_OR_RETURN(yaml::Node n, yaml::ParseFile(path));
  return TimeField(n, "bodies_dropped_before");
}

absl::Status Ledger::SetBodiesDroppedBefore(TimeMicros t) {
  return WriteFileAtomically(
      dir_ + "/state.json",
      absl::StrCat(R"({"bodies_dropped_before":")", FormatTimestamp(t), "\"}\n"), sync_);
}

absl::Status Ledger::WriteIntent(std::string_view text) {
  return WriteFileAtomically(dir_ + "/intent.json", text, sync_);
}

absl::StatusOr<std::optional<std::string>> Ledger::ReadIntent() const {
  std::string path = dir_ + "/intent.json";
  if (!std::filesystem::exists(path)) return std::optional<std::string>();
  std::ifstream in(path, std::ios::binary);
  if (!in) return Errno("cannot read", path);
  std::stringstream buf;
  buf << in.rdbuf();
  return std::optional<std::string>(buf.str());
}

absl::Status Ledger::ClearIntent() {
  std::string path = dir_ + "/intent.json";
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return Errno("cannot remove", path);
  return sync_ ? SyncDir(dir_) : absl::OkStatus();
}

}  // namespace kq::retention
