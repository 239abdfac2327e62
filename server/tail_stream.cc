#include "server/tail_stream.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/strings.h"
#include "server/memory_reader.h"
#include "server/response_stream.h"
#include "server/tail_query.h"

namespace kq::server {
namespace {

// Converts rows to QueryResponse batches; forwards the schema only when asked to.
class TailSink : public query::RowSink {
 public:
  TailSink(ResponseStream* stream, bool send_schema) : stream_(stream), send_schema_(send_schema) {}
  absl::Status OnSchema(const std::vector<query::ColumnInfo>& columns) override {
    if (!send_schema_) return absl::OkStatus();
    kq::v1::QueryResponse r;
    for (const auto& c : columns) {
      auto* col = r.mutable_schema()->add_columns();
      col->set_name(c.name);
      col->set_type(static_cast<kq::v1::ValueType>(c.type));
    }
    return stream_->Push(std::move(r));
  }
  absl::Status OnRows(std::span<const query::Row> rows) override {
    if (rows.empty()) return absl::OkStatus();
    kq::v1::QueryResponse r;
    for (const auto& row : rows) {
      auto* out = r.mutable_rows()->add_rows();
      for (const auto& v : row) {
        auto* val = out->add_values();
        std::visit(
            [val](const auto& x) {
              using T = std::decay_t<decltype(x)>;
              if constexpr (std::is_same_v<T, bool>) val->set_bool_value(x);
              if constexpr (std::is_same_v<T, int64_t>) val->set_int_value(x);
              if constexpr (std::is_same_v<T, double>) val->set_double_value(x);
              if constexpr (std::is_same_v<T, std::string>) val->set_string_value(x);
              if constexpr (std::is_same_v<T, query::Datetime>) val->set_datetime_micros(x.micros);
              if constexpr (std::is_same_v<T, query::Timespan>) val->set_timespan_micros(x.micros);
              if constexpr (std::is_same_v<T, query::Json>) val->set_json(x.text);
            },
            v);
      }
    }
    return stream_->Push(std::move(r));
  }

 private:
  ResponseStream* stream_;
  bool send_schema_;
};

// State shared by the hub listener, the cancel callback and the tail thread.
struct TailState {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<storage::Event> pending;
  uint64_t skipped = 0;
  bool stop = false;
};

void RunTail(ServiceContext ctx, ResponseStream* stream, std::string text,
             query::QueryOptions options, std::shared_ptr<TailState> state) {
  uint64_t sub =
      ctx.hub->Subscribe([state](std::string_view, std::span<const storage::Event> events) {
        std::lock_guard<std::mutex> lock(state->mu);
        for (const auto& e : events) {
          if (state->pending.size() >= kMaxPendingEvents) {
            state->skipped++;
          } else {
            state->pending.push_back(e);
          }
        }
        state->cv.notify_one();
      });
  ctx.metrics->tail_subscribers.fetch_add(1);
  // The schema, from the query over no events; also reports query errors before streaming.
  std::vector<storage::Event> none;
  MemoryReaderFactory empty(ctx.store, none);
  TailSink first(stream, true);
  absl::Status status = query::RunQuery(empty, text, options, first, nullptr);
  while (status.ok()) {
    std::vector<storage::Event> batch;
    uint64_t skipped = 0;
    {
      std::unique_lock<std::mutex> lock(state->mu);
      state->cv.wait_for(lock, std::chrono::seconds(1), [&] {
        return state->stop || !state->pending.empty() || state->skipped > 0 ||
               stream->cancelled()->load();
      });
      if (state->stop || stream->cancelled()->load()) break;
      if (options.deadline != INT64_MAX && ctx.clock->Now() >= options.deadline) {
        status = absl::DeadlineExceededError("the Tail call reached its deadline");
        break;
      }
      batch.assign(std::make_move_iterator(state->pending.begin()),
                   std::make_move_iterator(state->pending.end()));
      state->pending.clear();
      skipped = state->skipped;
      state->skipped = 0;
    }
    if (skipped > 0) {
      kq::v1::QueryResponse gap;
      gap.mutable_gap()->set_skipped(skipped);
      status = stream->Push(std::move(gap));
      if (!status.ok()) break;
    }
    if (batch.empty()) continue;
    MemoryReaderFactory readers(ctx.store, batch);
    TailSink sink(stream, false);
    status = query::RunQuery(readers, text, options, sink, nullptr);
  }
  ctx.hub->Unsubscribe(sub);
  ctx.metrics->tail_subscribers.fetch_sub(1);
  if (status.ok() && ctx.draining->load()) {
    status = absl::UnavailableError("kqd is shutting down; reconnect to continue tailing");
  }
  stream->Close(status);
}

}  // namespace

grpc::ServerWriteReactor<kq::v1::QueryResponse>* StartTail(const ServiceContext& ctx,
                                                           grpc::CallbackServerContext* context,
                                                           const kq::v1::TailRequest& request) {
  auto* stream = new ResponseStream(16);
  if (absl::Status s = CheckTailQuery(request.query()); !s.ok()) {
    stream->Close(s);
    return stream;
  }
  if (ctx.draining->load()) {
    stream->Close(absl::UnavailableError("kqd is shutting down; retry"));
    return stream;
  }
  query::QueryOptions options;
  options.default_env = request.default_env().empty() ? "prod" : request.default_env();
  options.clock = ctx.clock;
  auto deadline = context->deadline();
  if (deadline != std::chrono::system_clock::time_point::max()) {
    options.deadline =
        std::chrono::duration_cast<std::chrono::microseconds>(deadline.time_since_epoch()).count();
  }
  options.cancelled = stream->cancelled();
  auto state = std::make_shared<TailState>();
  stream->SetOnCancel([state] {
    std::lock_guard<std::mutex> lock(state->mu);
    state->stop = true;
    state->cv.notify_all();
  });
  std::thread(RunTail, ctx, stream, request.query(), options, state).detach();
  return stream;
}

}  // namespace kq::server
