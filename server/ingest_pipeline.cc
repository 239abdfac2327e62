#include "server/ingest_pipeline.h"

#include <algorithm>
#include <span>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/log.h"
#include "common/status.h"
#include "common/strings.h"

namespace kq::server {
namespace {

storage::Decoder& ThreadDecoder() {
  thread_local storage::Decoder decoder;
  return decoder;
}

// JSON lines texts at least this large (import chunks, a tail catching up) are decoded and
// stored a part at a time through one AppendStream, into Events reused from part to part:
// each part's events are still in the CPU cache when the store encodes them, and their
// buffers are not allocated and freed per event (docs/benchmarks.md, Storage). Smaller texts
// go through the AppendCombiner, whose groups share WAL syncs.
constexpr size_t kStreamedLinesBytes = 1u << 20;
// Events decoded per part: few enough that a part's events stay in the CPU cache from
// decoding to encoding. 1M-event imports took 3 % less CPU with 64 than with 256, 11 % less
// than with 1,024, and the same with 16 or 32 (docs/benchmarks.md, "Streamed appends").
constexpr size_t kStreamedPartEvents = 64;
// A reused Event that held more JSON than this is released after its part, so that one large
// event does not keep its buffers' size for the thread's life.
constexpr uint64_t kKeptEventBytes = 64u << 10;

// Moves the events `policy` keeps (all when it is null) to the front of `events`, by swaps (an
// Event keeps its buffers), sets their env and cluster, and returns how many it kept.
size_t KeepAndAttribute(retention::PolicyApplier* policy, std::string_view env,
                        std::string_view cluster, std::span<storage::Event> events) {
  size_t kept = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    if (policy != nullptr && policy->Apply(&events[i]).action == retention::PolicyAction::kDrop) {
      continue;
    }
    if (kept != i) std::swap(events[kept], events[i]);
    storage::Event& ev = events[kept++];
    ev.env.assign(env.data(), env.size());
    ev.cluster.assign(cluster.data(), cluster.size());
  }
  return kept;
}

}  // namespace

void IngestStats::Merge(const IngestStats& other) {
  decoded += other.decoded;
  stored += other.stored;
  duplicates += other.duplicates;
  quarantined += other.quarantined;
  filtered += other.filtered;
  for (uint64_t id : other.quarantine_ids) {
    if (quarantine_ids.size() >= kMaxQuarantineIds) break;
    quarantine_ids.push_back(id);
  }
  if (first_error.empty()) first_error = other.first_error;
}

absl::StatusOr<storage::Environment*> FindEnvironment(storage::Store* store, std::string_view env) {
  storage::Environment* e = store->Find(env);
  if (e == nullptr) {
    return absl::NotFoundError(absl::StrCat("unknown environment \"", Sv(env), "\"; configured: ",
                                            absl::StrJoin(store->EnvironmentNames(), ", ")));
  }
  return e;
}

IngestPipeline::IngestPipeline(storage::Store* store, Metrics* metrics, TailHub* hub,
                               uint64_t queue_depth, Clock* clock, int parallel_appends)
    : store_(store),
      metrics_(metrics),
      hub_(hub),
      queue_depth_(static_cast<int64_t>(queue_depth)),
      clock_(clock) {
  // Groups stored at once, by default half the cores (one group's Append runs on one thread; the
  // other cores decode the next batches). Measured on 2 cores under webhook load: one group at a
  // time costs 15% less CPU per event than two (docs/benchmarks.md).
  const int parallel =
      parallel_appends > 0
          ? parallel_appends
          : static_cast<int>(std::max(2u, std::thread::hardware_concurrency()) / 2);
  for (const std::string& name : store->EnvironmentNames()) {
    combiners_[name] = std::make_unique<AppendCombiner>(store->Find(name), parallel);
  }
}

void IngestPipeline::Release() {
  {
    std::lock_guard<std::mutex> lock(slot_mu_);
    in_flight_.fetch_sub(1);
    metrics_->queue_depth.fetch_sub(1);
  }
  slot_free_.notify_one();
}

void IngestPipeline::Close() {
  {
    std::lock_guard<std::mutex> lock(slot_mu_);
    closed_.store(true);
  }
  slot_free_.notify_all();
}

IngestPipeline::Ticket IngestPipeline::Admit(std::chrono::milliseconds wait) {
  auto deadline = std::chrono::steady_clock::now() + wait;
  std::unique_lock<std::mutex> lock(slot_mu_);
  while (true) {
    Ticket t = TryAdmit();
    if (t || closed_.load()) return t;
    if (slot_free_.wait_until(lock, deadline) == std::cv_status::timeout) return TryAdmit();
  }
}

IngestPipeline::Ticket& IngestPipeline::Ticket::operator=(Ticket&& other) noexcept {
  if (this != &other) {
    if (owner_ != nullptr) owner_->Release();
    owner_ = other.owner_;
    other.owner_ = nullptr;
  }
  return *this;
}

IngestPipeline::Ticket::~Ticket() {
  if (owner_ != nullptr) owner_->Release();
}

IngestPipeline::Ticket IngestPipeline::TryAdmit() {
  if (closed_.load()) return Ticket();
  int64_t n = in_flight_.fetch_add(1) + 1;
  if (n > queue_depth_) {
    in_flight_.fetch_sub(1);
    return Ticket();
  }
  metrics_->queue_depth.fetch_add(1);
  return Ticket(this);
}

absl::Status IngestPipeline::IngestText(std::string_view env, std::string_view cluster,
                                        std::string_view source, std::string_view source_kind,
                                        std::string_view text, TextKind kind, uint64_t first_line,
                                        IngestStats* stats) {
  KQ_ASSIGN_OR_RETURN(storage::Environment * e, FindEnvironment(store_, env));
  if (kind == TextKind::kLines && text.size() >= kStreamedLinesBytes) {
    return IngestLinesStreamed(e, cluster, source, source_kind, text, first_line, stats);
  }
  std::vector<storage::Event> events;
  std::vector<storage::DecodeError> errors;
  if (kind == TextKind::kBody) {
    ThreadDecoder().DecodeBody(text, &events, &errors);
  } else {
    ThreadDecoder().DecodeLines(text, &events, &errors);
  }
  uint64_t line_offset = first_line == 0 ? 0 : first_line - 1;
  return Commit(e, cluster, source, source_kind, events, errors, line_offset, text.size(), stats);
}

absl::Status IngestPipeline::IngestItems(std::string_view env, std::string_view cluster,
                                         std::string_view source, std::string_view source_kind,
                                         const std::vector<std::string_view>& items,
                                         uint64_t first_item, IngestStats* stats) {
  KQ_ASSIGN_OR_RETURN(storage::Environment * e, FindEnvironment(store_, env));
  std::vector<storage::Event> events;
  std::vector<storage::DecodeError> errors;
  events.reserve(items.size());
  uint64_t bytes = 0;
  storage::Decoder& decoder = ThreadDecoder();
  for (size_t i = 0; i < items.size(); ++i) {
    bytes += items[i].size();
    storage::Event ev;
    absl::Status s = decoder.DecodeEvent(items[i], &ev);
    if (s.ok()) {
      events.push_back(std::move(ev));
      continue;
    }
    storage::DecodeError err;
    err.index = first_item + i;
    err.reason = std::string(s.message());
    err.raw = std::string(items[i].substr(0, 1u << 20));
    errors.push_back(std::move(err));
  }
  return Commit(e, cluster, source, source_kind, events, errors, 0, bytes, stats);
}

absl::Status IngestPipeline::Commit(storage::Environment* env, std::string_view cluster,
                                    std::string_view source, std::string_view source_kind,
                                    std::vector<storage::Event>& events,
                                    const std::vector<storage::DecodeError>& errors,
                                    uint64_t line_offset, uint64_t bytes, IngestStats* stats) {
  IngestStats local;
  KQ_RETURN_IF_ERROR(Quarantine(env, source, errors, events.empty(), line_offset, &local));
  retention::PolicyApplier* policy = policies_ == nullptr || events.empty()
                                         ? nullptr
                                         : policies_->Find(env->name(), source_kind, cluster);
  const size_t kept = KeepAndAttribute(policy, env->name(), cluster, events);
  local.filtered = events.size() - kept;
  events.resize(kept);
  if (!events.empty()) {
    storage::AppendResult result;
    absl::Status s = combiners_.at(env->name())->Append(events, &result);
    if (!s.ok()) {
      metrics_->AddRejected(source_kind, "store-error");
      return Annotate(s, absl::StrCat("storing ", events.size(), " events into ", env->name()));
    }
    local.decoded = events.size();
    local.stored = result.stored;
    local.duplicates = result.duplicates;
    if (result.stored > 0 && !hub_->empty()) hub_->Publish(env->name(), events);
  }
  metrics_->AddIngest(env->name(), source_kind, local.stored, local.duplicates, local.quarantined,
                      local.filtered, bytes);
  stats->Merge(local);
  return absl::OkStatus();
}

absl::Status IngestPipeline::Quarantine(storage::Environment* env, std::string_view source,
                                        const std::vector<storage::DecodeError>& errors,
                                        bool no_events, uint64_t line_offset, IngestStats* stats) {
  TimeMicros now = clock_->Now();
  for (const auto& err : errors) {
    storage::QuarantineRecord rec;
    rec.received = now;
    rec.source = err.is_line
                     ? absl::StrCat(Sv(source), " line ", err.index + line_offset)
                     : absl::StrCat(Sv(source), errors.size() == 1 && no_events && err.index == 0
                                                    ? ""
                                                    : absl::StrCat(" item ", err.index));
    rec.reason = err.reason;
    rec.payload = err.raw;
    KQ_ASSIGN_OR_RETURN(uint64_t id, env->AddQuarantine(std::move(rec)));
    stats->quarantined++;
    if (stats->quarantine_ids.size() < IngestStats::kMaxQuarantineIds) {
      stats->quarantine_ids.push_back(id);
    }
    if (stats->first_error.empty()) stats->first_error = err.reason;
  }
  return absl::OkStatus();
}

absl::Status IngestPipeline::IngestLinesStreamed(storage::Environment* env,
                                                 std::string_view cluster, std::string_view source,
                                                 std::string_view source_kind,
                                                 std::string_view text, uint64_t first_line,
                                                 IngestStats* stats) {
  thread_local std::vector<storage::Event> part(kStreamedPartEvents);
  storage::Decoder& decoder = ThreadDecoder();
  retention::PolicyApplier* policy =
      policies_ == nullptr ? nullptr : policies_->Find(env->name(), source_kind, cluster);
  // Tail streams get the events once stored: copies, as the part's Events are reused.
  const bool publish = !hub_->empty();
  std::vector<storage::Event> published;
  std::unique_ptr<storage::AppendStream> stream = env->BeginAppend();
  std::vector<storage::DecodeError> errors;
  IngestStats local;
  uint64_t line = 0;
  std::string_view rest = text;
  while (!rest.empty()) {
    const size_t decoded = decoder.DecodeLinesInto(&rest, &line, part, &errors);
    const size_t kept = KeepAndAttribute(policy, env->name(), cluster,
                                         std::span<storage::Event>(part.data(), decoded));
    local.filtered += decoded - kept;
    local.decoded += kept;
    const std::span<const storage::Event> events(part.data(), kept);
    if (absl::Status s = stream->Add(events); !s.ok()) {
      metrics_->AddRejected(source_kind, "store-error");
      return Annotate(s, absl::StrCat("storing events into ", env->name()));
    }
    if (publish) published.insert(published.end(), events.begin(), events.end());
    for (storage::Event& ev : part) {
      if (ev.raw_size > kKeptEventBytes) ev = storage::Event();
    }
  }
  const uint64_t line_offset = first_line == 0 ? 0 : first_line - 1;
  KQ_RETURN_IF_ERROR(Quarantine(env, source, errors, local.decoded == 0, line_offset, &local));
  storage::AppendResult result;
  if (absl::Status s = stream->Commit(&result); !s.ok()) {
    metrics_->AddRejected(source_kind, "store-error");
    return Annotate(s, absl::StrCat("storing ", local.decoded, " events into ", env->name()));
  }
  local.stored = result.stored;
  local.duplicates = result.duplicates;
  if (result.stored > 0 && publish) hub_->Publish(env->name(), published);
  metrics_->AddIngest(env->name(), source_kind, local.stored, local.duplicates, local.quarantined,
                      local.filtered, text.size());
  stats->Merge(local);
  return absl::OkStatus();
}

}  // namespace kq::server
