// Reading a file as a plain byte stream whether it is stored plain, gzip-compressed (.gz, also
// several concatenated gzip members, as `cat a.gz b.gz` makes) or zstd-compressed (.zst, also
// several frames). The format is recognised by the file's first bytes, not by its name.
//
// Used by `kq import` and by the file-tail source for rotated .gz files. A CompressedFileReader
// owns its file descriptor and decompression state; it is not thread-safe (one reader per
// thread).
#ifndef KQ_STORAGE_COMPRESSED_FILE_H_
#define KQ_STORAGE_COMPRESSED_FILE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

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

}  // namespace kq::storage

#endif  // KQ_STORAGE_COMPRESSED_FILE_H_
