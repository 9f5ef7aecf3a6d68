// How the EDI 2.0 API's server (ASP.NET Core on Kestrel) reads the text of a request: its
// percent-encoding, its path (dot segments), and the ids and integers in it. The decoder reads
// a record's path and query as the server did, so that a call written another way the server
// reads the same is the same call (routes.cpp). Internal to the decode stage (but HexValue and
// PercentDecode, which the query commands use too); the forms others use (CanonicalUuid,
// ParseHerIdText) are declared in decoder.h.
#pragma once

#include <string>
#include <string_view>

namespace edi {

char Lower(char c);                                             // ASCII
bool EqualsIgnoreCase(std::string_view a, std::string_view b);  // ASCII
int HexValue(char c);  // -1 for a character that is no hex digit

enum class PercentDecoding {
  kQuery,  // a query's key or value: every %XX, and '+' is a space
  kPath,   // a path: every %XX but %2F, which stays inside its segment; '+' is itself
};
std::string PercentDecode(std::string_view s, PercentDecoding how);

// The path as the server routes it: percent-decoded (kPath) and without its "." and ".."
// segments (RFC 3986). Returns `path` itself when it has nothing to normalize (the common
// case: no copy), else the normalized path written into *buf.
std::string_view NormalizePath(std::string_view path, std::string* buf);

}  // namespace edi
