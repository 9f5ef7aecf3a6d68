#include "common/utf8.h"

#include <cstdint>
#include <cstring>

namespace edi {

// A fast path for the all-ASCII records that are the norm: RapidJSON's own per-character
// validation costs more than the rest of parsing.
bool IsValidUtf8(std::string_view s, size_t* bad_offset) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    if (i + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      if ((w & 0x8080808080808080ull) == 0) {
        i += 8;
        continue;
      }
    }
    const unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      *bad_offset = i;
      return false;
    }
    if (i + len > n) {
      *bad_offset = i;
      return false;
    }
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) {
        *bad_offset = i;
        return false;
      }
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    // Overlong forms, surrogates and values beyond Unicode are invalid.
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      *bad_offset = i;
      return false;
    }
    i += len;
  }
  return true;
}

std::string ValidUtf8(std::string_view s) {
  size_t bad = 0;
  if (IsValidUtf8(s, &bad)) return std::string(s);
  std::string out(s.substr(0, bad));
  while (bad < s.size()) {
    out += "\xEF\xBF\xBD";  // U+FFFD for the invalid byte
    std::string_view rest = s.substr(bad + 1);
    size_t next = 0;
    if (IsValidUtf8(rest, &next)) {
      out.append(rest);
      break;
    }
    out.append(rest.substr(0, next));
    bad += 1 + next;
  }
  return out;
}

}  // namespace edi
