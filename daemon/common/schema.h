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

// The shipped default rule pack: $EDI_AUDIT_RULES_DIR/edi-default.yaml if that variable is set,
// else the installed share/edi-audit/rules, else the source tree's rules/.
std::string DefaultRuleFile();

// Reads a whole file into `out`. IOError names the path and the system's reason.
Status ReadFile(const std::string& path, std::string* out);

// A compiled schema together with its JSON source (needed to explain violations).
struct JsonSchema {
  std::string path;
  rapidjson::Document source;
  std::unique_ptr<rapidjson::SchemaDocument> compiled;
};

// Loads and compiles `dir/name` (e.g. "access-log.schema.json").
Result<std::shared_ptr<const JsonSchema>> LoadSchema(const std::string& dir,
                                                     const std::string& name);

// The first violation a schema validator found.
struct SchemaViolation {
  std::string field;    // JSON Pointer of the offending value, "/" for the document itself
  std::string keyword;  // the schema keyword that failed: "required", "pattern", "type", ...
  std::string detail;   // "field '/status': above the maximum", "field '/client': required
                        // property 'clientId' missing"
};

// Explains a violation. `instance` is the whole document that was validated (for a
// SchemaValidatingReader, parse the bytes again without validation: the reader's own document
// is incomplete after a failure).
SchemaViolation DescribeViolation(const JsonSchema& schema, const rapidjson::Pointer& schema_ptr,
                                  const char* keyword, const rapidjson::Pointer& instance_ptr,
                                  const rapidjson::Value& instance);

// Works for a SchemaValidator and a SchemaValidatingReader alike.
template <typename V>
SchemaViolation DescribeViolation(const JsonSchema& schema, const V& v,
                                  const rapidjson::Value& instance) {
  return DescribeViolation(schema, v.GetInvalidSchemaPointer(), v.GetInvalidSchemaKeyword(),
                           v.GetInvalidDocumentPointer(), instance);
}

}  // namespace edi
