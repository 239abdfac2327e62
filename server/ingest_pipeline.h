// The ingest pipeline every source goes through (webhook, gRPC Ingest, file tail, embedded
// import): decode -> attribute env + cluster -> audit policy (optional) -> Environment::Append
// (durable; dedupe in the store; concurrent batches grouped, see append_combiner.h) -> publish to
// Tail streams. A JSON lines text of 1 MiB or more (an import chunk) is instead decoded and
// stored 64 events at a time through one storage::AppendStream, still one durable write.
// Every item that cannot be decoded is kept in the environment's quarantine with its source
// and reason; nothing is dropped.
//
// Admission is bounded: at most `queue_depth` batches are in the pipeline at once; TryAdmit
// fails beyond that so callers can push back (HTTP 429, gRPC RESOURCE_EXHAUSTED) instead of
// queueing without bound.
//
// Thread-safe: many threads ingest at once (that is what lets the store share WAL syncs).
// Borrows the store, metrics and hub, which must outlive it.
#ifndef KQ_SERVER_INGEST_PIPELINE_H_
#define KQ_SERVER_INGEST_PIPELINE_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "common/clock.h"
#include "server/append_combiner.h"
#include "server/ingest_policies.h"
#include "server/metrics.h"
#include "server/tail_hub.h"
#include "storage/decoder.h"
#include "storage/store.h"

namespace kq::server {

// What one or more batches did.
struct IngestStats {
  uint64_t decoded = 0;  // items decoded into events (stored + duplicates)
  uint64_t stored = 0;
  uint64_t duplicates = 0;
  uint64_t quarantined = 0;
  uint64_t filtered = 0;  // dropped by the audit policy (level None or omitted stage)
  std::vector<uint64_t> quarantine_ids;  // at most kMaxQuarantineIds
  // The first decode error's reason, for a 400 body or a log line.
  std::string first_error;

  static constexpr size_t kMaxQuarantineIds = 1000;
  void Merge(const IngestStats& other);
};

// How a text is laid out.
enum class TextKind {
  kBody,   // a webhook body: EventList, a single event or JSON lines (detected)
  kLines,  // JSON lines only
};

class IngestPipeline {
 public:
  // `parallel_appends`: groups of batches stored at once per environment (AppendCombiner); 0:
  // half the cores, at least one, which suits many small batches (webhook, tail). Large
  // batches (import chunks) gain little from grouping: give as many as arrive at once.
  IngestPipeline(storage::Store* store, Metrics* metrics, TailHub* hub, uint64_t queue_depth,
                 Clock* clock = Clock::Real(), int parallel_appends = 0);

  // Applies the audit policy `policies` picks for each batch (by env, source kind and cluster)
  // before storing (null: keep everything). Call before ingesting; `policies` is borrowed and
  // must outlive the pipeline.
  void SetPolicies(const IngestPolicies* policies) { policies_ = policies; }

  // A slot in the bounded pipeline; released on destruction. Move-only.
  class Ticket {
   public:
    Ticket() = default;
    Ticket(Ticket&& other) noexcept : owner_(other.owner_) { other.owner_ = nullptr; }
    Ticket& operator=(Ticket&& other) noexcept;
    ~Ticket();
    explicit operator bool() const { return owner_ != nullptr; }

   private:
    friend class IngestPipeline;
    explicit Ticket(IngestPipeline* owner) : owner_(owner) {}
    IngestPipeline* owner_ = nullptr;
  };

  // An empty (false) ticket when `queue_depth` batches are already in flight or the pipeline
  // is closed.
  Ticket TryAdmit();
  // As TryAdmit, but waits up to `wait` for a slot (for sources that can apply backpressure,
  // such as a gRPC stream). Blocks the calling thread: never call it on a reactor.
  Ticket Admit(std::chrono::milliseconds wait);

  // Decodes `text` and stores its events into `env`, attributed to `cluster`. Quarantine
  // records get the source "<source> item <i>" (EventList) or "<source> line <n>" (lines,
  // numbered from `first_line`). `source_kind` labels the metrics ("webhook", "grpc", ...).
  // NotFound for an unknown env; errors from the store are returned as they are (nothing
  // after the failing append is stored; what was stored before stays).
  [[nodiscard]] absl::Status IngestText(std::string_view env, std::string_view cluster,
                                        std::string_view source, std::string_view source_kind,
                                        std::string_view text, TextKind kind, uint64_t first_line,
                                        IngestStats* stats);

  // As IngestText, for items that are each one event's JSON. Item i is numbered
  // `first_item + i` in quarantine sources.
  [[nodiscard]] absl::Status IngestItems(std::string_view env, std::string_view cluster,
                                         std::string_view source, std::string_view source_kind,
                                         const std::vector<std::string_view>& items,
                                         uint64_t first_item, IngestStats* stats);

  // Stops admitting new batches (TryAdmit fails); batches already admitted finish.
  void Close();
  // Batches admitted and not yet released.
  int64_t in_flight() const { return in_flight_.load(); }
  storage::Store* store() const { return store_; }

 private:
  [[nodiscard]] absl::Status Commit(storage::Environment* env, std::string_view cluster,
                                    std::string_view source, std::string_view source_kind,
                                    std::vector<storage::Event>& events,
                                    const std::vector<storage::DecodeError>& errors,
                                    uint64_t line_offset, uint64_t bytes, IngestStats* stats);

  // Adds a quarantine record per decode error to *stats. `no_events`: nothing of the text
  // decoded (a lone error of item 0 then names the whole text, not an item).
  [[nodiscard]] absl::Status Quarantine(storage::Environment* env, std::string_view source,
                                        const std::vector<storage::DecodeError>& errors,
                                        bool no_events, uint64_t line_offset, IngestStats* stats);
  // IngestText of a large JSON lines text: decoded and stored a part at a time through one
  // AppendStream (all or nothing).
  [[nodiscard]] absl::Status IngestLinesStreamed(storage::Environment* env,
                                                 std::string_view cluster, std::string_view source,
                                                 std::string_view source_kind,
                                                 std::string_view text, uint64_t first_line,
                                                 IngestStats* stats);

  storage::Store* store_;
  Metrics* metrics_;
  TailHub* hub_;
  const int64_t queue_depth_;
  Clock* clock_;
  const IngestPolicies* policies_ = nullptr;
  // One per environment, made at construction (read-only afterwards): concurrent batches into
  // one environment are stored with one Append.
  std::map<std::string, std::unique_ptr<AppendCombiner>, std::less<>> combiners_;
  void Release();

  std::atomic<int64_t> in_flight_{0};
  std::mutex slot_mu_;
  std::condition_variable slot_free_;
  std::atomic<bool> closed_{false};
};

// Looks up an environment or fails with NotFound listing the configured ones.
[[nodiscard]] absl::StatusOr<storage::Environment*> FindEnvironment(storage::Store* store,
                                                                    std::string_view env);

}  // namespace kq::server

#endif  // KQ_SERVER_INGEST_PIPELINE_H_
