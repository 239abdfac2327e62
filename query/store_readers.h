// A ReaderFactory (query/engine.h) over a storage::Store: each Open() takes a fresh snapshot
// of the named environment. For kqd, `kq --data DIR` and tests. Thread-safe as the Store is;
// the Store must outlive the factory.
#ifndef KQ_QUERY_STORE_READERS_H_
#define KQ_QUERY_STORE_READERS_H_

#include <memory>
#include <string_view>

#include "query/engine.h"
#include "storage/store.h"

namespace kq::query {

class StoreReaders : public ReaderFactory {
 public:
  explicit StoreReaders(storage::Store* store) : store_(store) {}
  [[nodiscard]] absl::StatusOr<std::unique_ptr<storage::Reader>> Open(
      std::string_view env) override;

 private:
  storage::Store* store_;
};

}  // namespace kq::query

#endif  // KQ_QUERY_STORE_READERS_H_
