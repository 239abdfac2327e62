#include "server/store_readers.h"

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "common/strings.h"
#include "server/archive_reader.h"
#include "server/ingest_pipeline.h"

namespace kq::server {

absl::StatusOr<std::unique_ptr<storage::Reader>> StoreReaderFactory::OpenArchive(
    std::string_view env) {
  KQ_RETURN_IF_ERROR(FindEnvironment(store_, env).status());
  if (archive_root_.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("archive(\"", Sv(env), "\"): no archive root is configured"));
  }
  return std::make_unique<ArchiveReader>(archive_root_, std::string(env));
}

}  // namespace kq::server
