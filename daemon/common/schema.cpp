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

std::string DefaultRuleFile() {
  if (const char* env = std::getenv("EDI_AUDIT_RULES_DIR"); env != nullptr && *env != '\0') {
    return std::string(env) + "/edi-default.yaml";
  }
  if (IsDir(EDI_RULES_DIR_INSTALLED)) return EDI_RULES_DIR_INSTALLED "/edi-default.yaml";
  return EDI_RULES_DIR_SOURCE "/edi-default.yaml";
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

Result<std::shared_ptr<const JsonSchema>> LoadSchema(const std::string& dir,
                                                     const std::string& name) {
  auto schema = std::make_shared<JsonSchema>();
  schema->path = dir + "/" + name;
  std::string text;
  if (Status s = ReadFile(schema->path, &text); !s.ok()) {
    return Status::IOError("cannot read JSON Schema " + s.message() +
                           " (set EDI_AUDIT_SCHEMA_DIR to the schemas directory)");
  }
  schema->source.Parse(text.c_str(), text.size());
  if (schema->source.HasParseError()) {
    return Status::Corruption(schema->path + ": invalid JSON at offset " +
                              std::to_string(schema->source.GetErrorOffset()) + ": " +
                              rapidjson::GetParseError_En(schema->source.GetParseError()));
  }
  schema->compiled = std::make_unique<rapidjson::SchemaDocument>(schema->source);
  return std::shared_ptr<const JsonSchema>(std::move(schema));
}

namespace {
std::string PointerText(const rapidjson::Pointer& p) {
  rapidjson::StringBuffer sb;
  p.Stringify(sb);
  std::string s = sb.GetString();
  return s.empty() ? "/" : s;
}
}  // namespace

SchemaViolation DescribeViolation(const JsonSchema& schema, const rapidjson::Pointer& schema_ptr,
                                  const char* keyword, const rapidjson::Pointer& instance_ptr,
                                  const rapidjson::Value& instance) {
  SchemaViolation v;
  v.field = PointerText(instance_ptr);
  v.keyword = keyword;
  std::string what;
  if (v.keyword == "required") {
    // Name the first required property the object lacks.
    const rapidjson::Value* sub = schema_ptr.Get(schema.source);
    const rapidjson::Value* obj = instance_ptr.Get(instance);
    if (sub != nullptr && sub->IsObject() && sub->HasMember("required") &&
        (*sub)["required"].IsArray() && obj != nullptr && obj->IsObject()) {
      for (const auto& name : (*sub)["required"].GetArray()) {
        if (name.IsString() && !obj->HasMember(name)) {
          what = std::string("required property '") + name.GetString() + "' missing";
          break;
        }
      }
    }
  }
  if (what.empty()) {
    static const struct {
      const char* keyword;
      const char* text;
    } kTexts[] = {
        {"required", "a required property is missing"},
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
        {"oneOf", "matches none or several of the allowed shapes"},
        {"anyOf", "matches none of the allowed shapes"},
    };
    what = v.keyword + " violated";
    for (const auto& t : kTexts) {
      if (v.keyword == t.keyword) what = t.text;
    }
  }
  v.detail = "field '" + v.field + "': " + what;
  return v;
}

}  // namespace edi
