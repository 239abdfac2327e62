#include "storage/compressed_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testing/status_matchers.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace kq::storage {
namespace {

using ::kq::testing::StatusIs;
using ::testing::HasSubstr;

// Reads the whole stream in small reads, to cross buffer boundaries.
absl::StatusOr<std::string> ReadAll(const std::string& path, size_t step = 1000) {
  auto r = CompressedFileReader::Open(path);
  if (!r.ok()) return r.status();
  std::string out, buf(step, '\0');
  while (true) {
    auto n = (*r)->Read(buf.data(), buf.size());
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    out.append(buf.data(), *n);
  }
  EXPECT_EQ((*r)->file_offset(), (*r)->file_size());
  return out;
}

// Text large enough for several input chunks of the reader (256 KiB).
std::string Sample() {
  std::string s;
  for (int i = 0; i < 40000; ++i) s += "{\"line\":" + std::to_string(i) + "}\n";
  return s;
}

void Compress(const std::string& tool, const std::string& path) {
  auto r = testing::RunProcess({"/bin/sh", "-c", tool + " '" + path + "'"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
}

TEST(CompressedFileTest, PlainGzipAndZstdGiveTheSameBytes) {
  testing::TempDir dir;
  const std::string text = Sample();
  testing::WriteFileOrDie(dir.Sub("a.log"), text);
  testing::WriteFileOrDie(dir.Sub("b.log"), text);
  testing::WriteFileOrDie(dir.Sub("c.log"), text);
  Compress("gzip -q", dir.Sub("b.log"));
  Compress("zstd -q --rm", dir.Sub("c.log"));
  ASSERT_OK_AND_ASSIGN(std::string plain, ReadAll(dir.Sub("a.log")));
  ASSERT_OK_AND_ASSIGN(std::string gz, ReadAll(dir.Sub("b.log.gz")));
  ASSERT_OK_AND_ASSIGN(std::string zst, ReadAll(dir.Sub("c.log.zst"), 77));
  EXPECT_EQ(plain, text);
  EXPECT_EQ(gz, text);
  EXPECT_EQ(zst, text);
  auto r = CompressedFileReader::Open(dir.Sub("b.log.gz"));
  ASSERT_OK(r.status());
  EXPECT_EQ((*r)->compression(), Compression::kGzip);
}

TEST(CompressedFileTest, ConcatenatedMembersAndFrames) {
  testing::TempDir dir;
  testing::WriteFileOrDie(dir.Sub("x"), "first\n");
  testing::WriteFileOrDie(dir.Sub("y"), "second\n");
  Compress("gzip -q", dir.Sub("x"));
  Compress("gzip -q", dir.Sub("y"));
  auto r = testing::RunProcess(
      {"/bin/sh", "-c",
       "cat '" + dir.Sub("x.gz") + "' '" + dir.Sub("y.gz") + "' > '" + dir.Sub("xy.gz") + "'"});
  ASSERT_EQ(r.exit_code, 0);
  ASSERT_OK_AND_ASSIGN(std::string xy, ReadAll(dir.Sub("xy.gz")));
  EXPECT_EQ(xy, "first\nsecond\n");

  testing::WriteFileOrDie(dir.Sub("p"), "one\n");
  testing::WriteFileOrDie(dir.Sub("q"), "two\n");
  Compress("zstd -q --rm", dir.Sub("p"));
  Compress("zstd -q --rm", dir.Sub("q"));
  r = testing::RunProcess(
      {"/bin/sh", "-c",
       "cat '" + dir.Sub("p.zst") + "' '" + dir.Sub("q.zst") + "' > '" + dir.Sub("pq.zst") + "'"});
  ASSERT_EQ(r.exit_code, 0);
  ASSERT_OK_AND_ASSIGN(std::string both, ReadAll(dir.Sub("pq.zst")));
  EXPECT_EQ(both, "one\ntwo\n");
}

TEST(CompressedFileTest, TruncatedAndCorruptStreamsAreDataLoss) {
  testing::TempDir dir;
  testing::WriteFileOrDie(dir.Sub("t.log"), Sample());
  Compress("gzip -q", dir.Sub("t.log"));
  std::string gz = testing::ReadFileOrDie(dir.Sub("t.log.gz"));
  testing::WriteFileOrDie(dir.Sub("cut.gz"), gz.substr(0, gz.size() / 2));
  EXPECT_THAT(ReadAll(dir.Sub("cut.gz")),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("cut.gz")));
  std::string bad = gz;
  for (size_t i = 100; i < 200; ++i) bad[i] = static_cast<char>(bad[i] ^ 0x5a);
  testing::WriteFileOrDie(dir.Sub("bad.gz"), bad);
  EXPECT_THAT(ReadAll(dir.Sub("bad.gz")), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("gzip")));

  testing::WriteFileOrDie(dir.Sub("z.log"), Sample());
  Compress("zstd -q --rm", dir.Sub("z.log"));
  std::string zst = testing::ReadFileOrDie(dir.Sub("z.log.zst"));
  testing::WriteFileOrDie(dir.Sub("cut.zst"), zst.substr(0, zst.size() - 10));
  EXPECT_THAT(ReadAll(dir.Sub("cut.zst")),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("zstd")));
}

TEST(CompressedFileTest, MissingFileAndDirectory) {
  testing::TempDir dir;
  EXPECT_THAT(CompressedFileReader::Open(dir.Sub("none")),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("none")));
  EXPECT_THAT(CompressedFileReader::Open(dir.path().string()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("directory")));
}

TEST(CompressedFileTest, EmptyFile) {
  testing::TempDir dir;
  testing::WriteFileOrDie(dir.Sub("e"), "");
  ASSERT_OK_AND_ASSIGN(std::string s, ReadAll(dir.Sub("e")));
  EXPECT_EQ(s, "");
}

}  // namespace
}  // namespace kq::storage
