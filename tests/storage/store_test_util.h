// Helpers shared by the store tests: simple events and scans that collect rows.
#ifndef KQ_TESTS_STORAGE_STORE_TEST_UTIL_H_
#define KQ_TESTS_STORAGE_STORE_TEST_UTIL_H_

#include <string>
#include <vector>

#include "storage/store.h"

namespace kq::testing {

// A Metadata-level event with the given identity; times in micros.
storage::Event SimpleEvent(std::string audit_id, TimeMicros time, std::string ns,
                           std::string user = "alice", std::string verb = "get",
                           std::string name = "obj");

// One row read back from a scan.
struct Row {
  TimeMicros bucket = 0;
  std::string ns;
  TimeMicros time = 0;
  std::string audit_id;
  std::string json;
};

// Scans `range` and returns every row, in scan order. Fails the test on errors.
std::vector<Row> ScanAll(storage::Reader* reader, const storage::ScanRange& range,
                         storage::ScanStats* stats = nullptr);

}  // namespace kq::testing

#endif  // KQ_TESTS_STORAGE_STORE_TEST_UTIL_H_
