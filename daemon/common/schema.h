// JSON Schemas shipped in schemas/ and loaded at run time (never hand copies in code).
//
// Thread-safety: a loaded JsonSchema is immutable and may be shared by validators on several
// threads; each thread needs its own validator.
#pragma once

#include <memory>
#include <string>

#include <rapidjson/document.h>
#include <rapidjson/schema.h>

#include "common/status.h"

namespace edi {

// The directory holding the JSON Schemas: $EDI_AUDIT_SCHEMA_DIR if set, else the source tree's
// schemas/ when it exists (development builds), else the installed share/edi-audit/schemas.
std::string SchemaDir();

// Reads a whole file into `out`. IOError names the path and the system's reason.
Status ReadFile(const std::string& path, std::string* out);

// Loads and compiles `dir/name` (e.g. "access-log.schema.json").
Result<std::shared_ptr<const rapidjson::SchemaDocument>> LoadSchema(const std::string& dir,
                                                                   const std::string& name);

// Describes the first violation a validator found, naming the field:
// "field '/client/orgnrParent': pattern mismatch" / "field '/': required property 'status' missing".
std::string DescribeSchemaError(const rapidjson::SchemaValidator& validator);

}  // namespace edi
