// Writing values with a RapidJSON writer, shared by the reports' JSON forms.
#pragma once

#include <rapidjson/document.h>

#include <string_view>

namespace edi {

template <typename W>
void WriteJsonString(W& w, std::string_view s) {
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

}  // namespace edi
