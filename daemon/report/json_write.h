// Writing values with a RapidJSON writer, shared by the reports' JSON forms.
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <span>
#include <string>
#include <string_view>

#include "common/utf8.h"

namespace edi {

template <typename W>
void WriteJsonString(W& w, std::string_view s) {
  // Text from the input may hold bytes that are not UTF-8 (a percent-decoded path, a cut
  // name): written as U+FFFD, so that the output stays JSON a reader accepts.
  if (size_t bad = 0; !IsValidUtf8(s, &bad)) {
    const std::string valid = ValidUtf8(s);
    w.String(valid.data(), static_cast<rapidjson::SizeType>(valid.size()));
    return;
  }
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

// Empty text is null.
template <typename W>
void WriteJsonStringOrNull(W& w, std::string_view s) {
  if (s.empty()) {
    w.Null();
  } else {
    WriteJsonString(w, s);
  }
}

// `items` as one JSON array indented by two spaces, with a line end; `write(writer, item)`
// writes one item (a generic lambda serves both writer types).
template <typename T, typename WriteFn>
std::string JsonArray(std::span<const T> items, WriteFn write) {
  rapidjson::StringBuffer buf;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
  w.SetIndent(' ', 2);
  w.StartArray();
  for (const T& item : items) write(w, item);
  w.EndArray();
  std::string out(buf.GetString(), buf.GetSize());
  out.push_back('\n');
  return out;
}

// One item as compact JSON, without a line end.
template <typename T, typename WriteFn>
std::string JsonCompact(const T& item, WriteFn write) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  write(w, item);
  return {buf.GetString(), buf.GetSize()};
}

}  // namespace edi
