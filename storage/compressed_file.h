// Reading a file as a plain byte stream whether it is stored plain, gzip-compressed (.gz, also
// several concatenated gzip members, as `cat a.gz b.gz` makes) or zstd-compressed (.zst, also
// several frames). The format is recognised by the file's first bytes, not by its name.
//
// Used by `kq import` and by the file-tail source for rotated .gz files. A CompressedFileReader
// owns its file descriptor and decompression state; it is not thread-safe (one reader per
// thread).
//
// CompressedFileWriter is the other direction: a streaming zstd writer (one frame per file),
// used for the retention archive's .jsonl.zst parts. It owns its file descriptor and
// compression state; not thread-safe.
#ifndef KQ_STORAGE_COMPRESSED_FILE_H_
#define KQ_STORAGE_COMPRESSED_FILE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace kq::storage {

enum class Compression { kNone, kGzip, kZstd };

class CompressedFileReader {
 public:
  virtual ~CompressedFileReader() = default;

  // Opens `path`. NotFound / PermissionDenied name the path.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<CompressedFileReader>> Open(
      const std::string& path);

  // Reads up to `n` decompressed bytes into `buf`; 0 means the end of the stream. A corrupt or
  // truncated compressed stream fails with DataLoss naming the path and the file offset.
  [[nodiscard]] virtual absl::StatusOr<size_t> Read(char* buf, size_t n) = 0;

  virtual Compression compression() const = 0;
  // Bytes of the (compressed) file consumed so far, and its size when opened: for progress.
  virtual uint64_t file_offset() const = 0;
  virtual uint64_t file_size() const = 0;
};

class CompressedFileWriter {
 public:
  ~CompressedFileWriter();
  CompressedFileWriter(const CompressedFileWriter&) = delete;
  CompressedFileWriter& operator=(const CompressedFileWriter&) = delete;

  // Creates or truncates `path` (mode 0644) for a zstd stream at `level` (1..19; 3 is zstd's
  // default: about 1/8 of the JSON size for audit events at a few hundred MB/s). Errors name
  // the path.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<CompressedFileWriter>> Create(
      const std::string& path, int level = 3);

  // Compresses `data` into the file; bytes may stay buffered until Finish.
  [[nodiscard]] absl::Status Append(std::string_view data);

  // Ends the zstd frame, writes what is buffered, fsyncs the file when `sync` and closes it.
  // Nothing may be appended afterwards. A writer destroyed without Finish leaves a truncated
  // (invalid) stream in the file.
  [[nodiscard]] absl::Status Finish(bool sync);

  uint64_t bytes_in() const { return bytes_in_; }    // uncompressed bytes appended
  uint64_t bytes_out() const { return bytes_out_; }  // bytes written to the file

 private:
  CompressedFileWriter(int fd, std::string path, void* cctx);
  [[nodiscard]] absl::Status Compress(std::string_view data, bool end);
  [[nodiscard]] absl::Status WriteOut(const char* p, size_t n);

  int fd_;
  std::string path_;
  void* cctx_;  // ZSTD_CCtx*, kept opaque so zstd's header stays in compressed_file.cc
  std::string out_;
  uint64_t bytes_in_ = 0, bytes_out_ = 0;
  bool finished_ = false;
};

}  // namespace kq::storage

#endif  // KQ_STORAGE_COMPRESSED_FILE_H_
