#include "source/line_reader.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace edi {

LineReader::LineReader(std::FILE* f, std::string path, size_t max_line_bytes, bool owned)
    : file_(f),
      path_(std::move(path)),
      max_line_bytes_(max_line_bytes),
      owned_(owned),
      buf_(1 << 20) {}

LineReader::~LineReader() {
  if (owned_) std::fclose(file_);
}

Result<std::unique_ptr<LineReader>> LineReader::Open(const std::string& path,
                                                     size_t max_line_bytes) {
  if (path == "-") {
    return std::unique_ptr<LineReader>(new LineReader(stdin, "-", max_line_bytes, false));
  }
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return Status::IOError(path + ": " + std::strerror(errno));
  struct stat st;
  if (::fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
    std::fclose(f);
    return Status::InvalidArgument(path + ": is a directory, not a JSON-lines file");
  }
  auto r = std::unique_ptr<LineReader>(new LineReader(f, path, max_line_bytes, true));
  if (S_ISREG(st.st_mode)) r->total_bytes_ = static_cast<uint64_t>(st.st_size);
  return r;
}

bool LineReader::Fill() {
  if (eof_) return false;
  if (pos_ > 0) {
    std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
    end_ -= pos_;
    pos_ = 0;
  }
  if (end_ == buf_.size()) return true;  // caller handles a full buffer
  const size_t n = std::fread(buf_.data() + end_, 1, buf_.size() - end_, file_);
  end_ += n;
  bytes_read_ += n;
  if (n == 0) {
    if (std::ferror(file_)) status_ = Status::IOError(path_ + ": " + std::strerror(errno));
    eof_ = true;
    return false;
  }
  return true;
}

bool LineReader::Next(std::string* line, size_t* full_size, int64_t* line_number) {
  while (true) {
    line->clear();
    size_t total = 0;
    bool have_any = false;
    while (true) {
      char* start = buf_.data() + pos_;
      char* nl = static_cast<char*>(std::memchr(start, '\n', end_ - pos_));
      const size_t len = nl ? static_cast<size_t>(nl - start) : end_ - pos_;
      if (len > 0) have_any = true;
      const size_t room = line->size() < max_line_bytes_ ? max_line_bytes_ - line->size() : 0;
      line->append(start, std::min(len, room));
      total += len;
      if (nl != nullptr) {
        pos_ += len + 1;
        have_any = true;
        break;
      }
      pos_ = end_;
      if (!Fill()) break;
    }
    if (!have_any && eof_) return false;
    ++line_;
    if (!line->empty() && line->back() == '\r') {
      line->pop_back();
      --total;
    }
    // A UTF-8 byte-order mark before the first line (files saved by some Windows tools) is the
    // file's, not the first record's.
    if (line_ == 1 && line->compare(0, 3, "\xEF\xBB\xBF") == 0) {
      line->erase(0, 3);
      total -= 3;
    }
    // Skip blank lines: they carry no record.
    if (line->find_first_not_of(" \t") == std::string::npos && total == line->size()) {
      if (eof_ && pos_ >= end_) return false;
      continue;
    }
    *full_size = total;
    *line_number = line_;
    return true;
  }
}

}  // namespace edi
