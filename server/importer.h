// Importing audit log files: JSON lines (the log backend's format) or an EventList / single
// event document, plain, .gz or .zst (recognised by content). Used by `kq import` in embedded
// mode (sink = the IngestPipeline) and against kqd (sink = a gRPC Ingest stream).
//
// JSON lines are cut into chunks of whole lines (about `chunk_bytes` each) so memory stays
// bounded for any file size; a document is read whole. Each chunk goes to the sink with the
// line number of its first line, so quarantine records name the file's own lines. Chunks are
// stored while the following ones are read, up to ImportOptions::chunks_in_flight at once.
//
// ImportFile may be called from several threads at once (for different files).
#ifndef KQ_SERVER_IMPORTER_H_
#define KQ_SERVER_IMPORTER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "server/ingest_pipeline.h"

namespace kq::server {

struct ImportChunk {
  std::string_view text;
  TextKind kind = TextKind::kLines;
  uint64_t first_line = 1;  // 1-based line of text's first line in the file
  std::string source;       // "import:<path>"
};

// Stores one chunk and adds what happened to *stats.
using ImportSink = std::function<absl::Status(const ImportChunk& chunk, IngestStats* stats)>;

struct ImportProgress {
  uint64_t bytes_done = 0;   // of the file as stored (compressed bytes for .gz/.zst)
  uint64_t bytes_total = 0;  // file size
  uint64_t events = 0;       // items decoded so far (stored + duplicates)
  uint64_t quarantined = 0;
};
using ProgressFn = std::function<void(const ImportProgress&)>;

struct ImportOptions {
  size_t chunk_bytes = 4u << 20;
  // Chunks handed to the sink at once, on as many threads (kept for the whole file), while the
  // next one is read.
  // With 1 (the default, for sinks that must see chunks one after another, such as a gRPC
  // stream) the sink is called once at a time, in file order. Above 1 the sink must be
  // thread-safe (PipelineSink is).
  size_t chunks_in_flight = 1;
  // Largest document (EventList) file accepted, decompressed. Unit: bytes. Default 1 GiB.
  size_t max_document_bytes = 1u << 30;
};

// Imports one file. Progress is reported, on the calling thread, after each chunk is stored
// (may be null). The summary covers
// the whole file; on error, what was stored before the error stays stored (importing the file
// again is safe: duplicates are skipped).
[[nodiscard]] absl::StatusOr<IngestStats> ImportFile(const std::string& path,
                                                     const ImportSink& sink,
                                                     const ProgressFn& progress,
                                                     const ImportOptions& options = {});

// A sink that stores into `env`/`cluster` through `pipeline` (embedded mode).
ImportSink PipelineSink(IngestPipeline* pipeline, std::string env, std::string cluster);

}  // namespace kq::server

#endif  // KQ_SERVER_IMPORTER_H_
