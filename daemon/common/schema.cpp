#include "common/schema.h"

#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace edi {

namespace {
bool IsDir(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}
}  // namespace

std::string SchemaDir() {
  if (const char* env = std::getenv("EDI_AUDIT_SCHEMA_DIR"); env != nullptr && *env != '\0') {
    return env;
  }
  if (IsDir(EDI_SCHEMA_DIR_INSTALLED)) return EDI_SCHEMA_DIR_INSTALLED;
  return EDI_SCHEMA_DIR_SOURCE;
}

Status ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError(path + ": " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Status::IOError(path + ": read failed");
  *out = std::move(ss).str();
  return Status::OK();
}

Result<std::shared_ptr<const rapidjson::SchemaDocument>> LoadSchema(const std::string& dir,
                                                                   const std::string& name) {
  const std::string path = dir + "/" + name;
  std::string text;
  if (Status s = ReadFile(path, &text); !s.ok()) {
    return Status::IOError("cannot read JSON Schema " + s.message() +
                           " (set EDI_AUDIT_SCHEMA_DIR to the schemas directory)");
  }
  rapidjson::Document doc;
  doc.Parse(text.c_str(), text.size());
  if (doc.HasParseError()) {
    return Status::Corruption(path + ": invalid JSON at offset " +
                              std::to_string(doc.GetErrorOffset()) + ": " +
                              rapidjson::GetParseError_En(doc.GetParseError()));
  }
  return std::shared_ptr<const rapidjson::SchemaDocument>(
      std::make_shared<rapidjson::SchemaDocument>(doc));
}

std::string DescribeSchemaError(const rapidjson::SchemaValidator& validator) {
  rapidjson::StringBuffer where;
  validator.GetInvalidDocumentPointer().StringifyUriFragment(where);
  std::string field = where.GetString();
  if (!field.empty() && field[0] == '#') field.erase(0, 1);
  if (field.empty()) field = "/";
  std::string keyword = validator.GetInvalidSchemaKeyword();
  std::string detail;
  const auto& err = validator.GetError();
  if (keyword == "required" && err.HasMember("required")) {
    const auto& r = err["required"];
    if (r.HasMember("missing") && r["missing"].IsArray() && !r["missing"].Empty()) {
      detail = std::string("required property '") + r["missing"][0].GetString() + "' missing";
    }
  }
  if (detail.empty()) {
    static const struct {
      const char* keyword;
      const char* text;
    } kTexts[] = {
        {"type", "wrong type"},
        {"pattern", "does not match the expected format"},
        {"enum", "not one of the allowed values"},
        {"minimum", "below the minimum"},
        {"maximum", "above the maximum"},
        {"minLength", "too short"},
        {"maxLength", "too long"},
        {"minItems", "too few items"},
        {"maxItems", "too many items"},
        {"additionalProperties", "unexpected property"},
    };
    detail = keyword + " violated";
    for (const auto& t : kTexts) {
      if (keyword == t.keyword) detail = t.text;
    }
  }
  return "field '" + field + "': " + detail;
}

}  // namespace edi
