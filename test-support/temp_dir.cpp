#include "temp_dir.hpp"

#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <vector>

namespace csrsim::testing {

namespace {

namespace fs = std::filesystem;

std::string NewDirectory() {
  std::string pattern = (fs::temp_directory_path() / "csrsim-test-XXXXXX").string();
  if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  return pattern;
}

}  // namespace

TempDir::TempDir() : path_(NewDirectory()) {}

TempDir::~TempDir() {
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

std::string TempDir::Write(const std::string& name, std::string_view text) const {
  return WriteFile(path_, name, text);
}

std::string MakeTempDir() {
  static std::mutex mu;
  static std::vector<std::string> created;
  std::string dir = NewDirectory();
  std::lock_guard lock(mu);
  if (created.empty()) {
    std::atexit([] {
      std::error_code ignored;
      for (const auto& path : created) fs::remove_all(path, ignored);
    });
  }
  created.push_back(dir);
  return dir;
}

std::string WriteFile(const std::string& dir, const std::string& name, std::string_view text) {
  std::string path = (fs::path(dir) / name).string();
  std::ofstream(path) << text;
  return path;
}

}  // namespace csrsim::testing
