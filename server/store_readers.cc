#include "server/store_readers.h"

#include "common/status.h"
#include "server/ingest_pipeline.h"

namespace kq::server {

absl::StatusOr<std::unique_ptr<storage::Reader>> StoreReaderFactory::Open(std::string_view env) {
  KQ_ASSIGN_OR_RETURN(storage::Environment * e, FindEnvironment(store_, env));
  return e->NewReader();
}

}  // namespace kq::server
