// Test helpers for files: a temporary directory removed at scope exit, and paths to the
// repository's own data (the shared corpus sits beside the repository as ../shared).
#ifndef KQ_TESTS_TESTING_TEMP_DIR_H_
#define KQ_TESTS_TESTING_TEMP_DIR_H_

#include <filesystem>
#include <string>
#include <string_view>

namespace kq::testing {

// Creates a fresh directory under $TMPDIR (or /tmp) and removes it, recursively, on
// destruction. Not copyable.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // path() / name, as a string.
  std::string Sub(std::string_view name) const;

 private:
  std::filesystem::path path_;
};

// The repository root (from $KQ_SOURCE_DIR, set by CTest; else the compile-time root).
std::filesystem::path SourceDir();
// The shared corpus: $KQ_CORPUS_DIR, else <root>/../shared/corpus.
std::filesystem::path CorpusDir();
// The built binaries: <build>/bin.
std::filesystem::path BinDir();

// Reads a whole file; fails the current test (and returns "") if it cannot.
std::string ReadFileOrDie(const std::filesystem::path& path);
// Writes a whole file; fails the current test if it cannot.
void WriteFileOrDie(const std::filesystem::path& path, std::string_view contents);

}  // namespace kq::testing

#endif  // KQ_TESTS_TESTING_TEMP_DIR_H_
