// LineReader: JSON-lines input from a file or stdin, one record per line, with its line number.
//
// Lines longer than the record limit are not held in memory whole: the reader keeps the first
// `max_line_bytes` bytes, reports the full length, and the decoder quarantines the record as
// oversize. Not thread-safe.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace edi {

class LineReader {
 public:
  // "-" reads stdin. Fails with IOError naming the path.
  static Result<std::unique_ptr<LineReader>> Open(const std::string& path, size_t max_line_bytes);
  ~LineReader();

  // Reads the next non-empty line into *line (without the newline, a carriage return before it,
  // or a UTF-8 byte-order mark before the first line). *full_size is the line's
  // length before capping. Returns false at end of input; check status() for read errors.
  bool Next(std::string* line, size_t* full_size, int64_t* line_number);
  const Status& status() const { return status_; }
  const std::string& path() const { return path_; }
  // Bytes consumed so far, for progress reports.
  uint64_t bytes_read() const { return bytes_read_; }
  // Total size when known (regular files), else 0.
  uint64_t total_bytes() const { return total_bytes_; }

 private:
  LineReader(std::FILE* f, std::string path, size_t max_line_bytes, bool owned);
  bool Fill();

  std::FILE* file_;
  std::string path_;
  size_t max_line_bytes_;
  bool owned_;
  std::vector<char> buf_;
  size_t pos_ = 0, end_ = 0;
  bool eof_ = false;
  int64_t line_ = 0;
  uint64_t bytes_read_ = 0, total_bytes_ = 0;
  Status status_;
};

}  // namespace edi
