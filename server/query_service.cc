#include <algorithm>
#include <chrono>
#include <memory>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "server/response_stream.h"
#include "server/services.h"
#include "server/tail_stream.h"

namespace kq::server {
namespace {

constexpr uint32_t kDefaultBatchRows = 1024;
constexpr uint32_t kMaxBatchRows = 65536;
constexpr size_t kBatchBytes = 1 << 20;

// Streams engine results as QueryResponse batches into a ResponseStream.
class StreamSink : public query::RowSink {
 public:
  StreamSink(ResponseStream* stream, uint32_t batch_rows)
      : stream_(stream), batch_rows_(batch_rows) {}

  absl::Status OnSchema(const std::vector<query::ColumnInfo>& columns) override {
    kq::v1::QueryResponse r;
    for (const auto& c : columns) {
      auto* col = r.mutable_schema()->add_columns();
      col->set_name(c.name);
      col->set_type(static_cast<kq::v1::ValueType>(c.type));
    }
    return stream_->Push(std::move(r));
  }

  absl::Status OnRows(std::span<const query::Row> rows) override {
    for (const auto& row : rows) {
      auto* out = pending_.mutable_rows()->add_rows();
      for (const auto& v : row) pending_bytes_ += SetValue(v, out->add_values());
      if (static_cast<uint32_t>(pending_.rows().rows_size()) >= batch_rows_ ||
          pending_bytes_ >= kBatchBytes) {
        if (absl::Status s = Flush(); !s.ok()) return s;
      }
    }
    return absl::OkStatus();
  }

  absl::Status Flush() {
    if (!pending_.has_rows() || pending_.rows().rows_size() == 0) return absl::OkStatus();
    kq::v1::QueryResponse r;
    r.Swap(&pending_);
    pending_bytes_ = 0;
    return stream_->Push(std::move(r));
  }

  static size_t SetValue(const query::Value& v, kq::v1::Value* out) {
    struct Visitor {
      kq::v1::Value* out;
      size_t operator()(std::monostate) { return 1; }
      size_t operator()(bool b) {
        out->set_bool_value(b);
        return 2;
      }
      size_t operator()(int64_t i) {
        out->set_int_value(i);
        return 9;
      }
      size_t operator()(double d) {
        out->set_double_value(d);
        return 9;
      }
      size_t operator()(const std::string& s) {
        out->set_string_value(s);
        return s.size() + 2;
      }
      size_t operator()(const query::Datetime& d) {
        out->set_datetime_micros(d.micros);
        return 9;
      }
      size_t operator()(const query::Timespan& t) {
        out->set_timespan_micros(t.micros);
        return 9;
      }
      size_t operator()(const query::Json& j) {
        out->set_json(j.text);
        return j.text.size() + 2;
      }
    };
    return std::visit(Visitor{out}, v);
  }

 private:
  ResponseStream* stream_;
  uint32_t batch_rows_;
  kq::v1::QueryResponse pending_;
  size_t pending_bytes_ = 0;
};

std::string OutcomeName(const absl::Status& s) {
  return s.ok() ? "ok" : absl::StatusCodeToString(s.code());
}

}  // namespace

TimeMicros DeadlineMicros(const grpc::CallbackServerContext* context) {
  auto deadline = context->deadline();
  if (deadline == std::chrono::system_clock::time_point::max()) return INT64_MAX;
  return std::chrono::duration_cast<std::chrono::microseconds>(deadline.time_since_epoch()).count();
}

grpc::ServerWriteReactor<kq::v1::QueryResponse>* QueryServiceImpl::Query(
    grpc::CallbackServerContext* context, const kq::v1::QueryRequest* request) {
  auto* stream = new ResponseStream();
  query::QueryOptions options;
  options.default_env = request->default_env().empty() ? "prod" : request->default_env();
  options.clock = ctx_.clock;
  options.deadline = DeadlineMicros(context);
  options.max_rows =
      request->max_rows() == 0 ? ctx_.max_rows : std::min(request->max_rows(), ctx_.max_rows);
  options.cancelled = stream->cancelled();
  uint32_t batch_rows = request->batch_rows() == 0 ? kDefaultBatchRows
                                                   : std::min(request->batch_rows(), kMaxBatchRows);
  ServiceContext ctx = ctx_;
  std::string text = request->query();
  bool ok = ctx_.query_pool->Submit([ctx, stream, options, batch_rows, text] {
    auto start = std::chrono::steady_clock::now();
    StreamSink sink(stream, batch_rows);
    query::QueryStats stats;
    absl::Status s = query::RunQuery(*ctx.readers, text, options, sink, &stats);
    if (s.ok()) s = sink.Flush();
    if (s.ok()) {
      kq::v1::QueryResponse r;
      auto* st = r.mutable_stats();
      st->set_rows_returned(stats.rows_returned);
      st->set_rows_scanned(stats.rows_scanned);
      st->set_segments_total(stats.segments_total);
      st->set_segments_pruned(stats.segments_pruned);
      st->set_segments_read(stats.segments_read);
      st->set_bytes_read(stats.bytes_read);
      st->set_elapsed_micros(stats.elapsed);
      s = stream->Push(std::move(r));
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ctx.metrics->ObserveQuery(secs, OutcomeName(s));
    if (!s.ok() && s.code() != absl::StatusCode::kInvalidArgument) {
      log::Info("query ended: ", s.ToString());
    }
    stream->Close(s);
  });
  if (!ok) {
    stream->Close(absl::UnavailableError("kqd is busy or shutting down; retry shortly"));
  }
  return stream;
}

grpc::ServerUnaryReactor* QueryServiceImpl::Explain(grpc::CallbackServerContext* context,
                                                    const kq::v1::ExplainRequest* request,
                                                    kq::v1::ExplainResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  query::QueryOptions options;
  options.default_env = request->default_env().empty() ? "prod" : request->default_env();
  options.clock = ctx_.clock;
  options.deadline = DeadlineMicros(context);
  ServiceContext ctx = ctx_;
  std::string text = request->query();
  bool ok = ctx_.query_pool->Submit([ctx, reactor, response, options, text] {
    absl::StatusOr<std::string> plan = query::Explain(*ctx.readers, text, options);
    if (plan.ok()) response->set_plan(*plan);
    reactor->Finish(ToGrpc(plan.status()));
  });
  if (!ok) {
    reactor->Finish(
        grpc::Status(grpc::StatusCode::UNAVAILABLE, "kqd is busy or shutting down; retry"));
  }
  return reactor;
}

grpc::ServerWriteReactor<kq::v1::QueryResponse>* QueryServiceImpl::Tail(
    grpc::CallbackServerContext* context, const kq::v1::TailRequest* request) {
  return StartTail(ctx_, context, *request);
}

}  // namespace kq::server
