#include "server/file_tail.h"

#include <fcntl.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/log.h"
#include "common/status.h"
#include "storage/compressed_file.h"

namespace kq::server {
namespace {

constexpr size_t kFingerprintMax = 1024;
constexpr size_t kMaxLineBytes = 64u << 20;
constexpr size_t kMaxEntries = 10000;
constexpr size_t kMinPartBytes = 256u << 10;
constexpr char kCheckpointHeader[] = "kq-tail-checkpoint v1";

uint64_t Fnv(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// The fingerprint covers the first line (newline included) or the first 1 KiB; 0 when the
// head holds neither yet.
size_t FingerprintLength(std::string_view head) {
  size_t nl = head.find('\n');
  if (nl != std::string_view::npos) return std::min(nl + 1, kFingerprintMax);
  return head.size() >= kFingerprintMax ? kFingerprintMax : 0;
}

absl::Status Errno(std::string_view what, const std::string& path) {
  return absl::InternalError(absl::StrCat(Sv(what), " ", path, ": ", std::strerror(errno)));
}

absl::StatusOr<std::string> PRead(int fd, uint64_t offset, size_t n, const std::string& path) {
  std::string buf(n, '\0');
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::pread(fd, buf.data() + got, n - got, static_cast<off_t>(offset + got));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return Errno("cannot read", path);
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  buf.resize(got);
  return buf;
}

bool IsCompressed(int fd) {
  unsigned char m[4] = {0, 0, 0, 0};
  ssize_t n = ::pread(fd, m, 4, 0);
  if (n >= 2 && m[0] == 0x1f && m[1] == 0x8b) return true;
  return n == 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd;
}

std::string SourceKey(const TailSource& s) {
  return absl::StrCat(absl::Hex(Fnv(absl::StrCat(s.env, "/", s.cluster, "=", s.glob))));
}

}  // namespace

FileTailer::FileTailer(FileTailOptions options, IngestPipeline* pipeline)
    : options_(std::move(options)), pipeline_(pipeline) {}

FileTailer::~FileTailer() {
  Stop();
  for (auto& e : entries_) {
    if (e.fd >= 0) ::close(e.fd);
  }
}

absl::Status FileTailer::Load() {
  std::ifstream in(options_.checkpoint_path);
  if (!in) return absl::OkStatus();
  std::string line;
  if (!std::getline(in, line)) return absl::OkStatus();
  if (line != kCheckpointHeader) {
    return absl::DataLossError(absl::StrCat("tail checkpoint ", options_.checkpoint_path,
                                            " has an unknown format (expected \"",
                                            kCheckpointHeader, "\")"));
  }
  int n = 1;
  while (std::getline(in, line)) {
    ++n;
    std::vector<std::string> f = absl::StrSplit(line, absl::MaxSplits('\t', 6));
    Entry e;
    int done = 0;
    if (f.size() != 7 || !absl::SimpleAtoi(f[1], &e.fp_len) ||
        !absl::SimpleHexAtoi(f[2], &e.fp_hash) || !absl::SimpleAtoi(f[3], &e.offset) ||
        !absl::SimpleAtoi(f[4], &e.line) || !absl::SimpleAtoi(f[5], &done)) {
      return absl::DataLossError(absl::StrCat("tail checkpoint ", options_.checkpoint_path,
                                              " line ", n,
                                              " is malformed; move it away to "
                                              "re-read the files from the start"));
    }
    e.source_key = f[0];
    e.done = done != 0;
    e.path = f[6];
    entries_.push_back(std::move(e));
  }
  return absl::OkStatus();
}

absl::Status FileTailer::SaveCheckpoint() {
  std::string text = absl::StrCat(kCheckpointHeader, "\n");
  for (const auto& e : entries_) {
    absl::StrAppend(&text, e.source_key, "\t", e.fp_len, "\t", absl::Hex(e.fp_hash), "\t", e.offset,
                    "\t", e.line, "\t", e.done ? 1 : 0, "\t", e.path, "\n");
  }
  std::string tmp = options_.checkpoint_path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("cannot write", tmp);
  size_t done = 0;
  while (done < text.size()) {
    ssize_t w = ::write(fd, text.data() + done, text.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      ::close(fd);
      return Errno("cannot write", tmp);
    }
    done += static_cast<size_t>(w);
  }
  if (::fsync(fd) != 0) {
    ::close(fd);
    return Errno("cannot sync", tmp);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), options_.checkpoint_path.c_str()) != 0) {
    return Errno("cannot rename", tmp);
  }
  return absl::OkStatus();
}

FileTailer::Entry* FileTailer::Match(const std::string& key, const std::string& head) {
  for (auto& e : entries_) {
    if (e.source_key != key || e.fp_len == 0 || e.fp_len > head.size()) continue;
    if (Fnv(std::string_view(head).substr(0, e.fp_len)) == e.fp_hash) return &e;
  }
  return nullptr;
}

absl::Status FileTailer::Store(Entry& entry, size_t source, std::string_view chunk) {
  const TailSource& s = options_.sources[source];
  // Cut the chunk at line ends into up to `parallel_chunks` parts of at least kMinPartBytes,
  // each stored on its own thread with its own pipeline slot: decoding runs on every core and
  // the parts share the store's WAL syncs.
  std::vector<std::string_view> parts;
  size_t target = std::max(kMinPartBytes, chunk.size() / std::max<size_t>(1, options_.parallel));
  while (!chunk.empty()) {
    size_t cut = chunk.size();
    if (chunk.size() > target && parts.size() + 1 < options_.parallel) {
      size_t nl = chunk.find('\n', target - 1);
      if (nl != std::string_view::npos) cut = nl + 1;
    }
    parts.push_back(chunk.substr(0, cut));
    chunk.remove_prefix(cut);
  }
  std::vector<IngestPipeline::Ticket> tickets;
  for (size_t i = 0; i < parts.size(); ++i) {
    IngestPipeline::Ticket t = pipeline_->TryAdmit();
    if (!t) break;
    tickets.push_back(std::move(t));
  }
  if (tickets.empty()) return absl::OkStatus();  // busy or draining: next pass
  parts.resize(tickets.size());
  std::vector<uint64_t> lines(parts.size()), first_line(parts.size());
  uint64_t line = entry.line;
  for (size_t i = 0; i < parts.size(); ++i) {
    lines[i] = static_cast<uint64_t>(std::count(parts[i].begin(), parts[i].end(), '\n'));
    if (!parts[i].empty() && parts[i].back() != '\n') ++lines[i];
    first_line[i] = line;
    line += lines[i];
  }
  const std::string name = absl::StrCat("file:", entry.path);
  std::vector<absl::Status> results(parts.size());
  auto store = [&](size_t i) {
    IngestStats stats;
    results[i] = pipeline_->IngestText(s.env, s.cluster, name, "tail", parts[i], TextKind::kLines,
                                       first_line[i], &stats);
  };
  std::vector<std::thread> threads;
  for (size_t i = 1; i < parts.size(); ++i) threads.emplace_back(store, i);
  store(0);
  for (auto& t : threads) t.join();
  // The checkpoint moves over the stored prefix; a part stored after a failed one is sent
  // again on the next pass (the store's dedupe absorbs it).
  bool advanced = false;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (!results[i].ok()) {
      if (advanced) KQ_RETURN_IF_ERROR(SaveCheckpoint());
      return results[i];
    }
    entry.offset += parts[i].size();
    entry.line += lines[i];
    lines_read_.fetch_add(lines[i]);
    advanced = true;
  }
  return SaveCheckpoint();
}

absl::Status FileTailer::ReadPlain(Entry& entry, size_t source) {
  while (true) {
    struct stat st;
    if (::fstat(entry.fd, &st) != 0) return Errno("cannot stat", entry.path);
    uint64_t size = static_cast<uint64_t>(st.st_size);
    // Truncated (copytruncate) or rewritten: the old content is gone from this inode.
    bool reset = size < entry.offset;
    if (!reset) {
      KQ_ASSIGN_OR_RETURN(std::string head, PRead(entry.fd, 0, entry.fp_len, entry.path));
      reset = head.size() < entry.fp_len || Fnv(head) != entry.fp_hash;
    }
    if (reset) {
      log::Info("tail: ", entry.path, " was truncated or replaced; reading it from the start");
      Entry fresh;
      fresh.source_key = entry.source_key;
      fresh.path = entry.path;
      fresh.dev = entry.dev;
      fresh.ino = entry.ino;
      fresh.fd = entry.fd;
      // The old entry stays, closed, so a copy of the old content (copytruncate's
      // audit.log.1) continues where it was.
      entry.fd = -1;
      entry.dev = entry.ino = 0;
      entries_.push_back(std::move(fresh));
      return absl::OkStatus();  // the fresh entry is read on the next pass
    }
    if (size == entry.offset) return absl::OkStatus();
    size_t want = static_cast<size_t>(std::min<uint64_t>(
        size - entry.offset, options_.chunk_bytes * std::max<size_t>(1, options_.parallel)));
    KQ_ASSIGN_OR_RETURN(std::string buf, PRead(entry.fd, entry.offset, want, entry.path));
    size_t nl = buf.rfind('\n');
    while (nl == std::string::npos && buf.size() < size - entry.offset &&
           buf.size() < kMaxLineBytes) {
      size_t more = std::min<uint64_t>(size - entry.offset - buf.size(), options_.chunk_bytes);
      KQ_ASSIGN_OR_RETURN(std::string next,
                          PRead(entry.fd, entry.offset + buf.size(), more, entry.path));
      if (next.empty()) break;
      buf += next;
      nl = buf.rfind('\n');
    }
    if (nl == std::string::npos) return absl::OkStatus();  // a partial line waits
    uint64_t before = entry.offset;
    KQ_RETURN_IF_ERROR(Store(entry, source, std::string_view(buf).substr(0, nl + 1)));
    if (entry.offset == before) return absl::OkStatus();  // busy or draining: next pass
  }
}

absl::Status FileTailer::ReadCompressed(const std::string& path, size_t source, uint64_t dev,
                                        uint64_t ino, uint64_t size) {
  auto seen = compressed_seen_.find({dev, ino});
  if (seen != compressed_seen_.end() && seen->second == size) return absl::OkStatus();
  KQ_ASSIGN_OR_RETURN(auto reader, storage::CompressedFileReader::Open(path));
  std::string data;
  std::string block(1 << 20, '\0');
  while (true) {
    absl::StatusOr<size_t> n = reader->Read(block.data(), block.size());
    if (!n.ok()) {
      // Most likely still being written by the rotator: try again on a later pass.
      log::Debug("tail: ", path, ": ", n.status().ToString());
      return absl::OkStatus();
    }
    if (*n == 0) break;
    data.append(block.data(), *n);
  }
  std::string key = SourceKey(options_.sources[source]);
  std::string head = data.substr(0, kFingerprintMax);
  Entry* entry = Match(key, head);
  if (entry != nullptr && entry->fd >= 0) return absl::OkStatus();  // still reading the original
  if (entry == nullptr) {
    size_t len = FingerprintLength(head);
    if (len == 0 && !data.empty()) len = data.size();
    Entry e;
    e.source_key = key;
    e.fp_len = len;
    e.fp_hash = Fnv(std::string_view(data).substr(0, len));
    entries_.push_back(std::move(e));
    entry = &entries_.back();
  }
  entry->path = path;
  if (entry->offset < data.size()) {
    KQ_RETURN_IF_ERROR(Store(*entry, source, std::string_view(data).substr(entry->offset)));
    if (entry->offset < data.size()) return absl::OkStatus();  // busy: the rest next pass
  }
  entry = Match(key, head);
  if (entry != nullptr) entry->done = true;
  compressed_seen_[{dev, ino}] = size;
  return SaveCheckpoint();
}

absl::Status FileTailer::PollSource(size_t index) {
  const TailSource& source = options_.sources[index];
  std::string key = SourceKey(source);
  glob_t g;
  std::memset(&g, 0, sizeof(g));
  int rc = ::glob(source.glob.c_str(), 0, nullptr, &g);
  std::vector<std::string> paths;
  if (rc == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) paths.emplace_back(g.gl_pathv[i]);
  }
  globfree(&g);
  std::set<std::pair<uint64_t, uint64_t>> present;
  for (const auto& path : paths) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;  // vanished between glob and open
    struct stat st;
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      continue;
    }
    uint64_t dev = st.st_dev, ino = st.st_ino;
    present.insert({dev, ino});
    if (IsCompressed(fd)) {
      ::close(fd);
      KQ_RETURN_IF_ERROR(ReadCompressed(path, index, dev, ino, st.st_size));
      continue;
    }
    auto open_entry = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) {
      return e.fd >= 0 && e.source_key == key && e.dev == dev && e.ino == ino;
    });
    if (open_entry != entries_.end()) {
      open_entry->path = path;
      ::close(fd);
      continue;
    }
    KQ_ASSIGN_OR_RETURN(std::string head, PRead(fd, 0, kFingerprintMax, path));
    size_t len = FingerprintLength(head);
    if (len == 0) {  // not even one complete line yet
      ::close(fd);
      continue;
    }
    Entry* entry = Match(key, head);
    if (entry != nullptr && entry->fd >= 0) {  // same content open under another inode
      ::close(fd);
      continue;
    }
    if (entry == nullptr) {
      Entry e;
      e.source_key = key;
      e.fp_len = len;
      e.fp_hash = Fnv(std::string_view(head).substr(0, len));
      entries_.push_back(std::move(e));
      entry = &entries_.back();
    }
    entry->fd = fd;
    entry->dev = dev;
    entry->ino = ino;
    entry->path = path;
    entry->done = false;
  }
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].fd < 0 || entries_[i].source_key != key) continue;
    if (entries_[i].fp_len == 0) {  // a fresh entry after a truncation: fingerprint it first
      KQ_ASSIGN_OR_RETURN(std::string head,
                          PRead(entries_[i].fd, 0, kFingerprintMax, entries_[i].path));
      size_t len = FingerprintLength(head);
      if (len == 0) continue;
      entries_[i].fp_len = len;
      entries_[i].fp_hash = Fnv(std::string_view(head).substr(0, len));
    }
    KQ_RETURN_IF_ERROR(ReadPlain(entries_[i], index));
    Entry& e = entries_[i];
    if (e.fd >= 0 && present.count({e.dev, e.ino}) == 0) {
      // Rotated away from the glob (or deleted) and read to its end: lumberjack no longer
      // writes to it.
      struct stat st;
      if (::fstat(e.fd, &st) == 0 && static_cast<uint64_t>(st.st_size) == e.offset) {
        ::close(e.fd);
        e.fd = -1;
        e.done = true;
        KQ_RETURN_IF_ERROR(SaveCheckpoint());
      }
    }
  }
  return absl::OkStatus();
}

absl::Status FileTailer::PollOnce() {
  // Forget the oldest finished files beyond kMaxEntries (only here: entries are referenced
  // while a pass runs).
  for (auto it = entries_.begin(); entries_.size() > kMaxEntries && it != entries_.end();) {
    it = it->done && it->fd < 0 ? entries_.erase(it) : it + 1;
  }
  for (size_t i = 0; i < options_.sources.size(); ++i) KQ_RETURN_IF_ERROR(PollSource(i));
  return absl::OkStatus();
}

void FileTailer::Start() {
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      lock.unlock();
      absl::Status s = PollOnce();
      if (!s.ok()) log::Warning("tail: ", s.ToString());
      lock.lock();
      cv_.wait_for(lock, std::chrono::milliseconds(options_.poll_millis), [this] { return stop_; });
    }
  });
}

void FileTailer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace kq::server
