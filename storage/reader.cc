// The read side: a snapshot Reader over an environment's segments, with summary pruning and
// needle look-ups, handing out lazily decoded column batches.
#include <rocksdb/db.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "storage/environment_impl.h"
#include "storage/event_json.h"
#include "storage/segment.h"
#include "storage/store_keys.h"
#include "storage/summary.h"

namespace kq::storage {
namespace {

constexpr size_t kNumColumns = 22;
// Scan decodes ahead (ScanRange::decode_ahead) on kReadAheadThreads threads, only for at least
// kMinReadAheadSegments segments (a thread costs tens of microseconds), at most
// kReadAheadBatches segments ahead of the callback.
constexpr size_t kReadAheadThreads = 2;
constexpr size_t kMinReadAheadSegments = 4;
constexpr size_t kReadAheadBatches = 4;

// Returns the BodyBlock bytes of one kind ('\x01' request, '\x02' response), "" when absent.
using BodySource = std::function<absl::StatusOr<std::string>(char kind)>;
// Returns a split segment's wide part: its bytes and their owner.
struct Pinned {
  std::string_view bytes;
  std::shared_ptr<const void> owner;
};
using WideSource = std::function<absl::StatusOr<Pinned>()>;

class SegmentBatch : public EventBatch {
 public:
  // `wide` is called at most once, the first time a wide column (or the whole event) is needed.
  SegmentBatch(SegmentView view, TimeMicros bucket, std::string ns, std::string env,
               bool bodies_dropped, BodySource bodies, WideSource wide)
      : view_(std::move(view)),
        bucket_(bucket),
        ns_(std::move(ns)),
        env_(std::move(env)),
        bodies_dropped_(bodies_dropped),
        bodies_(std::move(bodies)),
        wide_(std::move(wide)) {}

  size_t num_rows() const override { return view_.rows(); }
  TimeMicros bucket() const override { return bucket_; }
  std::string_view ns() const override { return ns_; }

  const IntColumn& Ints(Column c) const override {
    auto& slot = ints_[static_cast<size_t>(c)];
    if (!slot.has_value()) {
      slot = Keep(ColumnOf(c, [&](uint32_t id) { return view_.Ints(id); }), [&] {
        IntColumn empty;
        empty.values.assign(num_rows(), 0);
        empty.present.assign(num_rows(), false);
        return empty;
      });
    }
    return *slot;
  }

  size_t TimeLowerBound(TimeMicros t) const override {
    const auto time = static_cast<uint32_t>(Column::kTime);
    if (ints_[time].has_value() || !view_.Searchable(time)) return EventBatch::TimeLowerBound(t);
    return Keep(view_.LowerBound(time, t), [] { return size_t{0}; });
  }

  // Decodes `columns` into the batch's caches: what Scan's reading thread does before it hands
  // the batch to the scanning thread.
  void DecodeAhead(const std::vector<Column>& columns) const {
    for (Column c : columns) {
      if (IsIntColumn(c)) {
        Ints(c);
      } else if (IsListColumn(c)) {
        Lists(c);
      } else {
        Strings(c);
      }
    }
  }

  const StringColumn& Strings(Column c) const override {
    auto& slot = strings_[static_cast<size_t>(c)];
    if (!slot.has_value()) {
      if (c == Column::kEnv) {
        StringColumn col;
        col.dict.push_back(env_);
        col.codes.assign(num_rows(), 0);
        slot = std::move(col);
      } else {
        slot = Keep(ColumnOf(c, [&](uint32_t id) { return view_.Strings(id); }), [&] {
          StringColumn empty;
          empty.codes.assign(num_rows(), kNullCode);
          return empty;
        });
      }
    }
    return *slot;
  }

  const ListColumn& Lists(Column c) const override {
    auto& slot = lists_[static_cast<size_t>(c)];
    if (!slot.has_value()) {
      slot = Keep(ColumnOf(c, [&](uint32_t id) { return view_.Lists(id); }), [&] {
        ListColumn empty;
        empty.offsets.assign(num_rows() + 1, 0);
        return empty;
      });
    }
    return *slot;
  }

  absl::StatusOr<std::string> EventJson(size_t row) const override {
    KQ_ASSIGN_OR_RETURN(Event e, RowEvent(row));
    return EventToJson(e);
  }
  // The whole event of `row`, bodies included unless dropped.
  absl::StatusOr<Event> RowEvent(size_t row) const {
    KQ_RETURN_IF_ERROR(CheckRow(row));
    KQ_RETURN_IF_ERROR(LoadAll());
    return RowToEvent(*all_, row, env_);
  }
  absl::StatusOr<std::string> RequestObject(size_t row) const override { return Body(row, 1); }
  absl::StatusOr<std::string> ResponseObject(size_t row) const override { return Body(row, 2); }

  const absl::Status& status() const { return status_; }
  // The segment with its wide part loaded.
  absl::StatusOr<const SegmentView*> FullView() const {
    KQ_RETURN_IF_ERROR(LoadWide());
    return &view_;
  }
  // The BodyBlock of one kind ('\x01' request, '\x02' response); "" when absent or dropped.
  absl::StatusOr<std::string> BodyBlock(char kind) const {
    if (bodies_dropped_) return std::string();
    return bodies_(kind);
  }

 private:
  template <typename T, typename F>
  T Keep(absl::StatusOr<T> col, F empty) const {
    if (col.ok()) return *std::move(col);
    if (status_.ok()) status_ = col.status();
    return empty();
  }

  // Decodes column `c` with `decode(id)`, loading the wide part first when `c` is in it.
  template <typename F>
  auto ColumnOf(Column c, F decode) const -> decltype(decode(0u)) {
    const uint32_t id = static_cast<uint32_t>(c);
    if (view_.IsWide(id)) KQ_RETURN_IF_ERROR(LoadWide());
    return decode(id);
  }

  absl::Status LoadWide() const {
    if (view_.wide_loaded()) return absl::OkStatus();
    KQ_ASSIGN_OR_RETURN(Pinned wide, wide_());
    return view_.AttachWide(wide.bytes, std::move(wide.owner));
  }

  absl::Status CheckRow(size_t row) const {
    if (row >= num_rows()) {
      return absl::OutOfRangeError(absl::StrCat("row ", row, " of ", num_rows()));
    }
    return absl::OkStatus();
  }

  absl::Status LoadBodies() const {
    if (bodies_loaded_) return absl::OkStatus();
    bodies_loaded_ = true;
    if (bodies_dropped_) return absl::OkStatus();
    for (char kind : {'\x01', '\x02'}) {
      KQ_ASSIGN_OR_RETURN(std::string block, bodies_(kind));
      if (block.empty()) continue;
      KQ_ASSIGN_OR_RETURN(BlobColumn blobs, DecodeBodyBlock(block, num_rows()));
      (kind == '\x01' ? request_ : response_) = std::move(blobs);
    }
    return absl::OkStatus();
  }

  absl::Status LoadAll() const {
    if (all_.has_value()) return absl::OkStatus();
    KQ_RETURN_IF_ERROR(LoadBodies());
    KQ_RETURN_IF_ERROR(LoadWide());
    KQ_ASSIGN_OR_RETURN(DecodedRows rows, DecodeAllColumns(view_));
    rows.request_bodies = request_;
    rows.response_bodies = response_;
    all_ = std::move(rows);
    return absl::OkStatus();
  }

  // One body of `row` (kind 1 request, 2 response): only that kind's block is read, and only
  // the chunk holding the row is decompressed.
  absl::StatusOr<std::string> Body(size_t row, int kind) const {
    KQ_RETURN_IF_ERROR(CheckRow(row));
    if (bodies_dropped_) return std::string();
    std::optional<BodyReader>& reader = body_readers_[kind - 1];
    if (!body_opened_[kind - 1]) {
      body_opened_[kind - 1] = true;
      KQ_ASSIGN_OR_RETURN(std::string block, bodies_(static_cast<char>(kind)));
      if (!block.empty()) {
        KQ_ASSIGN_OR_RETURN(reader, BodyReader::Open(std::move(block), num_rows()));
      }
    }
    if (!reader.has_value()) return std::string();
    KQ_ASSIGN_OR_RETURN(std::optional<std::string_view> body, reader->Get(row));
    return body.has_value() ? std::string(*body) : std::string();
  }

  mutable SegmentView view_;  // the wide part is attached on first need
  TimeMicros bucket_;
  std::string ns_;
  std::string env_;
  bool bodies_dropped_;
  BodySource bodies_;
  WideSource wide_;
  mutable std::optional<IntColumn> ints_[kNumColumns];
  mutable std::optional<StringColumn> strings_[kNumColumns];
  mutable std::optional<ListColumn> lists_[kNumColumns];
  mutable bool bodies_loaded_ = false;
  mutable std::optional<BlobColumn> request_, response_;  // for whole events (LoadAll)
  mutable bool body_opened_[2] = {false, false};
  mutable std::optional<BodyReader> body_readers_[2];  // for RequestObject / ResponseObject
  mutable std::optional<DecodedRows> all_;
  mutable absl::Status status_;
};

struct Entry {
  std::string key;
  TimeMicros bucket;
  std::string ns;
  Summary summary;
};

class ReaderImpl : public Reader {
 public:
  explicit ReaderImpl(EnvironmentImpl* env) : env_(env), snapshot_(env->SnapshotWithRuns(&runs_)) {
    ro_.snapshot = snapshot_;
  }
  ~ReaderImpl() override { env_->db()->ReleaseSnapshot(snapshot_); }
  const EnvironmentImpl* env() const { return env_; }
  const rocksdb::Snapshot* snapshot() const { return snapshot_; }

  absl::Status Scan(const ScanRange& range, const BatchCallback& fn, ScanStats* stats) override {
    ScanStats local;
    if (stats == nullptr) stats = &local;
    std::vector<Entry> entries;
    KQ_RETURN_IF_ERROR(Collect(range, &entries, stats));
    std::vector<const Entry*> todo;
    for (const Entry& e : entries) {
      if (Prune(e, range)) {
        ++stats->segments_pruned;
      } else {
        todo.push_back(&e);
      }
    }
    if (range.decode_ahead.empty() || todo.size() < kMinReadAheadSegments) {
      for (const Entry* e : todo) {
        KQ_ASSIGN_OR_RETURN(std::unique_ptr<SegmentBatch> batch, ReadSegment(*e, stats, stats));
        KQ_ASSIGN_OR_RETURN(bool more, fn(*batch));
        KQ_RETURN_IF_ERROR(Annotate(batch->status(), SegmentName(*e)));
        if (!more) break;
      }
      return absl::OkStatus();
    }
    return ScanAhead(todo, range.decode_ahead, fn, stats);
  }

  // The auditID index and its runs not yet ingested name the (bucket, namespace) groups holding
  // the auditID (and, rarely, groups of another auditID with the same 4-byte hash, or groups
  // deleted since); only their segments are looked at.
  absl::Status LookupAuditId(std::string_view audit_id, const BatchCallback& fn,
                             ScanStats* stats) override {
    ScanStats local;
    if (stats == nullptr) stats = &local;
    const std::string prefix = AuditIdIndexPrefix(audit_id);
    std::vector<std::string> groups;
    {
      std::string end = PrefixEnd(prefix);
      rocksdb::Slice upper(end);
      rocksdb::ReadOptions ro = ro_;
      ro.iterate_upper_bound = &upper;
      std::unique_ptr<rocksdb::Iterator> it(
          env_->db()->NewIterator(ro, env_->cf(EnvironmentImpl::kAuditIds)));
      for (it->Seek(prefix); it->Valid(); it->Next()) {
        groups.emplace_back(it->key().data() + prefix.size(), it->key().size() - prefix.size());
      }
      KQ_RETURN_IF_ERROR(FromRocks(it->status(), env_->dir()));
    }
    const uint32_t hash = AuditIdHash(audit_id);
    for (const auto& [id, run] : *runs_) run->GroupsOf(hash, &groups);
    // Groups are `bucket nsname` prefixes: sorted, they are in scan order.
    std::sort(groups.begin(), groups.end());
    groups.erase(std::unique(groups.begin(), groups.end()), groups.end());
    std::vector<Entry> entries;
    for (const std::string& group : groups) {
      KQ_RETURN_IF_ERROR(CollectKeys(group, PrefixEnd(group), {}, &entries, stats));
    }
    return LookupIn(entries, ScanRange(), Column::kAuditId, audit_id, fn, stats);
  }

  absl::Status LookupName(std::string_view name, const ScanRange& range, const BatchCallback& fn,
                          ScanStats* stats) override {
    return Lookup(range, Column::kName, name, fn, stats);
  }

  absl::StatusOr<std::vector<std::string>> DistinctValues(Column c, size_t limit) override {
    absl::flat_hash_set<std::string> seen;
    std::vector<std::string> out;
    auto add = [&](std::string_view v) {
      if (out.size() < limit && seen.insert(std::string(v)).second) out.emplace_back(v);
    };
    ScanStats stats;
    std::vector<Entry> entries;
    KQ_RETURN_IF_ERROR(Collect(ScanRange(), &entries, &stats));
    for (const Entry& e : entries) {
      if (out.size() >= limit) break;
      if (c == Column::kNamespace) {
        add(e.ns);
        continue;
      }
      if (c == Column::kEnv) {
        add(env_->name());
        break;
      }
      const ValueSet* set = e.summary.Find(static_cast<uint32_t>(c));
      if (set != nullptr && !set->bloom) {
        for (const auto& v : set->values) add(v);
        continue;
      }
      KQ_ASSIGN_OR_RETURN(std::unique_ptr<SegmentBatch> batch, ReadSegment(e, &stats, &stats));
      if (IsListColumn(c)) {
        for (const auto& v : batch->Lists(c).dict) add(v);
      } else if (IsIntColumn(c)) {
        const IntColumn& ints = batch->Ints(c);
        for (size_t i = 0; i < ints.values.size(); ++i) {
          if (ints.present[i]) add(std::to_string(ints.values[i]));
        }
      } else {
        for (const auto& v : batch->Strings(c).dict) add(v);
      }
      KQ_RETURN_IF_ERROR(Annotate(batch->status(), SegmentName(e)));
    }
    return out;
  }

 private:
  std::string SegmentName(const Entry& e) const {
    return absl::StrCat("environment ", env_->name(), " (", env_->dir(), "), segment of bucket ",
                        e.bucket, " namespace \"", e.ns, "\"");
  }

  // Summaries in the time/namespace key range, in scan order.
  absl::Status Collect(const ScanRange& range, std::vector<Entry>* out, ScanStats* stats) {
    std::string lo, hi;
    if (range.from != INT64_MIN) PutTimeKey(&lo, BucketOf(range.from));
    if (range.to != INT64_MAX) {
      TimeMicros last = BucketOf(range.to - 1);
      if (last <= INT64_MAX - kBucketMicros) PutTimeKey(&hi, last + kBucketMicros);
    }
    KQ_RETURN_IF_ERROR(CollectKeys(lo, hi, range.namespaces, out, stats));
    if (range.newest_first) {
      std::stable_sort(out->begin(), out->end(),
                       [](const Entry& a, const Entry& b) { return a.bucket > b.bucket; });
    }
    return absl::OkStatus();
  }

  // Appends the summaries with keys in [lo, hi) (hi empty: no bound) of `namespaces` (empty:
  // all), in key order.
  absl::Status CollectKeys(const std::string& lo, const std::string& hi,
                           const std::vector<std::string>& namespaces, std::vector<Entry>* out,
                           ScanStats* stats) {
    rocksdb::ReadOptions ro = ro_;
    rocksdb::Slice upper(hi);
    if (!hi.empty()) ro.iterate_upper_bound = &upper;
    std::unique_ptr<rocksdb::Iterator> it(
        env_->db()->NewIterator(ro, env_->cf(EnvironmentImpl::kSummaries)));
    for (it->Seek(lo); it->Valid(); it->Next()) {
      Entry e;
      uint64_t id;
      e.key.assign(it->key().data(), it->key().size());
      if (!ParseSegmentKey(e.key, &e.bucket, &e.ns, &id)) {
        return absl::DataLossError(absl::StrCat(env_->dir(), ": corrupt summary key"));
      }
      if (!namespaces.empty() &&
          std::find(namespaces.begin(), namespaces.end(), e.ns) == namespaces.end()) {
        continue;
      }
      absl::StatusOr<Summary> s =
          Summary::Decode(std::string_view(it->value().data(), it->value().size()));
      if (!s.ok()) return Annotate(s.status(), SegmentName(e));
      e.summary = *std::move(s);
      ++stats->segments_total;
      out->push_back(std::move(e));
    }
    return FromRocks(it->status(), env_->dir());
  }

  bool Prune(const Entry& e, const ScanRange& range) const {
    if (e.summary.rows == 0) return true;
    if (e.summary.max_time < range.from || e.summary.min_time >= range.to) return true;
    for (const auto& hint : range.hints) {
      if (hint.column == Column::kNamespace) {
        if (std::find(hint.values.begin(), hint.values.end(), e.ns) == hint.values.end()) {
          return true;
        }
        continue;
      }
      if (hint.column == Column::kEnv) {
        if (std::find(hint.values.begin(), hint.values.end(), env_->name()) == hint.values.end()) {
          return true;
        }
        continue;
      }
      const ValueSet* set = e.summary.Find(static_cast<uint32_t>(hint.column));
      if (set == nullptr) continue;
      if (std::none_of(hint.values.begin(), hint.values.end(),
                       [&](const std::string& v) { return set->MayContain(v); })) {
        return true;
      }
    }
    return false;
  }

  // Scan's pipeline: kReadAheadThreads threads read the segments of `todo` and decode `columns`
  // of each, at most kReadAheadBatches ahead of `fn`, which runs on this thread in todo order.
  absl::Status ScanAhead(const std::vector<const Entry*>& todo, const std::vector<Column>& columns,
                         const BatchCallback& fn, ScanStats* stats) {
    using Slot = std::optional<absl::StatusOr<std::unique_ptr<SegmentBatch>>>;
    std::mutex mu;
    std::condition_variable cv;
    std::vector<Slot> slots(todo.size());
    size_t next = 0;   // the next segment a reading thread takes
    size_t taken = 0;  // the next segment `fn` gets
    bool stop = false;
    // The reading threads' counters; `stats` is this thread's until they are joined (a wide
    // part, fetched later by `fn` on this thread, counts there).
    std::vector<ScanStats> read_stats(kReadAheadThreads);
    std::vector<std::thread> readers;
    for (size_t t = 0; t < kReadAheadThreads; ++t) {
      readers.emplace_back([&, t] {
        while (true) {
          size_t i;
          {
            std::unique_lock<std::mutex> l(mu);
            cv.wait(
                l, [&] { return stop || next >= todo.size() || next < taken + kReadAheadBatches; });
            if (stop || next >= todo.size()) return;
            i = next++;
          }
          auto batch = ReadSegment(*todo[i], &read_stats[t], stats);
          if (batch.ok()) (*batch)->DecodeAhead(columns);
          {
            std::lock_guard<std::mutex> l(mu);
            slots[i] = std::move(batch);
          }
          cv.notify_all();
        }
      });
    }
    absl::Status status;
    for (size_t i = 0; i < todo.size(); ++i) {
      absl::StatusOr<std::unique_ptr<SegmentBatch>> batch;
      {
        std::unique_lock<std::mutex> l(mu);
        cv.wait(l, [&] { return slots[i].has_value(); });
        batch = *std::move(slots[i]);
        taken = i + 1;
      }
      cv.notify_all();
      if (!batch.ok()) {
        status = batch.status();
        break;
      }
      absl::StatusOr<bool> more = fn(**batch);
      status = more.ok() ? Annotate((*batch)->status(), SegmentName(*todo[i])) : more.status();
      if (!status.ok() || !*more) break;
    }
    {
      std::lock_guard<std::mutex> l(mu);
      stop = true;
    }
    cv.notify_all();
    for (std::thread& r : readers) r.join();
    for (const ScanStats& r : read_stats) {
      stats->bytes_read += r.bytes_read;
      stats->segments_read += r.segments_read;
      stats->rows_read += r.rows_read;
    }
    return status;
  }

  // Counters of the read go to `stats`, those of a wide part fetched later (by the callback) to
  // `later_stats`. `cache_wide`: a wide part fetched later goes into the block cache (look-ups,
  // which touch few segments); scans read it with fill_cache=false to keep the cache for narrow
  // parts.
  absl::StatusOr<std::unique_ptr<SegmentBatch>> ReadSegment(const Entry& e, ScanStats* stats,
                                                            ScanStats* later_stats,
                                                            bool cache_wide = false) {
    // Pinned: the segment's bytes stay in RocksDB's block (or memtable) and are not copied.
    auto value = std::make_shared<rocksdb::PinnableSlice>();
    rocksdb::Status s =
        env_->db()->Get(ro_, env_->cf(EnvironmentImpl::kSegments), e.key, value.get());
    KQ_RETURN_IF_ERROR(FromRocks(s, SegmentName(e)));
    stats->bytes_read += value->size();
    ++stats->segments_read;
    stats->rows_read += e.summary.rows;
    std::string_view bytes(value->data(), value->size());
    absl::StatusOr<SegmentView> view = SegmentView::Parse(bytes, std::move(value));
    if (!view.ok()) return Annotate(view.status(), SegmentName(e));
    rocksdb::DB* db = env_->db();
    rocksdb::ColumnFamilyHandle* bodies = env_->cf(EnvironmentImpl::kBodies);
    rocksdb::ReadOptions ro = ro_;
    std::string key = e.key;
    std::string name = SegmentName(e);
    BodySource source = [db, bodies, ro, key, name](char kind) -> absl::StatusOr<std::string> {
      std::string block;
      rocksdb::Status st = db->Get(ro, bodies, key + kind, &block);
      if (st.IsNotFound()) return std::string();
      KQ_RETURN_IF_ERROR(FromRocks(st, name));
      return block;
    };
    rocksdb::ColumnFamilyHandle* segments = env_->cf(EnvironmentImpl::kSegments);
    rocksdb::ReadOptions wide_ro = ro_;
    wide_ro.fill_cache = cache_wide;
    // `later_stats` outlives the batch: batches live only during the scan's callback.
    WideSource wide = [db, segments, wide_ro, key, name,
                       stats = later_stats]() -> absl::StatusOr<Pinned> {
      auto value = std::make_shared<rocksdb::PinnableSlice>();
      rocksdb::Status st = db->Get(wide_ro, segments, key + kWideSuffix, value.get());
      if (st.IsNotFound()) return absl::DataLossError(absl::StrCat(name, ": wide part missing"));
      KQ_RETURN_IF_ERROR(FromRocks(st, name));
      stats->bytes_read += value->size();
      std::string_view bytes(value->data(), value->size());
      return Pinned{bytes, std::move(value)};
    };
    return std::make_unique<SegmentBatch>(*std::move(view), e.bucket, e.ns, env_->name(),
                                          e.summary.bodies_dropped, std::move(source),
                                          std::move(wide));
  }

  absl::Status Lookup(const ScanRange& range, Column column, std::string_view needle,
                      const BatchCallback& fn, ScanStats* stats) {
    ScanStats local;
    if (stats == nullptr) stats = &local;
    std::vector<Entry> entries;
    KQ_RETURN_IF_ERROR(Collect(range, &entries, stats));
    return LookupIn(entries, range, column, needle, fn, stats);
  }

  // Hands `fn` the rows of `entries` whose `column` equals `needle`, within `range`'s times.
  absl::Status LookupIn(const std::vector<Entry>& entries, const ScanRange& range, Column column,
                        std::string_view needle, const BatchCallback& fn, ScanStats* stats) {
    ScanRange hinted = range;
    hinted.hints.push_back({column, {std::string(needle)}});
    for (const Entry& e : entries) {
      if (Prune(e, hinted)) {
        ++stats->segments_pruned;
        continue;
      }
      KQ_ASSIGN_OR_RETURN(std::unique_ptr<SegmentBatch> batch,
                          ReadSegment(e, stats, stats, /*cache_wide=*/true));
      absl::StatusOr<std::vector<Event>> events = MatchingEvents(*batch, column, needle, range);
      if (!events.ok()) return Annotate(events.status(), SegmentName(e));
      if (events->empty()) continue;
      KQ_ASSIGN_OR_RETURN(std::unique_ptr<SegmentBatch> matches, Subset(*events, e));
      KQ_ASSIGN_OR_RETURN(bool more, fn(*matches));
      if (!more) break;
    }
    return absl::OkStatus();
  }

  // The events of `batch` whose `column` equals `needle`, within `range`'s times, decoding
  // only those rows.
  absl::StatusOr<std::vector<Event>> MatchingEvents(const SegmentBatch& batch, Column column,
                                                    std::string_view needle,
                                                    const ScanRange& range) {
    KQ_ASSIGN_OR_RETURN(const SegmentView* full, batch.FullView());
    const SegmentView& view = *full;
    KQ_ASSIGN_OR_RETURN(std::vector<size_t> rows,
                        view.FindRows(static_cast<uint32_t>(column), needle));
    if (rows.empty()) return std::vector<Event>();
    KQ_ASSIGN_OR_RETURN(std::string request, batch.BodyBlock('\x01'));
    KQ_ASSIGN_OR_RETURN(std::string response, batch.BodyBlock('\x02'));
    KQ_ASSIGN_OR_RETURN(std::vector<Event> events,
                        view.ReadRows(rows, env_->name(), request, response));
    std::erase_if(events, [&](const Event& ev) {
      return ev.request_received_time < range.from || ev.request_received_time >= range.to;
    });
    return events;
  }

  // A batch holding only `events`, encoded in memory.
  absl::StatusOr<std::unique_ptr<SegmentBatch>> Subset(const std::vector<Event>& events,
                                                       const Entry& e) {
    SegmentBuilder builder;
    for (const Event& event : events) builder.Add(event);
    auto enc = std::make_shared<EncodedSegment>(builder.Finish());
    KQ_ASSIGN_OR_RETURN(SegmentView view, SegmentView::Parse(enc->segment));
    BodySource source = [enc](char kind) -> absl::StatusOr<std::string> {
      return kind == '\x01' ? enc->request_bodies : enc->response_bodies;
    };
    WideSource wide = []() -> absl::StatusOr<Pinned> {
      return absl::InternalError("an in-memory segment has no separate wide part");
    };
    return std::make_unique<SegmentBatch>(std::move(view), e.bucket, e.ns, env_->name(),
                                          e.summary.bodies_dropped, std::move(source),
                                          std::move(wide));
  }

  EnvironmentImpl* env_;
  std::shared_ptr<const AuditIdRuns> runs_;  // set before snapshot_ (SnapshotWithRuns)
  const rocksdb::Snapshot* snapshot_;
  rocksdb::ReadOptions ro_;
};

}  // namespace

std::unique_ptr<Reader> EnvironmentImpl::NewReader() { return std::make_unique<ReaderImpl>(this); }

const rocksdb::Snapshot* SnapshotOf(const Reader& reader, const EnvironmentImpl* env) {
  const auto* impl = dynamic_cast<const ReaderImpl*>(&reader);
  return impl != nullptr && impl->env() == env ? impl->snapshot() : nullptr;
}

}  // namespace kq::storage
