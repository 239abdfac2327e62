// Writes out what zstd compresses on its own in kq segments, decompressed, one file per unit,
// so that trained zstd dictionaries can be measured with the zstd CLI
// (tools/bench/storage/zstd_dict.sh):
//
//   kq_segment_units --input FILE --out DIR [--events N] [--rows K]
//
// The first --events events of the JSON-lines FILE (default 1,000,000) are grouped by
// namespace in file order; every --rows K events of a namespace (default 16,384, a merged
// segment; appends make segments of hundreds of rows) are encoded as one segment
// (storage::SegmentBuilder, the store's zstd level). Each unit of it goes to
// DIR/<column>/<segment>-<unit>: a column, a chunk of the rest column (64), or a chunk of a body
// block (DIR/101: request bodies, DIR/102: response bodies). Column ids: docs/format.md.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "storage/decoder.h"
#include "storage/segment.h"

namespace kq {
namespace {

namespace fs = std::filesystem;

constexpr uint32_t kRequestBodiesDir = 101;
constexpr uint32_t kResponseBodiesDir = 102;

struct Args {
  std::string input;
  std::string out;
  uint64_t events = 1'000'000;
  size_t rows = 16'384;
};

// Writes every compression unit of one encoded segment; `seq` numbers the segment.
class UnitWriter {
 public:
  explicit UnitWriter(fs::path out) : out_(std::move(out)) {}

  absl::Status Write(const storage::EncodedSegment& enc) {
    const uint64_t seq = next_seq_++;
    KQ_ASSIGN_OR_RETURN(storage::SegmentView view, storage::SegmentView::Parse(enc.segment));
    for (uint32_t id : view.ColumnIds()) {
      KQ_ASSIGN_OR_RETURN(std::vector<std::string> units, view.CompressionUnits(id));
      KQ_RETURN_IF_ERROR(WriteUnits(id, seq, units));
    }
    for (auto [dir, block] : {std::pair{kRequestBodiesDir, &enc.request_bodies},
                              std::pair{kResponseBodiesDir, &enc.response_bodies}}) {
      if (block->empty()) continue;
      KQ_ASSIGN_OR_RETURN(std::vector<std::string> units,
                          storage::BodyBlockCompressionUnits(*block, enc.rows));
      KQ_RETURN_IF_ERROR(WriteUnits(dir, seq, units));
    }
    return absl::OkStatus();
  }
  uint64_t segments() const { return next_seq_; }

 private:
  absl::Status WriteUnits(uint32_t dir, uint64_t seq, const std::vector<std::string>& units) {
    const fs::path d = out_ / std::to_string(dir);
    std::error_code ec;
    fs::create_directories(d, ec);
    for (size_t i = 0; i < units.size(); ++i) {
      const fs::path file = d / absl::StrCat(seq, "-", i);
      std::ofstream f(file, std::ios::binary);
      f.write(units[i].data(), static_cast<std::streamsize>(units[i].size()));
      if (!f) return absl::InternalError(absl::StrCat("writing ", file.string()));
    }
    return absl::OkStatus();
  }

  fs::path out_;
  uint64_t next_seq_ = 0;
};

absl::Status Run(const Args& args) {
  std::ifstream in(args.input, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", args.input));
  storage::Decoder decoder;
  UnitWriter writer(args.out);
  std::map<std::string, std::unique_ptr<storage::SegmentBuilder>> builders;  // by namespace
  std::string line;
  uint64_t events = 0;
  while (events < args.events && std::getline(in, line)) {
    storage::Event event;
    if (!decoder.DecodeEvent(line, &event).ok()) continue;
    ++events;
    std::unique_ptr<storage::SegmentBuilder>& b = builders[event.Namespace()];
    if (b == nullptr) b = std::make_unique<storage::SegmentBuilder>();
    b->Add(event);
    if (b->rows() >= args.rows) KQ_RETURN_IF_ERROR(writer.Write(b->Finish()));
  }
  for (auto& [ns, b] : builders) {
    if (b->rows() > 0) KQ_RETURN_IF_ERROR(writer.Write(b->Finish()));
  }
  std::cout << events << " events, " << writer.segments() << " segments of at most " << args.rows
            << " rows, units in " << args.out << "\n";
  return absl::OkStatus();
}

}  // namespace
}  // namespace kq

int main(int argc, char** argv) {
  kq::Args args;
  CLI::App app("Writes the units zstd compresses on their own in kq segments, decompressed.");
  app.add_option("--input", args.input, "JSON-lines file of audit events")->required();
  app.add_option("--out", args.out, "directory for the units")->required();
  app.add_option("--events", args.events, "events read from the file")->capture_default_str();
  app.add_option("--rows", args.rows, "rows per segment")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);
  absl::Status s = kq::Run(args);
  if (!s.ok()) {
    std::cerr << "kq_segment_units: " << s << "\n";
    return 1;
  }
  return 0;
}
