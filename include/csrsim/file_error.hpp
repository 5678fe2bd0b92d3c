// file_error: an error at a place in a file the simulator reads (scenario
// files, the --config file): what() is "file:line:col: message", or
// "file: message" when no place applies (line 0).
//
// Thread-safety: a value type; safe to copy between threads.
#pragma once

#include <stdexcept>
#include <string>

namespace csrsim {

class FileError : public std::runtime_error {
 public:
  FileError(std::string file, int line, int column, std::string message)
      : std::runtime_error(Format(file, line, column, message)),
        file_(std::move(file)),
        line_(line),
        column_(column),
        message_(std::move(message)) {}
  const std::string& file() const { return file_; }
  int line() const { return line_; }      // 1-based; 0: the file as a whole
  int column() const { return column_; }  // 1-based
  const std::string& message() const { return message_; }

 private:
  static std::string Format(const std::string& file, int line, int column, const std::string& message) {
    if (line <= 0) return file + ": " + message;
    return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
  }

  std::string file_;
  int line_;
  int column_;
  std::string message_;
};

}  // namespace csrsim
