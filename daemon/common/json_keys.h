// Objects that name a key twice. JSON leaves which value counts to the reader (RapidJSON's
// lookups find the first, .NET's serialisers keep the last), so input naming one is ambiguous
// and is refused wherever it is read.
#pragma once

#include <rapidjson/document.h>

#include <string>

namespace edi {

// Whether the object `v` names a key twice (not looking into its members' values); *name gets
// the key. False for anything but an object.
bool DuplicateKeyIn(const rapidjson::Value& v, std::string* name);
}  // namespace edi
