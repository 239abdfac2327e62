#include "retention/archive.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "storage/compressed_file.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace kq::retention {
namespace {

using ::kq::testing::IsOk;
using ::kq::testing::ReadFileOrDie;
using ::kq::testing::StatusIs;
using ::kq::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr TimeMicros kDay = kMicrosPerDay;
constexpr TimeMicros kJan1 = 19723 * kDay;  // 2024-01-01

std::vector<ArchiveEvent> Events(int n, TimeMicros base, std::string tag) {
  std::vector<ArchiveEvent> out;
  for (int i = 0; i < n; ++i) {
    out.push_back({R"({"auditID":")" + tag + std::to_string(i) + R"("})", base + i});
  }
  return out;
}

// The zstd command-line tool's reading of a file: the archive must be readable without kq.
std::string Zstdcat(const std::string& path) {
  std::string out;
  FILE* p = ::popen(("zstd -dc '" + path + "' 2>&1").c_str(), "r");
  if (p == nullptr) return "popen failed";
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  int rc = ::pclose(p);
  return rc == 0 ? out : "zstd failed: " + out;
}

TEST(ArchiveTest, Sha256MatchesAKnownVector) {
  // FIPS 180-2 test vector.
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ArchiveTest, WriteReadListIdempotent) {
  TempDir dir;
  std::string root = dir.Sub("archive");
  std::string digest1, digest2;
  ASSERT_OK_AND_ASSIGN(ArchivePart p1, WritePart(root, "prod", kJan1, "payments", 1,
                                                 Events(3, kJan1 + 10, "a"), &digest1));
  EXPECT_EQ(p1.file, "part-1.jsonl.zst");
  EXPECT_EQ(p1.events, 3u);
  EXPECT_EQ(p1.min_time, kJan1 + 10);
  EXPECT_EQ(p1.max_time, kJan1 + 12);
  std::string dir_path = PartitionDir(root, "prod", kJan1, "payments");
  EXPECT_EQ(dir_path, root + "/prod/date=2024-01-01/ns=payments");
  std::string content = ReadFileOrDie(dir_path + "/part-1.jsonl.zst");
  ASSERT_GE(content.size(), 4u);
  EXPECT_EQ(content.substr(0, 4), std::string("\x28\xb5\x2f\xfd", 4));  // zstd frame magic
  EXPECT_EQ(Zstdcat(dir_path + "/part-1.jsonl.zst"),
            "{\"auditID\":\"a0\"}\n{\"auditID\":\"a1\"}\n{\"auditID\":\"a2\"}\n");
  EXPECT_EQ(p1.bytes, content.size());
  EXPECT_EQ(p1.sha256, Sha256Hex(content));
  EXPECT_EQ(digest1, Sha256Hex(ReadFileOrDie(dir_path + "/manifest.json")));

  // Writing part 1 again (a resumed run) changes nothing.
  ASSERT_OK_AND_ASSIGN(ArchivePart again, WritePart(root, "prod", kJan1, "payments", 1,
                                                    Events(5, kJan1, "zzz"), &digest2));
  EXPECT_EQ(again.sha256, p1.sha256);
  EXPECT_EQ(digest2, digest1);
  EXPECT_EQ(ReadFileOrDie(dir_path + "/part-1.jsonl.zst"), content);

  ASSERT_OK_AND_ASSIGN(ArchivePart p2, WritePart(root, "prod", kJan1, "payments", 2,
                                                 Events(1, kJan1 + 99, "late"), &digest2));
  ASSERT_OK_AND_ASSIGN(ArchivePart c1, WritePart(root, "prod", kJan1 + kDay, "", 1,
                                                 Events(2, kJan1 + kDay, "c"), &digest2));
  EXPECT_EQ(c1.events, 2u);
  ASSERT_OK_AND_ASSIGN(auto partitions, ListPartitions(root, "prod"));
  ASSERT_EQ(partitions.size(), 2u);
  EXPECT_EQ(partitions[0].ns, "payments");
  ASSERT_EQ(partitions[0].parts.size(), 2u);
  EXPECT_EQ(partitions[0].parts[1].file, "part-2.jsonl.zst");
  EXPECT_EQ(partitions[1].ns, "");  // cluster-scoped
  EXPECT_EQ(partitions[1].day, kJan1 + kDay);
  EXPECT_TRUE(std::filesystem::exists(root + "/prod/date=2024-01-02/ns=_cluster/part-1.jsonl.zst"));

  std::vector<std::string> lines;
  ASSERT_THAT(ReadArchive(root, "prod", kJan1, kJan1 + 2 * kDay, {"payments"},
                          [&](std::string_view json) -> absl::StatusOr<bool> {
                            lines.emplace_back(json);
                            return true;
                          }),
              IsOk());
  EXPECT_THAT(lines, ElementsAre(R"({"auditID":"a0"})", R"({"auditID":"a1"})",
                                 R"({"auditID":"a2"})", R"({"auditID":"late0"})"));
  ASSERT_OK_AND_ASSIGN(auto empty, ListPartitions(root, "dev"));
  EXPECT_TRUE(empty.empty());

  ASSERT_THAT(DeleteArchivePartition(root, "prod", kJan1, "payments"), IsOk());
  EXPECT_FALSE(std::filesystem::exists(root + "/prod/date=2024-01-01"));
  ASSERT_OK_AND_ASSIGN(partitions, ListPartitions(root, "prod"));
  ASSERT_EQ(partitions.size(), 1u);
  EXPECT_EQ(partitions[0].day, kJan1 + kDay);
}

TEST(ArchiveTest, VerifyCatchesAFlippedByteAMissingFileAndAStrayFile) {
  TempDir dir;
  std::string root = dir.Sub("archive");
  std::string digest;
  ASSERT_OK(WritePart(root, "prod", kJan1, "a", 1, Events(4, kJan1, "x"), &digest).status());
  ASSERT_OK(WritePart(root, "prod", kJan1, "b", 1, Events(4, kJan1, "y"), &digest).status());
  ASSERT_OK_AND_ASSIGN(VerifyReport clean, VerifyArchive(root, "prod"));
  EXPECT_TRUE(clean.ok());
  EXPECT_EQ(clean.partitions, 2u);
  EXPECT_EQ(clean.parts, 2u);
  EXPECT_EQ(clean.events, 8u);

  std::string a = PartitionDir(root, "prod", kJan1, "a") + "/part-1.jsonl.zst";
  {
    // One bit in the middle of the compressed payload.
    std::fstream f(a, std::ios::in | std::ios::out | std::ios::binary);
    std::streamoff middle = static_cast<std::streamoff>(std::filesystem::file_size(a) / 2);
    f.seekg(middle);
    char c = static_cast<char>(f.get());
    f.seekp(middle);
    f.put(static_cast<char>(c ^ 0x10));
  }
  std::string b = PartitionDir(root, "prod", kJan1, "b") + "/part-1.jsonl.zst";
  std::filesystem::remove(b);
  kq::testing::WriteFileOrDie(PartitionDir(root, "prod", kJan1, "b") + "/part-9.jsonl.zst", "{}\n");

  ASSERT_OK_AND_ASSIGN(VerifyReport bad, VerifyArchive(root, "prod"));
  ASSERT_EQ(bad.problems.size(), 3u);
  EXPECT_EQ(bad.problems[0].path, a);
  EXPECT_THAT(bad.problems[0].what, HasSubstr("sha256 mismatch"));
  EXPECT_EQ(bad.problems[1].path, b);
  EXPECT_EQ(bad.problems[1].what, "missing");
  EXPECT_THAT(bad.problems[2].path, HasSubstr("part-9.jsonl.zst"));
  EXPECT_EQ(bad.problems[2].what, "not in manifest");

  EXPECT_THAT(ReadArchive(root, "prod", kJan1, kJan1 + kDay, {"a"},
                          [](std::string_view) -> absl::StatusOr<bool> { return true; }),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("altered")));
}

// The storage writer the parts go through: its errors, and a stream of several appends read
// back by the zstd CLI and by storage's reader.
TEST(CompressedFileWriterTest, WritesOneZstdFrameAndRefusesMisuse) {
  TempDir dir;
  EXPECT_THAT(storage::CompressedFileWriter::Create(dir.Sub("no/such/dir/x.zst")).status(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no/such/dir/x.zst")));
  EXPECT_THAT(storage::CompressedFileWriter::Create(dir.Sub("x.zst"), 0).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("level 0")));
  std::string path = dir.Sub("x.zst");
  ASSERT_OK_AND_ASSIGN(auto writer, storage::CompressedFileWriter::Create(path, 19));
  ASSERT_OK(writer->Append("hello "));
  ASSERT_OK(writer->Append(""));
  ASSERT_OK(writer->Append("world\n"));
  ASSERT_OK(writer->Finish(/*sync=*/true));
  EXPECT_EQ(writer->bytes_in(), 12u);
  EXPECT_EQ(writer->bytes_out(), std::filesystem::file_size(path));
  EXPECT_THAT(writer->Append("late"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("already finished")));
  EXPECT_EQ(Zstdcat(path), "hello world\n");
  ASSERT_OK_AND_ASSIGN(auto reader, storage::CompressedFileReader::Open(path));
  EXPECT_EQ(reader->compression(), storage::Compression::kZstd);
  char buf[64];
  ASSERT_OK_AND_ASSIGN(size_t n, reader->Read(buf, sizeof(buf)));
  EXPECT_EQ(std::string(buf, n), "hello world\n");
}

TEST(ArchiveTest, LargePartRoundTripsThroughZstdAndKeepsEveryLine) {
  // Several MiB of varied lines: more than one compression and read buffer.
  TempDir dir;
  std::string root = dir.Sub("archive");
  std::mt19937 rng(7);
  std::vector<ArchiveEvent> events;
  std::string expected;
  for (int i = 0; i < 20000; ++i) {
    std::string pad(rng() % 400, static_cast<char>('a' + rng() % 26));
    events.push_back(
        {R"({"auditID":")" + std::to_string(i) + R"(","p":")" + pad + "\"}", kJan1 + i});
    expected += events.back().json + "\n";
  }
  std::string digest;
  ASSERT_OK_AND_ASSIGN(ArchivePart part, WritePart(root, "prod", kJan1, "big", 1, events, &digest));
  EXPECT_EQ(part.events, 20000u);
  EXPECT_LT(part.bytes, expected.size() / 4);  // long runs of one letter compress well
  std::string path = PartitionDir(root, "prod", kJan1, "big") + "/part-1.jsonl.zst";
  EXPECT_EQ(part.sha256, Sha256Hex(ReadFileOrDie(path)));
  EXPECT_TRUE(Zstdcat(path) == expected);
  std::string got;
  ASSERT_THAT(ReadArchive(root, "prod", kJan1, kJan1 + kDay, {},
                          [&](std::string_view json) -> absl::StatusOr<bool> {
                            got.append(json);
                            got.push_back('\n');
                            return true;
                          }),
              IsOk());
  EXPECT_TRUE(got == expected);
  ASSERT_OK_AND_ASSIGN(VerifyReport report, VerifyArchive(root, "prod"));
  EXPECT_TRUE(report.ok());
}

TEST(ArchiveTest, PlainPartsFromBeforeCompressionStillReadAndVerify) {
  TempDir dir;
  std::string root = dir.Sub("archive");
  std::string pdir = PartitionDir(root, "prod", kJan1, "old");
  std::filesystem::create_directories(pdir);
  std::string data = "{\"auditID\":\"o1\"}\n{\"auditID\":\"o2\"}\n";
  kq::testing::WriteFileOrDie(pdir + "/part-1.jsonl", data);
  kq::testing::WriteFileOrDie(
      pdir + "/manifest.json",
      R"({"env":"prod","date":"2024-01-01","namespace":"old","parts":[{"number":1,)"
      R"("file":"part-1.jsonl","events":2,"bytes":)" +
          std::to_string(data.size()) +
          R"(,"min_time":"2024-01-01T00:00:00Z","max_time":"2024-01-01T00:00:01Z","sha256":")" +
          Sha256Hex(data) + "\"}]}\n");
  ASSERT_OK_AND_ASSIGN(VerifyReport report, VerifyArchive(root, "prod"));
  EXPECT_TRUE(report.ok());
  std::vector<std::string> lines;
  ASSERT_THAT(ReadArchive(root, "prod", kJan1, kJan1 + kDay, {},
                          [&](std::string_view json) -> absl::StatusOr<bool> {
                            lines.emplace_back(json);
                            return true;
                          }),
              IsOk());
  EXPECT_THAT(lines, ElementsAre(R"({"auditID":"o1"})", R"({"auditID":"o2"})"));
}

}  // namespace
}  // namespace kq::retention
