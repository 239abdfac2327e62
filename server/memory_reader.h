// A storage::Reader over events held in memory, so the query engine can evaluate a query's
// filters on a batch that was just ingested (Tail) without reading it back from the store.
//
// Scan honours the time range and namespaces of the ScanRange (ignores hints, which only prune)
// and hands out one batch per namespace, rows in ascending requestReceivedTimestamp order.
// Lookups filter by auditID / objectRef.name. Borrows the events, which must outlive the
// reader. Thread-compatible, as storage::Reader.
#ifndef KQ_SERVER_MEMORY_READER_H_
#define KQ_SERVER_MEMORY_READER_H_

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "query/engine.h"
#include "storage/event.h"
#include "storage/scan.h"
#include "storage/store.h"

namespace kq::server {

class MemoryReader : public storage::Reader {
 public:
  explicit MemoryReader(std::vector<const storage::Event*> events);

  [[nodiscard]] absl::Status Scan(const storage::ScanRange& range, const storage::BatchCallback& fn,
                                  storage::ScanStats* stats) override;
  [[nodiscard]] absl::Status LookupAuditId(std::string_view audit_id,
                                           const storage::BatchCallback& fn,
                                           storage::ScanStats* stats) override;
  [[nodiscard]] absl::Status LookupName(std::string_view name, const storage::ScanRange& range,
                                        const storage::BatchCallback& fn,
                                        storage::ScanStats* stats) override;
  [[nodiscard]] absl::StatusOr<std::vector<std::string>> DistinctValues(storage::Column c,
                                                                        size_t limit) override;

 private:
  // Hands `rows` out as batches, one per namespace.
  [[nodiscard]] absl::Status Emit(std::vector<const storage::Event*> rows,
                                  const storage::BatchCallback& fn, storage::ScanStats* stats);
  std::vector<const storage::Event*> events_;
};

// Opens MemoryReaders over the events of one environment; NotFound for an environment that
// `store` does not have. Borrows `store` and `events`.
class MemoryReaderFactory : public query::ReaderFactory {
 public:
  MemoryReaderFactory(storage::Store* store, std::span<const storage::Event> events)
      : store_(store), events_(events) {}
  [[nodiscard]] absl::StatusOr<std::unique_ptr<storage::Reader>> Open(
      std::string_view env) override;

 private:
  storage::Store* store_;
  std::span<const storage::Event> events_;
};

}  // namespace kq::server

#endif  // KQ_SERVER_MEMORY_READER_H_
