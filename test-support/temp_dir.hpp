// Temporary directories for tests, shared by the unit tests (simulator/tests)
// and the client tests (client-tests).
//
// Thread-safety: TempDir is not shared between threads; MakeTempDir may be
// called from any thread.
#pragma once

#include <string>
#include <string_view>

namespace csrsim::testing {

// A fresh directory under the system temp dir, removed with everything in it
// when the object goes.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // Writes `text` to path()/name and returns that file's path.
  std::string Write(const std::string& name, std::string_view text) const;

 private:
  std::string path_;
};

// A fresh directory under the system temp dir, removed at process exit (for
// files that must outlive a scope, e.g. a child process's stderr).
std::string MakeTempDir();
// Writes `text` to `dir/name` and returns the path.
std::string WriteFile(const std::string& dir, const std::string& name, std::string_view text);

}  // namespace csrsim::testing
