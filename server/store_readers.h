// query::ReaderFactory over a storage::Store: the same class serves kqd and `kq --data DIR`.
//
// Borrows the store, which must outlive the factory. Thread-safe (each Open returns a new
// snapshot).
#ifndef KQ_SERVER_STORE_READERS_H_
#define KQ_SERVER_STORE_READERS_H_

#include <memory>
#include <string_view>

#include "query/engine.h"
#include "storage/store.h"

namespace kq::server {

class StoreReaderFactory : public query::ReaderFactory {
 public:
  explicit StoreReaderFactory(storage::Store* store) : store_(store) {}
  // NotFound, listing the configured environments, for an unknown one.
  [[nodiscard]] absl::StatusOr<std::unique_ptr<storage::Reader>> Open(
      std::string_view env) override;

 private:
  storage::Store* store_;
};

}  // namespace kq::server

#endif  // KQ_SERVER_STORE_READERS_H_
