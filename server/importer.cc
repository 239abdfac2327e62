#include "server/importer.h"

#include <algorithm>
#include <deque>
#include <future>
#include <memory>

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
  return static_cast<uint64_t>(std::count(text.begin(), text.end(), '\n'));
}

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

  std::string buf;
  std::vector<char> block(std::max<size_t>(options.chunk_bytes, 4096));
  bool eof = false;
  auto fill = [&](size_t want) -> absl::Status {
    while (!eof && buf.size() < want) {
      KQ_ASSIGN_OR_RETURN(size_t n, file->Read(block.data(), block.size()));
      if (n == 0) {
        eof = true;
        break;
      }
      buf.append(block.data(), n);
    }
    return absl::OkStatus();
  };

  KQ_RETURN_IF_ERROR(fill(options.chunk_bytes));
  const std::string source = absl::StrCat("import:", path);
  if (!LooksLikeJsonLines(buf)) {
    KQ_RETURN_IF_ERROR(fill(options.max_document_bytes + 1));
    if (buf.size() > options.max_document_bytes) {
      return absl::ResourceExhaustedError(
          absl::StrCat(path, ": a single JSON document larger than ", options.max_document_bytes,
                       " bytes; convert it to JSON lines"));
    }
    KQ_RETURN_IF_ERROR(sink({buf, TextKind::kBody, 1, source}, &total));
    report();
    return total;
  }

  // Chunks handed to the sink, oldest first; each owns its text while the sink works on it.
  struct InFlight {
    std::string text;
    IngestStats stats;
    std::promise<absl::Status> done;
    std::future<absl::Status> stored = done.get_future();
  };
  std::deque<std::unique_ptr<InFlight>> in_flight;
  // The sink runs on threads that live for the whole file, not one per chunk: its per-thread
  // state (the store's segment builder, the pipeline's decoder) is reused from chunk to chunk.
  // Declared after in_flight so that it is joined first.
  const size_t max_in_flight = std::max<size_t>(options.chunks_in_flight, 1);
  WorkerPool pool(max_in_flight, max_in_flight);
  auto finish_oldest = [&]() -> absl::Status {
    std::unique_ptr<InFlight> f = std::move(in_flight.front());
    in_flight.pop_front();
    absl::Status status = f->stored.get();
    total.Merge(f->stats);
    report();
    return status;
  };
  // Waits for every chunk in flight; returns `status` if it is an error, else the first error
  // of those chunks.
  auto finish_all = [&](absl::Status status) -> absl::Status {
    while (!in_flight.empty()) status.Update(finish_oldest());
    return status;
  };
  auto send = [&](std::string text, uint64_t first_line) -> absl::Status {
    while (in_flight.size() >= max_in_flight) {
      KQ_RETURN_IF_ERROR(finish_oldest());
    }
    auto f = std::make_unique<InFlight>();
    f->text = std::move(text);
    InFlight* raw = f.get();
    // At most max_in_flight tasks are queued or running: Submit cannot find the queue full.
    if (!pool.Submit([&sink, &source, raw, first_line] {
          raw->done.set_value(sink({raw->text, TextKind::kLines, first_line, source}, &raw->stats));
        })) {
      return absl::InternalError("import: no worker free for a chunk");
    }
    in_flight.push_back(std::move(f));
    return absl::OkStatus();
  };

  uint64_t line = 1;
  while (true) {
    if (absl::Status s = fill(options.chunk_bytes); !s.ok()) return finish_all(s);
    if (buf.empty()) break;
    size_t cut = buf.size();
    if (!eof) {
      size_t nl = buf.rfind('\n');
      if (nl == std::string::npos) {
        // One line longer than a chunk: read on until its newline.
        if (absl::Status s = fill(buf.size() * 2); !s.ok()) return finish_all(s);
        continue;
      }
      cut = nl + 1;
    }
    std::string chunk = buf.substr(0, cut);
    buf.erase(0, cut);
    const uint64_t first_line = line;
    line += CountLines(chunk);
    if (absl::Status s = send(std::move(chunk), first_line); !s.ok()) return finish_all(s);
    if (eof && buf.empty()) break;
  }
  KQ_RETURN_IF_ERROR(finish_all(absl::OkStatus()));
  report();
  return total;
}

}  // namespace kq::server
