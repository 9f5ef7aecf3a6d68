// SnapshotFile: one reference-snapshot file (JSON lines) read and checked against its JSON
// Schema, line by line. Internal to the registry stage; Registry::Load is the public entry.
//
// Error messages name the file (its base name), the 1-based line and the field, as
// "organizations.jsonl:12: field '/kind': not one of the allowed values".
// Thread-safety: stateless functions; ForEachSnapshotLine keeps its validator on the stack.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include <rapidjson/document.h>
#include <rapidjson/schema.h>

#include "common/schema.h"
#include "common/status.h"

namespace edi {

// Describes the violation `validator` found in `doc` as "field '/x': reason". Extends
// DescribeViolation (common/schema.h) for a failed anyOf/oneOf whose branches are told apart by
// an enum on a property ("type" is "Organization"): it names the property the matching branch
// requires or forbids instead of the whole object.
std::string DescribeSnapshotViolation(const JsonSchema& schema,
                                      const rapidjson::SchemaValidator& validator,
                                      const rapidjson::Value& doc);

// "file:line: field '<field>': <what>".
std::string SnapshotError(std::string_view file, size_t line, std::string_view field,
                          std::string_view what);

using SnapshotLineFn = std::function<Status(const rapidjson::Value& record, size_t line)>;

// Reads the JSON-lines file `path` and calls `on_line` for every non-blank line that parses as
// JSON and conforms to `schema`, with its 1-based line number. Stops at the first failure and
// returns it: IOError naming the path when the file cannot be read, InvalidArgument
// "file:line: field ..." for a line that is not JSON or breaks the schema, or whatever `on_line`
// returned. Blank lines, a trailing '\r' and a leading UTF-8 byte-order mark are ignored.
Status ForEachSnapshotLine(const std::string& path, std::string_view file_name,
                           const JsonSchema& schema, const SnapshotLineFn& on_line);

}  // namespace edi
