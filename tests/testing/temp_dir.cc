#include "tests/testing/temp_dir.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace kq::testing {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string templ = std::string(base && *base ? base : "/tmp") + "/kq-test-XXXXXX";
  char* made = mkdtemp(templ.data());
  if (made == nullptr) {
    ADD_FAILURE() << "mkdtemp failed for " << templ;
    return;
  }
  path_ = made;
}

TempDir::~TempDir() {
  std::error_code ec;
  if (!path_.empty()) std::filesystem::remove_all(path_, ec);
}

std::string TempDir::Sub(std::string_view name) const { return (path_ / name).string(); }

std::filesystem::path SourceDir() {
  const char* dir = std::getenv("KQ_SOURCE_DIR");
  return dir && *dir ? std::filesystem::path(dir) : std::filesystem::path(KQ_SOURCE_DIR_DEFAULT);
}

std::filesystem::path CorpusDir() {
  const char* dir = std::getenv("KQ_CORPUS_DIR");
  if (dir && *dir) return dir;
  return SourceDir().parent_path() / "shared" / "corpus";
}

std::filesystem::path BinDir() { return std::filesystem::path(KQ_BIN_DIR); }

std::string ReadFileOrDie(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "cannot read " << path;
    return "";
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFileOrDie(const std::filesystem::path& path, std::string_view contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  if (!out) ADD_FAILURE() << "cannot write " << path;
}

}  // namespace kq::testing
