#include "server/importer.h"

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "server/worker_pool.h"
#include "storage/compressed_file.h"
#include "storage/decoder.h"

namespace kq::server {
namespace {

// True when the text starts (after whitespace) with a line that is one complete event: then
// the file is JSON lines. Otherwise it is a document (EventList, pretty-printed event, ...).
bool LooksLikeJsonLines(std::string_view head) {
  size_t start = head.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos) return true;
  size_t nl = head.find('\n', start);
  if (nl == std::string_view::npos) return false;
  storage::Decoder decoder;
  storage::Event ev;
  return decoder.DecodeEvent(head.substr(start, nl - start), &ev).ok();
}

uint64_t CountLines(std::string_view text) {
  uint64_t lines = 0;
  for (const char *p = text.data(), *end = p + text.size();
       (p = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)))) !=
       nullptr;
       ++p) {
    ++lines;
  }
  return lines;
}

// Text read from the file straight into an uninitialised buffer: a chunk reaches the sink
// without being copied (only the part line that ends it moves on to the next chunk).
class TextBuffer {
 public:
  explicit TextBuffer(size_t capacity)
      : data_(std::make_unique_for_overwrite<char[]>(capacity)), capacity_(capacity) {}
  std::string_view text() const { return std::string_view(data_.get(), size_); }
  size_t size() const { return size_; }
  // Reads from `file` until the text holds `want` bytes (growing as needed) or the file ends.
  // Returns false at the end of the file.
  absl::StatusOr<bool> Fill(storage::CompressedFileReader* file, size_t want) {
    while (size_ < want) {
      if (size_ == capacity_) Grow(std::max(want, 2 * capacity_));
      // No more than `want`: a reused buffer that grew for a long line must not make every
      // later chunk as large.
      KQ_ASSIGN_OR_RETURN(size_t n,
                          file->Read(data_.get() + size_, std::min(capacity_, want) - size_));
      if (n == 0) return false;
      size_ += n;
    }
    return true;
  }
  // Moves the bytes from `at` on to the start of `next` (empty) and keeps those before.
  void MoveTail(size_t at, TextBuffer* next) {
    next->size_ = 0;
    if (next->capacity_ < size_ - at) next->Grow(size_ - at);
    std::memcpy(next->data_.get(), data_.get() + at, size_ - at);
    next->size_ = size_ - at;
    size_ = at;
  }

 private:
  void Grow(size_t capacity) {
    auto grown = std::make_unique_for_overwrite<char[]>(capacity);
    std::memcpy(grown.get(), data_.get(), size_);
    data_ = std::move(grown);
    capacity_ = capacity;
  }
  std::unique_ptr<char[]> data_;
  size_t capacity_;
  size_t size_ = 0;
};

}  // namespace

ImportSink PipelineSink(IngestPipeline* pipeline, std::string env, std::string cluster) {
  return [pipeline, env = std::move(env), cluster = std::move(cluster)](
             const ImportChunk& chunk, IngestStats* stats) -> absl::Status {
    return pipeline->IngestText(env, cluster, chunk.source, "import", chunk.text, chunk.kind,
                                chunk.first_line, stats);
  };
}

absl::StatusOr<IngestStats> ImportFile(const std::string& path, const ImportSink& sink,
                                       const ProgressFn& progress, const ImportOptions& options) {
  KQ_ASSIGN_OR_RETURN(std::unique_ptr<storage::CompressedFileReader> file,
                      storage::CompressedFileReader::Open(path));
  IngestStats total;
  ImportProgress prog;
  prog.bytes_total = file->file_size();
  auto report = [&] {
    prog.bytes_done = file->file_offset();
    prog.events = total.decoded;
    prog.quarantined = total.quarantined;
    if (progress) progress(prog);
  };

  const size_t chunk_bytes = std::max<size_t>(options.chunk_bytes, 4096);
  auto buf = std::make_unique<TextBuffer>(chunk_bytes);
  bool eof = false;
  auto fill = [&](size_t want) -> absl::Status {
    if (eof) return absl::OkStatus();
    KQ_ASSIGN_OR_RETURN(bool more, buf->Fill(file.get(), want));
    eof = !more;
    return absl::OkStatus();
  };

  KQ_RETURN_IF_ERROR(fill(chunk_bytes));
  const std::string source = absl::StrCat("import:", path);
  if (!LooksLikeJsonLines(buf->text())) {
    KQ_RETURN_IF_ERROR(fill(options.max_document_bytes + 1));
    if (buf->size() > options.max_document_bytes) {
      return absl::ResourceExhaustedError(
          absl::StrCat(path, ": a single JSON document larger than ", options.max_document_bytes,
                       " bytes; convert it to JSON lines"));
    }
    KQ_RETURN_IF_ERROR(sink({buf->text(), TextKind::kBody, 1, source}, &total));
    report();
    return total;
  }

  // Chunks handed to the sink; each owns its text while the sink works on it. A worker that
  // stored its chunk gets the next one at once, whichever chunk finishes first (waiting for the
  // oldest would leave a worker idle whenever a later chunk is stored sooner).
  struct InFlight {
    std::unique_ptr<TextBuffer> text;
    IngestStats stats;
    absl::Status status;
    bool finished = false;  // guarded by done_mu
  };
  std::vector<std::unique_ptr<InFlight>> in_flight;
  std::mutex done_mu;
  std::condition_variable done_cv;
  // Buffers of stored chunks, reused for the next ones: a fresh buffer of several MiB would be
  // new pages from the kernel each time (page faults cost as much as the reading).
  std::vector<std::unique_ptr<TextBuffer>> spare;
  // The sink runs on threads that live for the whole file, not one per chunk: its per-thread
  // state (the pipeline's decoder and reused events) is kept from chunk to chunk.
  // Declared after in_flight and done_mu so that it is joined first.
  const size_t max_in_flight = std::max<size_t>(options.chunks_in_flight, 1);
  WorkerPool pool(max_in_flight, max_in_flight);
  // Waits for a chunk in flight to be stored and returns its status.
  auto finish_one = [&]() -> absl::Status {
    std::unique_ptr<InFlight> f;
    {
      std::unique_lock<std::mutex> l(done_mu);
      auto finished = [&] {
        return std::find_if(in_flight.begin(), in_flight.end(),
                            [](const auto& c) { return c->finished; });
      };
      done_cv.wait(l, [&] { return finished() != in_flight.end(); });
      auto it = finished();
      f = std::move(*it);
      in_flight.erase(it);
    }
    spare.push_back(std::move(f->text));
    total.Merge(f->stats);
    report();
    return f->status;
  };
  // Waits for every chunk in flight; returns `status` if it is an error, else the first error
  // of those chunks.
  auto finish_all = [&](absl::Status status) -> absl::Status {
    while (!in_flight.empty()) status.Update(finish_one());
    return status;
  };
  auto send = [&](std::unique_ptr<TextBuffer> text, uint64_t first_line) -> absl::Status {
    while (in_flight.size() >= max_in_flight) {
      KQ_RETURN_IF_ERROR(finish_one());
    }
    auto f = std::make_unique<InFlight>();
    f->text = std::move(text);
    InFlight* raw = f.get();
    {
      std::lock_guard<std::mutex> l(done_mu);
      in_flight.push_back(std::move(f));
    }
    // At most max_in_flight tasks are queued or running: Submit cannot find the queue full.
    if (!pool.Submit([&, raw, first_line] {
          absl::Status status =
              sink({raw->text->text(), TextKind::kLines, first_line, source}, &raw->stats);
          {
            std::lock_guard<std::mutex> l(done_mu);
            raw->status = std::move(status);
            raw->finished = true;
          }
          done_cv.notify_one();
        })) {
      std::lock_guard<std::mutex> l(done_mu);
      in_flight.pop_back();
      return absl::InternalError("import: no worker free for a chunk");
    }
    return absl::OkStatus();
  };

  uint64_t line = 1;
  while (true) {
    if (absl::Status s = fill(chunk_bytes); !s.ok()) return finish_all(s);
    if (buf->size() == 0) break;
    size_t cut = buf->size();
    if (!eof) {
      size_t nl = buf->text().rfind('\n');
      if (nl == std::string_view::npos) {
        // One line longer than a chunk: read on until its newline.
        if (absl::Status s = fill(buf->size() * 2); !s.ok()) return finish_all(s);
        continue;
      }
      cut = nl + 1;
    }
    std::unique_ptr<TextBuffer> next;
    if (spare.empty()) {
      next = std::make_unique<TextBuffer>(chunk_bytes);
    } else {
      next = std::move(spare.back());
      spare.pop_back();
    }
    buf->MoveTail(cut, next.get());
    const uint64_t first_line = line;
    line += CountLines(buf->text());
    if (absl::Status s = send(std::move(buf), first_line); !s.ok()) return finish_all(s);
    buf = std::move(next);
    if (eof && buf->size() == 0) break;
  }
  KQ_RETURN_IF_ERROR(finish_all(absl::OkStatus()));
  report();
  return total;
}

}  // namespace kq::server
