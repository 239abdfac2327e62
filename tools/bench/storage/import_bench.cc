// Bulk import benchmark of the storage module: decodes a JSON-lines file and appends it to a
// fresh store, then reports events/s, bytes on disk against the raw file, the time of needle
// look-ups by auditID, and peak RSS.
//
//   kq_storage_import_bench [--input FILE] [--events N] [--seed N] [--dir DIR] [--batch N]
//                           [--budget-mib N] [--threads N]
//
// Without --input, `kq gen` traffic (tools/gen) of --events events (default 1,000,000) is
// written to DIR/input.jsonl first (not timed). DIR defaults to a new directory under /tmp and
// is removed at the end unless given. One thread cuts the file into blocks of --batch lines;
// --threads workers (default 2) each decode a block and Append it, concurrently.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "storage/decoder.h"
#include "storage/store.h"
#include "tools/gen/generator.h"

namespace kq {
namespace {

namespace fs = std::filesystem;

struct Args {
  std::string input;
  uint64_t events = 1'000'000;
  uint64_t seed = 1;
  std::string dir;
  size_t batch = 5'000;
  uint64_t budget_mib = 256;
  size_t threads = 2;
};

bool ParseArgs(int argc, char** argv, Args* args) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    if (a == "--input" && (v = next())) {
      args->input = v;
    } else if (a == "--events" && (v = next())) {
      args->events = std::stoull(v);
    } else if (a == "--seed" && (v = next())) {
      args->seed = std::stoull(v);
    } else if (a == "--dir" && (v = next())) {
      args->dir = v;
    } else if (a == "--batch" && (v = next())) {
      args->batch = std::stoull(v);
    } else if (a == "--budget-mib" && (v = next())) {
      args->budget_mib = std::stoull(v);
    } else if (a == "--threads" && (v = next())) {
      args->threads = std::stoull(v);
    } else {
      std::cerr << "usage: kq_storage_import_bench [--input FILE] [--events N] [--seed N] "
                   "[--dir DIR] [--batch N] [--budget-mib N] [--threads N]\n";
      return false;
    }
  }
  return args->batch > 0 && args->threads > 0;
}

uint64_t DirBytes(const fs::path& dir) {
  uint64_t total = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) total += e.file_size();
  }
  return total;
}

double ThreadCpuSeconds() {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// CPU time of every thread of the process so far (workers, RocksDB, merges).
double ProcessCpuSeconds() {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double PeakRssMiB() {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

// A bounded queue of line blocks between the reading thread and the workers.
class BlockQueue {
 public:
  explicit BlockQueue(size_t capacity) : capacity_(capacity) {}
  void Push(std::string block) {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return queue_.size() < capacity_; });
    queue_.push_back(std::move(block));
    cv_.notify_all();
  }
  void Close() {
    std::lock_guard<std::mutex> l(mu_);
    closed_ = true;
    cv_.notify_all();
  }
  std::optional<std::string> Pop() {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return !queue_.empty() || closed_; });
    if (queue_.empty()) return std::nullopt;
    std::string block = std::move(queue_.front());
    queue_.pop_front();
    cv_.notify_all();
    return block;
  }

 private:
  const size_t capacity_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  bool closed_ = false;
};

// Cuts `path` into blocks of `lines` lines (the last may be shorter) and pushes them.
void ReadBlocks(const std::string& path, size_t lines, BlockQueue* queue) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    std::cerr << "cannot open " << path << "\n";
    queue->Close();
    return;
  }
  std::string buffer, block;
  size_t block_lines = 0;
  std::vector<char> chunk(8 << 20);
  while (true) {
    size_t n = std::fread(chunk.data(), 1, chunk.size(), f);
    buffer.append(chunk.data(), n);
    std::string_view text(buffer);
    while (!text.empty()) {
      size_t nl = text.find('\n');
      if (nl == std::string_view::npos && n > 0) break;  // wait for the rest of the line
      size_t end = nl == std::string_view::npos ? text.size() : nl + 1;
      block.append(text.substr(0, end));
      text.remove_prefix(end);
      if (++block_lines == lines) {
        queue->Push(std::exchange(block, {}));
        block_lines = 0;
      }
    }
    buffer.erase(0, buffer.size() - text.size());
    if (n == 0) break;
  }
  if (!block.empty()) queue->Push(std::move(block));
  std::fclose(f);
  queue->Close();
}

struct NeedleTimes {
  size_t lookups = 0;
  double index_ms = 0, bloom_ms = 0;              // medians
  double index_segments = 0, bloom_segments = 0;  // means
  bool mismatch = false;                          // the two ways found different row counts
};

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Times Reader::LookupAuditId (the auditID index) against what it replaced, a scan of every
// segment's summary with the auditID as a pruning hint, for up to 101 of `ids` spread evenly;
// each on a fresh Reader, each rendering its matches as JSON.
NeedleTimes TimeNeedles(storage::Environment* env, const std::vector<std::string>& ids) {
  NeedleTimes out;
  std::vector<double> index_ms, bloom_ms;
  size_t step = std::max<size_t>(1, ids.size() / 101);
  for (size_t i = 0; i < ids.size(); i += step) {
    const std::string& id = ids[i];
    uint64_t index_rows = 0, bloom_rows = 0;
    storage::ScanStats index_stats, bloom_stats;
    auto count = [&](uint64_t* rows) {
      return [rows, &id](const storage::EventBatch& b) -> absl::StatusOr<bool> {
        const storage::StringColumn& col = b.Strings(storage::Column::kAuditId);
        for (size_t r = 0; r < b.num_rows(); ++r) {
          if (col.codes[r] == storage::kNullCode || col.dict[col.codes[r]] != id) continue;
          // What a needle query does with a match: print the whole event.
          KQ_ASSIGN_OR_RETURN(std::string json, b.EventJson(r));
          *rows += !json.empty();
        }
        return true;
      };
    };
    auto reader = env->NewReader();
    auto t0 = std::chrono::steady_clock::now();
    absl::Status st = reader->LookupAuditId(id, count(&index_rows), &index_stats);
    auto t1 = std::chrono::steady_clock::now();
    storage::ScanRange hinted;
    hinted.hints.push_back({storage::Column::kAuditId, {id}});
    if (st.ok()) st = reader->Scan(hinted, count(&bloom_rows), &bloom_stats);
    auto t2 = std::chrono::steady_clock::now();
    if (!st.ok()) {
      std::cerr << "needle " << id << ": " << st << "\n";
      out.mismatch = true;
      break;
    }
    index_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    bloom_ms.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
    out.index_segments += static_cast<double>(index_stats.segments_read);
    out.bloom_segments += static_cast<double>(bloom_stats.segments_read);
    out.mismatch |= index_rows != bloom_rows || index_rows == 0;
  }
  out.lookups = index_ms.size();
  if (out.lookups > 0) {
    out.index_segments /= static_cast<double>(out.lookups);
    out.bloom_segments /= static_cast<double>(out.lookups);
  }
  out.index_ms = Median(std::move(index_ms));
  out.bloom_ms = Median(std::move(bloom_ms));
  return out;
}

int Run(const Args& args) {
  bool own_dir = args.dir.empty();
  fs::path dir = own_dir ? fs::temp_directory_path() / absl::StrCat("kq-import-bench-", getpid())
                         : fs::path(args.dir);
  fs::create_directories(dir);
  std::string input = args.input;
  if (input.empty()) {
    input = (dir / "input.jsonl").string();
    std::ofstream out(input, std::ios::binary);
    gen::GenOptions options;
    options.seed = args.seed;
    options.events = args.events;
    absl::Status st = gen::Generate(options, [&](std::string_view chunk) {
      out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
      return out ? absl::OkStatus() : absl::UnavailableError("write failed");
    });
    if (!st.ok()) {
      std::cerr << "generating input: " << st << "\n";
      return 1;
    }
  }
  uint64_t raw_bytes = fs::file_size(input);

  storage::StoreOptions options;
  options.data_dir = (dir / "store").string();
  options.environments = {{"prod", ""}};
  options.memory_budget_bytes = args.budget_mib << 20;
  auto store = storage::Store::Open(options);
  if (!store.ok()) {
    std::cerr << store.status() << "\n";
    return 1;
  }
  storage::Environment* env = (*store)->Find("prod");

  auto start = std::chrono::steady_clock::now();
  double cpu_start = ProcessCpuSeconds();
  BlockQueue queue(args.threads);
  std::thread reader_thread([&] { ReadBlocks(input, args.batch, &queue); });
  std::mutex mu;  // guards the totals below
  uint64_t stored = 0, duplicates = 0, decode_errors = 0;
  double decode_cpu_s = 0, append_cpu_s = 0;
  std::vector<std::string> needles;  // the first auditID of every batch, for the needle timing
  bool failed = false;
  auto work = [&] {
    storage::Decoder decoder;
    std::vector<storage::Event> events;
    std::vector<storage::DecodeError> errors;
    double decode_s = 0, append_s = 0;
    uint64_t my_stored = 0, my_duplicates = 0;
    while (auto block = queue.Pop()) {
      double t0 = ThreadCpuSeconds();
      events.clear();
      decoder.DecodeLines(*block, &events, &errors);
      block.reset();  // the events own their bytes: free the text before appending
      double t1 = ThreadCpuSeconds();
      storage::AppendResult r;
      absl::Status st = env->Append(events, &r);
      if (!events.empty()) {
        std::lock_guard<std::mutex> l(mu);
        needles.push_back(events.front().audit_id);
      }
      events.clear();  // freeing the events is part of the append cost
      decode_s += t1 - t0;
      append_s += ThreadCpuSeconds() - t1;
      if (!st.ok()) {
        std::cerr << "append: " << st << "\n";
        std::lock_guard<std::mutex> l(mu);
        failed = true;
        break;
      }
      my_stored += r.stored;
      my_duplicates += r.duplicates;
    }
    std::lock_guard<std::mutex> l(mu);
    stored += my_stored;
    duplicates += my_duplicates;
    decode_errors += errors.size();
    decode_cpu_s += decode_s;
    append_cpu_s += append_s;
  };
  std::vector<std::thread> workers;
  for (size_t i = 0; i < args.threads; ++i) workers.emplace_back(work);
  for (auto& w : workers) w.join();
  queue.Close();
  reader_thread.join();
  if (failed) return 1;
  double import_cpu_s = ProcessCpuSeconds() - cpu_start;
  double import_rss_mib = PeakRssMiB();
  double import_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  absl::Status st = env->Flush();
  double total_cpu_s = ProcessCpuSeconds() - cpu_start;
  double flush_rss_mib = PeakRssMiB();
  double total_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!st.ok()) {
    std::cerr << "flush: " << st << "\n";
    return 1;
  }
  NeedleTimes needle = TimeNeedles(env, needles);
  // Measured before the drop below, whose auditID index sweep writes deletions to the WAL.
  uint64_t disk = DirBytes(dir / "store" / "prod");
  auto stats = env->Stats();
  // Retention: drop the first day of data (range deletions), timed.
  double drop_ms = -1;
  if (stats.ok() && stats->events > 0) {
    TimeMicros day = stats->oldest - stats->oldest % kMicrosPerDay;
    auto t0 = std::chrono::steady_clock::now();
    absl::Status drop = env->DeleteRange(day, day + kMicrosPerDay, {});
    drop_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (!drop.ok()) std::cerr << "delete range: " << drop << "\n";
  }
  store->reset();
  std::printf("input            %s\n", input.c_str());
  std::printf("events stored    %llu (duplicates %llu, decode errors %llu)\n",
              static_cast<unsigned long long>(stored), static_cast<unsigned long long>(duplicates),
              static_cast<unsigned long long>(decode_errors));
  std::printf("import           %.2f s, %.0f events/s (append acknowledged)\n", import_s,
              stored / import_s);
  std::printf("import + flush   %.2f s, %.0f events/s (merged, memtables flushed)\n", total_s,
              stored / total_s);
  std::printf(
      "cpu              decode %.2f s, append %.2f s (%.2f / %.2f us per event; %zu workers)\n",
      decode_cpu_s, append_cpu_s, decode_cpu_s * 1e6 / stored, append_cpu_s * 1e6 / stored,
      args.threads);
  std::printf("cpu, all threads import %.2f s (%.2f us per event), import + flush %.2f s\n",
              import_cpu_s, import_cpu_s * 1e6 / stored, total_cpu_s);
  std::printf("raw JSON lines   %llu bytes (%.0f bytes/event)\n",
              static_cast<unsigned long long>(raw_bytes), double(raw_bytes) / stored);
  std::printf("on disk          %llu bytes (%.1f bytes/event), ratio 1/%.1f\n",
              static_cast<unsigned long long>(disk), double(disk) / stored,
              double(raw_bytes) / disk);
  std::printf(
      "needle auditID   %zu look-ups, median %.3f ms (auditID index, %.1f segments read)"
      "\n                 vs %.3f ms (summary Bloom filters of every segment, %.1f read)"
      "%s\n",
      needle.lookups, needle.index_ms, needle.index_segments, needle.bloom_ms,
      needle.bloom_segments, needle.mismatch ? "  MISMATCH" : "");
  std::printf("drop first day   %.1f ms (DeleteRange)\n", drop_ms);
  std::printf(
      "peak RSS         %.0f MiB (budget %llu MiB); by the end of import %.0f MiB, of flush %.0f "
      "MiB\n",
      PeakRssMiB(), static_cast<unsigned long long>(args.budget_mib), import_rss_mib,
      flush_rss_mib);
  if (own_dir) fs::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace kq

int main(int argc, char** argv) {
  kq::Args args;
  if (!kq::ParseArgs(argc, argv, &args)) return 2;
  return kq::Run(args);
}
