#include "storage/compressed_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace kq::storage {
namespace {

constexpr size_t kInputChunk = 256 << 10;

absl::Status ErrnoStatus(const std::string& what, const std::string& path, int err) {
  std::string msg = absl::StrCat(what, " ", path, ": ", std::strerror(err));
  if (err == ENOENT) return absl::NotFoundError(msg);
  if (err == EACCES || err == EPERM) return absl::PermissionDeniedError(msg);
  return absl::InternalError(msg);
}

// The file and a buffer of not yet consumed input bytes.
class Source {
 public:
  Source(int fd, std::string path, uint64_t size) : fd_(fd), path_(std::move(path)), size_(size) {}
  ~Source() { ::close(fd_); }

  const std::string& path() const { return path_; }
  uint64_t size() const { return size_; }
  // Bytes consumed by the decoder (read minus still buffered).
  uint64_t consumed() const { return read_ - (end_ - pos_); }

  // Ensures some input is buffered unless at end of file. Returns false at end of file.
  [[nodiscard]] absl::StatusOr<bool> Fill() {
    if (pos_ < end_) return true;
    buf_.resize(kInputChunk);
    KQ_ASSIGN_OR_RETURN(size_t n, ReadUnbuffered(buf_.data(), buf_.size()));
    pos_ = 0;
    end_ = n;
    return n > 0;
  }
  // Reads up to `n` bytes straight into `buf`, bypassing the buffer, which must be empty
  // (available() == 0). Returns 0 at end of file.
  [[nodiscard]] absl::StatusOr<size_t> ReadUnbuffered(char* buf, size_t n) {
    if (eof_) return 0;
    ssize_t got;
    do {
      got = ::read(fd_, buf, n);
    } while (got < 0 && errno == EINTR);
    if (got < 0) return ErrnoStatus("cannot read", path_, errno);
    read_ += static_cast<uint64_t>(got);
    if (got == 0) eof_ = true;
    return static_cast<size_t>(got);
  }
  const char* data() const { return buf_.data() + pos_; }
  size_t available() const { return end_ - pos_; }
  void Consume(size_t n) { pos_ += n; }

 private:
  int fd_;
  std::string path_;
  uint64_t size_;
  std::vector<char> buf_;
  size_t pos_ = 0, end_ = 0;
  uint64_t read_ = 0;
  bool eof_ = false;
};

class PlainReader : public CompressedFileReader {
 public:
  explicit PlainReader(std::unique_ptr<Source> src) : src_(std::move(src)) {}
  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    // Large reads go straight to the caller's buffer (kq import reads 8 MiB at a time).
    if (src_->available() == 0 && n >= kInputChunk) return src_->ReadUnbuffered(buf, n);
    auto more = src_->Fill();
    if (!more.ok()) return more.status();
    if (!*more) return 0;
    size_t k = std::min(n, src_->available());
    std::memcpy(buf, src_->data(), k);
    src_->Consume(k);
    return k;
  }
  Compression compression() const override { return Compression::kNone; }
  uint64_t file_offset() const override { return src_->consumed(); }
  uint64_t file_size() const override { return src_->size(); }

 private:
  std::unique_ptr<Source> src_;
};

class GzipReader : public CompressedFileReader {
 public:
  explicit GzipReader(std::unique_ptr<Source> src) : src_(std::move(src)) {
    std::memset(&zs_, 0, sizeof(zs_));
    ok_ = inflateInit2(&zs_, 15 + 32) == Z_OK;
  }
  ~GzipReader() override {
    if (ok_) inflateEnd(&zs_);
  }
  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    if (!ok_) return absl::InternalError("zlib: inflateInit2 failed");
    while (true) {
      auto more = src_->Fill();
      if (!more.ok()) return more.status();
      if (!*more) {
        if (in_member_) return Corrupt("truncated gzip stream");
        return 0;
      }
      zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(src_->data()));
      zs_.avail_in = static_cast<uInt>(src_->available());
      zs_.next_out = reinterpret_cast<Bytef*>(buf);
      zs_.avail_out = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
      in_member_ = true;
      int rc = inflate(&zs_, Z_NO_FLUSH);
      size_t used = src_->available() - zs_.avail_in;
      src_->Consume(used);
      size_t produced = std::min<size_t>(n, 1u << 30) - zs_.avail_out;
      if (rc == Z_STREAM_END) {
        in_member_ = false;
        inflateReset(&zs_);
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        return Corrupt(zs_.msg != nullptr ? zs_.msg : "inflate failed");
      }
      if (produced > 0) return produced;
    }
  }
  Compression compression() const override { return Compression::kGzip; }
  uint64_t file_offset() const override { return src_->consumed(); }
  uint64_t file_size() const override { return src_->size(); }

 private:
  absl::Status Corrupt(const std::string& what) const {
    return absl::DataLossError(
        absl::StrCat(src_->path(), ": corrupt gzip data near byte ", src_->consumed(), ": ", what));
  }
  std::unique_ptr<Source> src_;
  z_stream zs_;
  bool ok_ = false;
  bool in_member_ = false;
};

class ZstdReader : public CompressedFileReader {
 public:
  explicit ZstdReader(std::unique_ptr<Source> src)
      : src_(std::move(src)), ds_(ZSTD_createDStream()) {}
  ~ZstdReader() override { ZSTD_freeDStream(ds_); }
  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    while (true) {
      auto more = src_->Fill();
      if (!more.ok()) return more.status();
      if (!*more) {
        if (in_frame_) return Corrupt("truncated zstd stream");
        return 0;
      }
      ZSTD_inBuffer in{src_->data(), src_->available(), 0};
      ZSTD_outBuffer out{buf, n, 0};
      size_t rc = ZSTD_decompressStream(ds_, &out, &in);
      src_->Consume(in.pos);
      if (ZSTD_isError(rc)) return Corrupt(ZSTD_getErrorName(rc));
      in_frame_ = rc != 0;
      if (out.pos > 0) return out.pos;
    }
  }
  Compression compression() const override { return Compression::kZstd; }
  uint64_t file_offset() const override { return src_->consumed(); }
  uint64_t file_size() const override { return src_->size(); }

 private:
  absl::Status Corrupt(const std::string& what) const {
    return absl::DataLossError(
        absl::StrCat(src_->path(), ": corrupt zstd data near byte ", src_->consumed(), ": ", what));
  }
  std::unique_ptr<Source> src_;
  ZSTD_DStream* ds_;
  bool in_frame_ = false;
};

}  // namespace

absl::StatusOr<std::unique_ptr<CompressedFileReader>> CompressedFileReader::Open(
    const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("cannot open", path, errno);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return ErrnoStatus("cannot stat", path, err);
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    return absl::InvalidArgumentError(absl::StrCat(path, " is a directory, not a file"));
  }
  auto src = std::make_unique<Source>(fd, path, static_cast<uint64_t>(st.st_size));
  auto more = src->Fill();
  if (!more.ok()) return more.status();
  const auto* p = reinterpret_cast<const unsigned char*>(src->data());
  size_t n = src->available();
  if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b) {
    return std::make_unique<GzipReader>(std::move(src));
  }
  if (n >= 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd) {
    return std::make_unique<ZstdReader>(std::move(src));
  }
  return std::make_unique<PlainReader>(std::move(src));
}

CompressedFileWriter::CompressedFileWriter(int fd, std::string path, void* cctx)
    : fd_(fd), path_(std::move(path)), cctx_(cctx) {
  out_.resize(ZSTD_CStreamOutSize());
}

CompressedFileWriter::~CompressedFileWriter() {
  ZSTD_freeCCtx(static_cast<ZSTD_CCtx*>(cctx_));
  if (fd_ >= 0) ::close(fd_);
}

absl::StatusOr<std::unique_ptr<CompressedFileWriter>> CompressedFileWriter::Create(
    const std::string& path, int level) {
  if (level < 1 || level > ZSTD_maxCLevel()) {
    return absl::InvalidArgumentError(
        absl::StrCat("zstd level ", level, " out of range 1..", ZSTD_maxCLevel()));
  }
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  if (cctx == nullptr) return absl::ResourceExhaustedError("zstd: cannot create a context");
  size_t rc = ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
  if (!ZSTD_isError(rc)) rc = ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
  if (ZSTD_isError(rc)) {
    ZSTD_freeCCtx(cctx);
    return absl::InternalError(absl::StrCat("zstd: ", ZSTD_getErrorName(rc)));
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    int err = errno;
    ZSTD_freeCCtx(cctx);
    return ErrnoStatus("cannot create", path, err);
  }
  return std::unique_ptr<CompressedFileWriter>(new CompressedFileWriter(fd, path, cctx));
}

absl::Status CompressedFileWriter::WriteOut(const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd_, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return ErrnoStatus("cannot write", path_, errno);
    p += w;
    n -= static_cast<size_t>(w);
    bytes_out_ += static_cast<uint64_t>(w);
  }
  return absl::OkStatus();
}

absl::Status CompressedFileWriter::Compress(std::string_view data, bool end) {
  auto* cctx = static_cast<ZSTD_CCtx*>(cctx_);
  ZSTD_inBuffer in{data.data(), data.size(), 0};
  while (true) {
    ZSTD_outBuffer out{out_.data(), out_.size(), 0};
    size_t rc = ZSTD_compressStream2(cctx, &out, &in, end ? ZSTD_e_end : ZSTD_e_continue);
    if (ZSTD_isError(rc)) {
      return absl::InternalError(absl::StrCat(path_, ": zstd: ", ZSTD_getErrorName(rc)));
    }
    if (absl::Status s = WriteOut(out_.data(), out.pos); !s.ok()) return s;
    bool done = end ? rc == 0 : in.pos == in.size;
    if (done) return absl::OkStatus();
  }
}

absl::Status CompressedFileWriter::Append(std::string_view data) {
  if (finished_) return absl::FailedPreconditionError(absl::StrCat(path_, ": already finished"));
  bytes_in_ += data.size();
  return Compress(data, false);
}

absl::Status CompressedFileWriter::Finish(bool sync) {
  if (finished_) return absl::FailedPreconditionError(absl::StrCat(path_, ": already finished"));
  finished_ = true;
  if (absl::Status s = Compress({}, true); !s.ok()) return s;
  if (sync && ::fsync(fd_) != 0) return ErrnoStatus("cannot sync", path_, errno);
  int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) return ErrnoStatus("cannot close", path_, errno);
  return absl::OkStatus();
}

}  // namespace kq::storage
