// The server's reading of request text (server_text.h), and the id and HER-Id forms of
// decoder.h it accepts.
#include "decode/server_text.h"

#include <vector>

#include "decode/decoder.h"

namespace edi {

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = Lower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::string PercentDecode(std::string_view s, PercentDecoding how) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0 && (how == PercentDecoding::kQuery || hi * 16 + lo != '/')) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(how == PercentDecoding::kQuery && s[i] == '+' ? ' ' : s[i]);
  }
  return out;
}

// Kestrel percent-decodes the path and removes its dot segments before routing; matching the
// raw text instead would let a client dress a download up as an unknown route
// ("/messages/ID/business%2Ddocument", "/messages/x/../ID/business-document").
std::string_view NormalizePath(std::string_view path, std::string* buf) {
  bool plain = path.find('%') == std::string_view::npos;
  for (size_t i = 0; plain && i < path.size(); ++i) {
    if (path[i] != '.' || (i > 0 && path[i - 1] != '/')) continue;
    size_t j = i;
    while (j < path.size() && path[j] == '.') ++j;
    if ((j == path.size() || path[j] == '/') && j - i <= 2) plain = false;
  }
  if (plain) return path;
  const std::string decoded = PercentDecode(path, PercentDecoding::kPath);
  // RFC 3986's removal of dot segments, which Kestrel follows: an empty segment (a doubled
  // slash) is a segment too, so "ID//../x" is "ID/x". Empty segments are skipped only when
  // matching (SplitPath).
  std::vector<std::string_view> kept;
  size_t i = !decoded.empty() && decoded[0] == '/' ? 1 : 0;
  while (i <= decoded.size()) {
    size_t j = decoded.find('/', i);
    if (j == std::string::npos) j = decoded.size();
    const std::string_view seg = std::string_view(decoded).substr(i, j - i);
    i = j + 1;
    if (seg == ".") continue;
    if (seg == "..") {
      if (!kept.empty()) kept.pop_back();
      continue;
    }
    kept.push_back(seg);
  }
  buf->clear();
  for (const std::string_view seg : kept) {
    buf->push_back('/');
    buf->append(seg);
  }
  if (buf->empty()) buf->push_back('/');
  return *buf;
}

namespace {

bool IsSpace(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

// The white space .NET trims (char.IsWhiteSpace) in UTF-8 beyond ASCII: U+0085, U+00A0,
// U+1680, U+2000-U+200A, U+2028, U+2029, U+202F, U+205F, U+3000.
bool IsWideSpace(std::string_view c) {
  if (c.size() == 2) return c[0] == '\xC2' && (c[1] == '\x85' || c[1] == '\xA0');
  if (c.size() != 3) return false;
  const auto b1 = static_cast<unsigned char>(c[1]), b2 = static_cast<unsigned char>(c[2]);
  if (c[0] == '\xE1') return b1 == 0x9A && b2 == 0x80;
  if (c[0] == '\xE3') return b1 == 0x80 && b2 == 0x80;
  if (c[0] != '\xE2') return false;
  if (b1 == 0x80) return b2 <= 0x8A || b2 == 0xA8 || b2 == 0xA9 || b2 == 0xAF;
  return b1 == 0x81 && b2 == 0x9F;
}

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty()) {
    if (IsSpace(s.front())) {
      s.remove_prefix(1);
    } else if (IsWideSpace(s.substr(0, 2)) || IsWideSpace(s.substr(0, 3))) {
      s.remove_prefix(IsWideSpace(s.substr(0, 2)) ? 2 : 3);
    } else {
      break;
    }
  }
  while (!s.empty()) {
    if (IsSpace(s.back())) {
      s.remove_suffix(1);
    } else if (s.size() >= 2 && IsWideSpace(s.substr(s.size() - 2))) {
      s.remove_suffix(2);
    } else if (s.size() >= 3 && IsWideSpace(s.substr(s.size() - 3))) {
      s.remove_suffix(3);
    } else {
      break;
    }
  }
  return s;
}

// Appends `hex` (1 to `width` hex digits, more if the extra ones are leading zeros) to *out
// zero-padded to `width`, in lower case.
bool AppendHexGroup(std::string_view hex, size_t width, std::string* out) {
  while (hex.size() > width && hex.front() == '0') hex.remove_prefix(1);
  if (hex.empty() || hex.size() > width) return false;
  out->append(width - hex.size(), '0');
  for (const char c : hex) {
    if (HexValue(c) < 0) return false;
    out->push_back(Lower(c));
  }
  return true;
}

std::string_view StripHexPrefix(std::string_view g) {
  if (g.size() >= 2 && g[0] == '0' && (g[1] == 'x' || g[1] == 'X')) g.remove_prefix(2);
  return g;
}

// "D", 36 characters, with a group's hex digits after a '+' or '0x' or both in place of its
// leading zeros (.NET's compatible parsing of the dashed form: "733be787-+f1e-4a8c-...").
bool ParseDashedGuid(std::string_view s, std::string* out) {
  static constexpr size_t kWidths[] = {8, 4, 4, 4, 12};
  out->clear();
  for (size_t g = 0; g < 5; ++g) {
    const size_t dash = g < 4 ? s.find('-') : s.size();
    if (dash == std::string_view::npos) return false;
    std::string_view group = s.substr(0, dash);
    s.remove_prefix(g < 4 ? dash + 1 : dash);
    const size_t size = group.size();
    if (!group.empty() && group.front() == '+') group.remove_prefix(1);
    group = StripHexPrefix(group);
    if (size != kWidths[g] || group.size() > kWidths[g]) return false;
    if (g > 0) out->push_back('-');
    if (!AppendHexGroup(group, kWidths[g], out)) return false;
  }
  return s.empty();
}

// "X": {0xdddddddd,0xdddd,0xdddd,{0xdd,0xdd,0xdd,0xdd,0xdd,0xdd,0xdd,0xdd}}, white space
// anywhere, leading zeros of a value left out or not.
bool ParseHexListGuid(std::string_view s, std::string* out) {
  std::string t;
  for (const char c : s) {
    if (!IsSpace(c)) t.push_back(c);
  }
  std::string_view v = t;
  if (v.size() < 4 || v.substr(0, 2) != "{0" || v.substr(v.size() - 2) != "}}") return false;
  v = v.substr(1, v.size() - 3);  // 0x..,0x..,0x..,{0x..,...,0x..
  const size_t brace = v.find('{');
  if (brace == std::string_view::npos || brace == 0 || v[brace - 1] != ',') return false;
  std::vector<std::string_view> values;
  auto split = [&values](std::string_view part) {
    size_t i = 0;
    while (true) {
      const size_t comma = part.find(',', i);
      values.push_back(part.substr(i, comma == std::string_view::npos ? part.npos : comma - i));
      if (comma == std::string_view::npos) return;
      i = comma + 1;
    }
  };
  split(v.substr(0, brace - 1));
  split(v.substr(brace + 1));
  static constexpr size_t kWidths[] = {8, 4, 4, 2, 2, 2, 2, 2, 2, 2, 2};
  if (values.size() != 11) return false;
  out->clear();
  for (size_t i = 0; i < 11; ++i) {
    const std::string_view hex = StripHexPrefix(values[i]);
    if (hex.size() == values[i].size()) return false;  // every value has its 0x
    if (i == 1 || i == 2 || i == 3 || i == 5) out->push_back('-');
    if (!AppendHexGroup(hex, kWidths[i], out)) return false;
  }
  return true;
}

}  // namespace

bool CanonicalUuid(std::string_view s, std::string* out) {
  // The forms .NET's Guid parsing accepts (a route's Guid parameter): "D" with dashes, "N"
  // without, "B" in braces, "P" in parentheses, "X" as a list of hex values, surrounded by
  // white space or not.
  s = TrimSpace(s);
  out->clear();
  if (s.size() > 2 && s[0] == '{' && (s[1] == '0' || IsSpace(s[1])) && ParseHexListGuid(s, out)) {
    return true;
  }
  if (s.size() == 38 &&
      ((s.front() == '{' && s.back() == '}') || (s.front() == '(' && s.back() == ')'))) {
    s = s.substr(1, 36);
  }
  if (s.size() == 32) {
    out->clear();
    for (size_t i = 0; i < 32; ++i) {
      if (HexValue(s[i]) < 0) {
        out->clear();
        return false;
      }
      if (i == 8 || i == 12 || i == 16 || i == 20) out->push_back('-');
      out->push_back(Lower(s[i]));
    }
    return true;
  }
  if (s.size() == 36 && ParseDashedGuid(s, out)) return true;
  out->clear();
  return false;
}

std::optional<HerId> ParseHerIdText(std::string_view text) {
  // As the server binds an int (its type converter): white space around, a '+', leading
  // zeros, or hexadecimal after 0x, &h or #.
  std::string_view s = TrimSpace(text);
  size_t hex = 0;
  if (s.size() > 2 && ((s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) ||
                       (s[0] == '&' && (s[1] == 'h' || s[1] == 'H')))) {
    hex = 2;
  } else if (s.size() > 1 && s[0] == '#') {
    hex = 1;
  }
  if (hex > 0) {
    s.remove_prefix(hex);
    while (s.size() > 1 && s.front() == '0') s.remove_prefix(1);
    if (s.size() > 15) return std::nullopt;
    HerId v = 0;
    for (const char c : s) {
      const int d = HexValue(c);
      if (d < 0) return std::nullopt;
      v = v * 16 + d;
    }
    return v > 0 ? std::optional<HerId>(v) : std::nullopt;
  }
  // Int32.Parse takes NULs after the number and its trailing white space (%00 in a query).
  s = TrimSpace(text.substr(0, text.find_last_not_of('\0') + 1));
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  while (s.size() > 1 && s.front() == '0') s.remove_prefix(1);
  return ParseHerId(s);
}

bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < 36; ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
    } else if (HexValue(s[i]) < 0) {
      return false;
    }
  }
  return true;
}

}  // namespace edi
