// Following kube-apiserver audit log files (--audit-log-path) through rotation.
//
// Each TailSource is a glob; every matching file is read line by line into the ingest pipeline
// (env and cluster of the source). Files are recognised by a fingerprint of their first bytes
// (up to 1 KiB), not by name, so:
//   * lumberjack rotation (rename to audit-<time>.log, new audit.log): the renamed file is the
//     same fingerprint and is read to its end from where kqd was (through the still-open file
//     descriptor even when the glob no longer matches the new name); the new file starts at 0;
//   * copytruncate: a file shorter than its offset, or whose first bytes changed, starts at 0;
//   * a rotated .gz (or .zst) that was not finished is read from the same offset in its
//     decompressed bytes; a finished one adds nothing;
//   * a partial last line waits for its newline.
// Positions are persisted in a checkpoint file after each batch is durable, so a restart resumes
// with no gaps; a crash between a store and its checkpoint re-sends that batch, which the store's
// dedupe absorbs (no duplicates).
//
// Not thread-safe; Start() runs the polling on one thread, Stop() joins it. Borrows the pipeline.
#ifndef KQ_SERVER_FILE_TAIL_H_
#define KQ_SERVER_FILE_TAIL_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "server/config.h"
#include "server/ingest_pipeline.h"

namespace kq::server {

struct FileTailOptions {
  std::vector<TailSource> sources;
  std::string checkpoint_path;
  int64_t poll_millis = 200;
  size_t chunk_bytes = 4u << 20;  // read per file at once, times `parallel`
  // New data is cut at line ends into up to this many parts (of at least 256 KiB), stored at
  // once on their own threads: a fast-growing file is decoded on every core and its parts
  // share WAL syncs. Each part takes an ingest pipeline slot.
  size_t parallel = 4;
};

class FileTailer {
 public:
  FileTailer(FileTailOptions options, IngestPipeline* pipeline);
  ~FileTailer();
  FileTailer(const FileTailer&) = delete;
  FileTailer& operator=(const FileTailer&) = delete;

  // Loads the checkpoint (a missing file is an empty one; a corrupt one is DataLoss naming it).
  [[nodiscard]] absl::Status Load();
  // One pass over every source: discover files, read what is new, store it, checkpoint.
  [[nodiscard]] absl::Status PollOnce();
  // Polls every poll_millis on a thread until Stop(). Errors are logged and retried.
  void Start();
  void Stop();

  // Lines stored or skipped as duplicates, and lines quarantined, since construction.
  uint64_t lines_read() const { return lines_read_.load(); }

 private:
  // One file, by content fingerprint, within one source.
  struct Entry {
    std::string source_key;
    std::string path;      // last path seen
    uint64_t fp_len = 0;   // bytes the fingerprint covers
    uint64_t fp_hash = 0;  // FNV-1a of those bytes
    uint64_t offset = 0;   // bytes consumed (ends at a newline)
    uint64_t line = 1;     // line number of the next line
    int fd = -1;           // open while the file may still grow
    uint64_t dev = 0, ino = 0;
    bool done = false;  // rotated away and read to its end
  };

  [[nodiscard]] absl::Status PollSource(size_t index);
  [[nodiscard]] absl::Status ReadPlain(Entry& entry, size_t source);
  [[nodiscard]] absl::Status ReadCompressed(const std::string& path, size_t source, uint64_t dev,
                                            uint64_t ino, uint64_t size);
  // Stores `chunk` (whole lines) and moves the entry's offset over what was stored, then saves
  // the checkpoint. Stores nothing when the pipeline has no free slot.
  [[nodiscard]] absl::Status Store(Entry& entry, size_t source, std::string_view chunk);
  [[nodiscard]] absl::Status SaveCheckpoint();
  Entry* Match(const std::string& key, const std::string& head);

  FileTailOptions options_;
  IngestPipeline* pipeline_;
  std::vector<Entry> entries_;
  // Compressed files already read: (dev, ino) -> size.
  std::map<std::pair<uint64_t, uint64_t>, uint64_t> compressed_seen_;
  std::atomic<uint64_t> lines_read_{0};
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
};

}  // namespace kq::server

#endif  // KQ_SERVER_FILE_TAIL_H_
