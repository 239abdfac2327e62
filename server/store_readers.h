// query::StoreReaders (live environments) plus the query source `archive("prod")`, served
// from the archive root's files (server/archive_reader.h): the same class serves kqd and
// `kq --data DIR`.
//
// Borrows the store, which must outlive the factory. Thread-safe (each Open returns a new
// snapshot).
#ifndef KQ_SERVER_STORE_READERS_H_
#define KQ_SERVER_STORE_READERS_H_

#include <memory>
#include <string>
#include <string_view>

#include "query/engine.h"
#include "query/store_readers.h"
#include "storage/store.h"

namespace kq::server {

class StoreReaderFactory : public query::StoreReaders {
 public:
  // `archive_root`: where retention writes archives (kqd's archive-root, default
  // <data>/archive); empty: archive queries fail with FailedPrecondition.
  explicit StoreReaderFactory(storage::Store* store, std::string archive_root = "")
      : query::StoreReaders(store), store_(store), archive_root_(std::move(archive_root)) {}
  // NotFound for an environment the store does not have; an environment without archives
  // reads as empty.
  [[nodiscard]] absl::StatusOr<std::unique_ptr<storage::Reader>> OpenArchive(
      std::string_view env) override;

 private:
  storage::Store* store_;
  std::string archive_root_;
};

}  // namespace kq::server

#endif  // KQ_SERVER_STORE_READERS_H_
