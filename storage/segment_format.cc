#include "storage/segment_format.h"

#include <zstd.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "common/strings.h"

namespace kq::storage::segment_format {

absl::Status Corrupt(std::string_view what) {
  return absl::DataLossError(absl::StrCat("corrupt segment: ", Sv(what)));
}

void Compress(std::string_view raw, int level, std::string* out, uint8_t* compression) {
  struct FreeCCtx {
    void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
  };
  thread_local std::unique_ptr<ZSTD_CCtx, FreeCCtx> owned(ZSTD_createCCtx());
  ZSTD_CCtx* cctx = owned.get();
  size_t bound = ZSTD_compressBound(raw.size());
  out->resize(bound);
  size_t n = ZSTD_compressCCtx(cctx, out->data(), bound, raw.data(), raw.size(), level);
  if (ZSTD_isError(n) || n >= raw.size()) {
    out->assign(raw.data(), raw.size());
    *compression = kCompNone;
    return;
  }
  out->resize(n);
  *compression = kCompZstd;
}

absl::StatusOr<std::string> Decompress(std::string_view stored, uint8_t compression,
                                       size_t raw_len) {
  if (compression == kCompNone) {
    if (stored.size() != raw_len) return Corrupt("column length");
    return std::string(stored);
  }
  if (compression != kCompZstd) return Corrupt("unknown compression");
  struct FreeDCtx {
    void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
  };
  thread_local std::unique_ptr<ZSTD_DCtx, FreeDCtx> owned(ZSTD_createDCtx());
  ZSTD_DCtx* dctx = owned.get();
  std::string out(raw_len, '\0');
  size_t n = ZSTD_decompressDCtx(dctx, out.data(), raw_len, stored.data(), stored.size());
  if (ZSTD_isError(n) || n != raw_len) return Corrupt("zstd frame");
  return out;
}

}  // namespace kq::storage::segment_format
