#include "retention/archive.h"

#include <openssl/evp.h>
#include <stdio.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/json_escape.h"
#include "common/status.h"
#include "common/strings.h"
#include "common/time.h"
#include "retention/ledger.h"
#include "retention/yaml.h"
#include "storage/compressed_file.h"

namespace kq::retention {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kClusterDir = "_cluster";

std::string DayText(TimeMicros day) { return FormatTimestamp(day).substr(0, 10); }

std::string ManifestPath(const std::string& dir) { return dir + "/manifest.json"; }

absl::StatusOr<std::string> ReadWhole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("missing ", path));
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::string ManifestText(const ArchivePartition& p) {
  std::string out = absl::StrCat(R"({"env":)", JsonQuote(p.env), R"(,"date":")", DayText(p.day),
                                 R"(","namespace":)", JsonQuote(p.ns), R"(,"parts":[)");
  for (size_t i = 0; i < p.parts.size(); ++i) {
    const ArchivePart& part = p.parts[i];
    absl::StrAppend(&out, i > 0 ? ",\n" : "\n", R"({"number":)", part.number, R"(,"file":)",
                    JsonQuote(part.file), R"(,"events":)", part.events, R"(,"bytes":)", part.bytes,
                    R"(,"min_time":")", FormatTimestamp(part.min_time), R"(","max_time":")",
                    FormatTimestamp(part.max_time), R"(","sha256":")", part.sha256, "\"}");
  }
  absl::StrAppend(&out, "]}\n");
  return out;
}

absl::StatusOr<std::vector<ArchivePart>> ParseManifest(const std::string& path,
                                                       const std::string& text) {
  absl::StatusOr<yaml::Node> root = yaml::Parse(text, path);
  if (!root.ok()) return absl::DataLossError(root.status().message());
  const yaml::Node* parts = root->Find("parts");
  if (parts == nullptr || !parts->IsSequence()) {
    return absl::DataLossError(absl::StrCat(path, ": manifest without a parts list"));
  }
  std::vector<ArchivePart> out;
  for (const yaml::Node& n : parts->items()) {
    ArchivePart p;
    const yaml::Node* number = n.Find("number");
    const yaml::Node* file = n.Find("file");
    const yaml::Node* sha = n.Find("sha256");
    if (number == nullptr || file == nullptr || sha == nullptr) {
      return absl::DataLossError(n.Error("part without number, file or sha256").message());
    }
    absl::StatusOr<int64_t> num = number->Int();
    if (!num.ok()) return absl::DataLossError(num.status().message());
    p.number = static_cast<int>(*num);
    p.file = file->scalar();
    p.sha256 = sha->scalar();
    for (auto [key, field] : {std::pair{"events", &p.events}, std::pair{"bytes", &p.bytes}}) {
      if (const yaml::Node* v = n.Find(key)) {
        absl::StatusOr<int64_t> i = v->Int();
        if (i.ok()) *field = static_cast<uint64_t>(*i);
      }
    }
    for (auto [key, field] :
         {std::pair{"min_time", &p.min_time}, std::pair{"max_time", &p.max_time}}) {
      if (const yaml::Node* v = n.Find(key)) {
        absl::StatusOr<TimeMicros> t = ParseTimestamp(v->scalar());
        if (t.ok()) *field = *t;
      }
    }
    out.push_back(std::move(p));
  }
  return out;
}

// Calls `fn` with every non-empty line of the (zstd-compressed, or plain for parts written
// before compression) file at `path`. Returns false when `fn` asked to stop.
absl::StatusOr<bool> ForEachLine(const std::string& path,
                                 const std::function<absl::StatusOr<bool>(std::string_view)>& fn) {
  KQ_ASSIGN_OR_RETURN(std::unique_ptr<storage::CompressedFileReader> reader,
                      storage::CompressedFileReader::Open(path));
  std::string buf;
  std::vector<char> chunk(256 << 10);
  size_t start = 0;
  while (true) {
    KQ_ASSIGN_OR_RETURN(size_t n, reader->Read(chunk.data(), chunk.size()));
    bool at_end = n == 0;
    buf.erase(0, start);
    start = 0;
    buf.append(chunk.data(), n);
    while (true) {
      size_t nl = buf.find('\n', start);
      if (nl == std::string::npos) {
        if (!at_end) break;
        nl = buf.size();
      }
      if (nl > start) {
        KQ_ASSIGN_OR_RETURN(bool more, fn(std::string_view(buf).substr(start, nl - start)));
        if (!more) return false;
      }
      start = nl + 1;
      if (start >= buf.size()) break;
    }
    if (at_end) return true;
  }
}

}  // namespace

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  return out;
}

std::string PartitionDir(std::string_view root, std::string_view env, TimeMicros day,
                         std::string_view ns) {
  return absl::StrCat(Sv(root), "/", Sv(env), "/date=", DayText(day),
                      "/ns=", ns.empty() ? Sv(kClusterDir) : Sv(ns));
}

absl::StatusOr<ArchivePartition> ReadPartition(std::string_view root, std::string_view env,
                                               TimeMicros day, std::string_view ns) {
  ArchivePartition p;
  p.env = std::string(env);
  p.day = day;
  p.ns = std::string(ns);
  p.dir = PartitionDir(root, env, day, ns);
  std::string path = ManifestPath(p.dir);
  if (!fs::exists(path)) return p;
  KQ_ASSIGN_OR_RETURN(std::string text, ReadWhole(path));
  KQ_ASSIGN_OR_RETURN(p.parts, ParseManifest(path, text));
  return p;
}

absl::StatusOr<ArchivePart> WritePart(std::string_view root, std::string_view env, TimeMicros day,
                                      std::string_view ns, int part_number,
                                      const std::vector<ArchiveEvent>& events,
                                      std::string* manifest_sha256, bool sync) {
  KQ_ASSIGN_OR_RETURN(ArchivePartition p, ReadPartition(root, env, day, ns));
  for (const ArchivePart& existing : p.parts) {
    if (existing.number == part_number) {
      KQ_ASSIGN_OR_RETURN(std::string text, ReadWhole(ManifestPath(p.dir)));
      *manifest_sha256 = Sha256Hex(text);
      return existing;
    }
  }
  std::error_code ec;
  fs::create_directories(p.dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", p.dir, ": ", ec.message()));
  ArchivePart part;
  part.number = part_number;
  part.file = absl::StrCat("part-", part_number, Sv(kArchivePartExtension));
  std::string path = p.dir + "/" + part.file;
  std::string tmp = path + ".tmp";
  KQ_ASSIGN_OR_RETURN(std::unique_ptr<storage::CompressedFileWriter> writer,
                      storage::CompressedFileWriter::Create(tmp, kArchiveZstdLevel));
  std::string line;
  for (const ArchiveEvent& e : events) {
    line.assign(e.json);
    line.push_back('\n');
    KQ_RETURN_IF_ERROR(writer->Append(line));
    part.min_time = part.events == 0 ? e.time : std::min(part.min_time, e.time);
    part.max_time = part.events == 0 ? e.time : std::max(part.max_time, e.time);
    ++part.events;
  }
  KQ_RETURN_IF_ERROR(writer->Finish(sync));
  // The digest is of the file as stored (what `sha256sum` prints), read back from the disk.
  KQ_ASSIGN_OR_RETURN(std::string stored, ReadWhole(tmp));
  part.bytes = stored.size();
  part.sha256 = Sha256Hex(stored);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("cannot rename ", tmp, ": ", std::strerror(errno)));
  }
  p.parts.push_back(part);
  std::sort(p.parts.begin(), p.parts.end(),
            [](const ArchivePart& a, const ArchivePart& b) { return a.number < b.number; });
  std::string manifest = ManifestText(p);
  KQ_RETURN_IF_ERROR(WriteFileAtomically(ManifestPath(p.dir), manifest, sync));
  *manifest_sha256 = Sha256Hex(manifest);
  return part;
}

absl::StatusOr<std::vector<ArchivePartition>> ListPartitions(std::string_view root,
                                                             std::string_view env) {
  std::vector<ArchivePartition> out;
  fs::path base = fs::path(std::string(root)) / std::string(env);
  std::error_code ec;
  if (!fs::exists(base, ec)) return out;
  for (const auto& day_entry : fs::directory_iterator(base, ec)) {
    std::string day_name = day_entry.path().filename().string();
    if (!day_entry.is_directory() || day_name.rfind("date=", 0) != 0) continue;
    absl::StatusOr<TimeMicros> day = ParseTimestamp(day_name.substr(5));
    if (!day.ok()) continue;
    for (const auto& ns_entry : fs::directory_iterator(day_entry.path(), ec)) {
      std::string ns_name = ns_entry.path().filename().string();
      if (!ns_entry.is_directory() || ns_name.rfind("ns=", 0) != 0) continue;
      std::string ns = ns_name.substr(3);
      if (ns == kClusterDir) ns.clear();
      KQ_ASSIGN_OR_RETURN(ArchivePartition p, ReadPartition(root, env, *day, ns));
      out.push_back(std::move(p));
    }
  }
  if (ec)
    return absl::InternalError(absl::StrCat("cannot list ", base.string(), ": ", ec.message()));
  std::sort(out.begin(), out.end(), [](const ArchivePartition& a, const ArchivePartition& b) {
    return a.day != b.day ? a.day < b.day : a.ns < b.ns;
  });
  return out;
}

absl::Status DeleteArchivePartition(std::string_view root, std::string_view env, TimeMicros day,
                                    std::string_view ns) {
  std::string dir = PartitionDir(root, env, day, ns);
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot remove ", dir, ": ", ec.message()));
  // Drop the day directory once its last partition is gone.
  fs::path day_dir = fs::path(dir).parent_path();
  if (fs::is_empty(day_dir, ec) && !ec) fs::remove(day_dir, ec);
  return absl::OkStatus();
}

absl::StatusOr<VerifyReport> VerifyArchive(std::string_view root, std::string_view env) {
  VerifyReport report;
  KQ_ASSIGN_OR_RETURN(std::vector<ArchivePartition> partitions, ListPartitions(root, env));
  for (const ArchivePartition& p : partitions) {
    ++report.partitions;
    for (const ArchivePart& part : p.parts) {
      ++report.parts;
      report.events += part.events;
      std::string path = p.dir + "/" + part.file;
      absl::StatusOr<std::string> data = ReadWhole(path);
      if (!data.ok()) {
        report.problems.push_back({path, "missing"});
      } else if (data->size() != part.bytes) {
        report.problems.push_back({path, absl::StrCat("size mismatch: manifest says ", part.bytes,
                                                      " bytes, file has ", data->size())});
      } else if (Sha256Hex(*data) != part.sha256) {
        report.problems.push_back({path, "sha256 mismatch: the file was altered"});
      }
    }
    std::error_code ec;
    for (const auto& f : fs::directory_iterator(p.dir, ec)) {
      std::string name = f.path().filename().string();
      if (name == "manifest.json") continue;
      bool listed = std::any_of(p.parts.begin(), p.parts.end(),
                                [&](const ArchivePart& part) { return part.file == name; });
      if (!listed) report.problems.push_back({f.path().string(), "not in manifest"});
    }
  }
  return report;
}

absl::StatusOr<bool> ReadPart(const ArchivePartition& partition, const ArchivePart& part,
                              const std::function<absl::StatusOr<bool>(std::string_view)>& fn) {
  std::string path = partition.dir + "/" + part.file;
  KQ_ASSIGN_OR_RETURN(std::string data, ReadWhole(path));
  if (Sha256Hex(data) != part.sha256) {
    return absl::DataLossError(absl::StrCat(path, ": sha256 mismatch, the file was altered"));
  }
  return ForEachLine(path, fn);
}

absl::Status ReadArchive(std::string_view root, std::string_view env, TimeMicros from,
                         TimeMicros to, const std::vector<std::string>& namespaces,
                         const std::function<absl::StatusOr<bool>(std::string_view)>& fn) {
  KQ_ASSIGN_OR_RETURN(std::vector<ArchivePartition> partitions, ListPartitions(root, env));
  for (const ArchivePartition& p : partitions) {
    if (p.day + kMicrosPerDay <= from || p.day >= to) continue;
    if (!namespaces.empty() &&
        std::find(namespaces.begin(), namespaces.end(), p.ns) == namespaces.end()) {
      continue;
    }
    for (const ArchivePart& part : p.parts) {
      if (part.max_time < from || part.min_time >= to) continue;
      KQ_ASSIGN_OR_RETURN(bool more, ReadPart(p, part, fn));
      if (!more) return absl::OkStatus();
    }
  }
  return absl::OkStatus();
}

}  // namespace kq::retention
