// The store the retention tests run on: real RocksDB under a test directory, writes buffered
// (no fsync: tests do not survive machine crashes), time from the test's clock.
#ifndef KQ_TESTS_RETENTION_TEST_STORE_H_
#define KQ_TESTS_RETENTION_TEST_STORE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "storage/store.h"

namespace kq::retention {

// `clock` is not owned and must outlive the store.
[[nodiscard]] inline absl::StatusOr<std::unique_ptr<storage::Store>> OpenTestStore(
    const std::string& data_dir, Clock* clock,
    std::vector<storage::EnvironmentOptions> environments = {{"prod", ""}, {"dev", ""}}) {
  storage::StoreOptions options;
  options.data_dir = data_dir;
  options.environments = std::move(environments);
  options.durability = storage::Durability::kBuffered;
  options.clock = clock;
  return storage::Store::Open(options);
}

}  // namespace kq::retention

#endif  // KQ_TESTS_RETENTION_TEST_STORE_H_
