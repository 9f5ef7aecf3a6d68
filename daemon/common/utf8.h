// UTF-8 helpers: validity, and text from the input that is shown cut short or must be valid.
#pragma once

#include <string>
#include <string_view>

namespace edi {

// Whether `s` is valid UTF-8 (no overlong forms, surrogates or values beyond U+10FFFF); else
// *bad_offset is where the first invalid sequence starts. All-ASCII text is checked 8 bytes
// at a time.
bool IsValidUtf8(std::string_view s, size_t* bad_offset);

// `s` with each invalid sequence replaced by U+FFFD; `s` itself when valid. For text shown in
// JSON, which a reader refuses whole when one byte is invalid.
std::string ValidUtf8(std::string_view s);

// The longest prefix of `s` of at most `max_bytes` bytes that does not end inside a UTF-8
// sequence (a cut character would make the whole text invalid UTF-8 to a JSON reader).
inline std::string_view Utf8Prefix(std::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  size_t end = max_bytes;
  // Back to the start of the character the cut falls in (continuation bytes are 10xxxxxx).
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return s.substr(0, end);
}

}  // namespace edi
