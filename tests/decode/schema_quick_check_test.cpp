#include "common/schema_quick_check.h"

#include <gtest/gtest.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <functional>
#include <string>
#include <vector>

#include "common/schema.h"
#include "decode/decoder.h"

namespace edi {
namespace {

rapidjson::Document ParseJson(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str(), text.size());
  EXPECT_FALSE(d.HasParseError()) << text;
  return d;
}

std::unique_ptr<const SchemaQuickCheck> CompileText(const std::string& schema,
                                                    rapidjson::Document* keep) {
  *keep = ParseJson(schema);
  return SchemaQuickCheck::Compile(*keep);
}

bool Valid(const SchemaQuickCheck& check, const std::string& text) {
  return check.CertainlyValid(ParseJson(text));
}

// A record using every part of the access-log schema.
const char* kFullRecord =
    R"({"schemaVersion":1,"timestamp":"2026-05-08T08:32:15.310Z","requestId":"r-1",)"
    R"("apiVersion":"3","method":"POST","path":"/messages","query":"a=b","status":201,)"
    R"("durationMs":12,"sourceSystem":"EPJ 1.0","clientIp":"10.0.0.1",)"
    R"("client":{"clientId":"c-1","clientName":"EPJ","tenancy":"multi-tenant",)"
    R"("orgnrParent":"964338531","orgnrChild":"974100012","orgnrSupplier":"916000222",)"
    R"("herIdClaim":"8142520-8142521"},)"
    R"("request":{"senderHerId":8142520,"receiverHerIds":[8142530,8142531],"receiverHerId":8142530,)"
    R"("appRecSenderHerId":8142520,"appRecStatus":"Ok",)"
    R"("configurations":[{"herId":8142520,"clientLocked":true,"receiveNotificationChannel":"x",)"
    R"("receiveRefusedMessageNotices":false}],"mshConfigurations":[{"herId":8142521}]},)"
    R"("response":{"id":"733be787-0f1e-4a8c-9f55-0a5c1b1d6a11","messages":[{"id":"4f1c8a5e-6b7d-4e9f-a0a1-1c2d3e4f5a05",)"
    R"("senderHerId":8142530,"receiverHerId":8142520,"receiverHerIds":[8142520],"isAppRec":false}]},)"
    R"("message":{"id":"733be787-0f1e-4a8c-9f55-0a5c1b1d6a11","senderHerId":8142520,)"
    R"("receiverHerIds":[8142530],"businessDocumentId":"b-1","isAppRec":true}})";

class AccessLogQuickCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto schema = LoadSchema(SchemaDir(), "access-log.schema.json");
    ASSERT_TRUE(schema.ok()) << schema.status().ToString();
    schema_ = *schema;
    check_ = SchemaQuickCheck::Compile(schema_->source);
  }
  // `text` with the first occurrence of `from` replaced by `to`.
  static std::string With(std::string text, const std::string& from, const std::string& to) {
    const size_t at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return text.replace(at, from.size(), to);
  }
  std::shared_ptr<const JsonSchema> schema_;
  std::unique_ptr<const SchemaQuickCheck> check_;
};

TEST_F(AccessLogQuickCheckTest, ShippedSchemaIsCheckedWholly) {
  EXPECT_EQ(check_->unsupported_nodes(), 0);
  EXPECT_TRUE(Valid(*check_, kFullRecord));
  EXPECT_TRUE(
      Valid(*check_, std::string(kFullRecord).insert(1, R"("unknownField":[1,{"a":null}],)")));
}

TEST_F(AccessLogQuickCheckTest, EveryKindOfViolationIsLeftToTheFullValidator) {
  const std::string r = kFullRecord;
  const std::vector<std::pair<std::string, std::string>> breaks = {
      {R"("schemaVersion":1)", R"("schemaVersion":2)"},                             // enum
      {R"("schemaVersion":1)", R"("schemaVersion":1.0)"},                           // integer type
      {R"("status":201)", R"("status":"201")"},                                     // type
      {R"("status":201)", R"("status":99)"},                                        // minimum
      {R"("status":201)", R"("status":600)"},                                       // maximum
      {R"("durationMs":12)", R"("durationMs":-1)"},                                 // minimum 0
      {R"(.310Z")", R"(Z")"},                                                       // pattern
      {R"("2026-05-08T)", R"("2026-5-08T)"},                                        // pattern
      {R"("requestId":"r-1")", R"("requestId":"")"},                                // minLength
      {R"("requestId":"r-1")", "\"requestId\":\"" + std::string(129, 'x') + "\""},  // maxLength
      {R"("method":"POST")", R"("method":"post")"},                                 // enum
      {R"("apiVersion":"3")", R"("apiVersion":3)"},                                 // type
      {R"("orgnrParent":"964338531")", R"("orgnrParent":"96433853")"},  // pattern via $ref
      {R"("orgnrChild":"974100012")", R"("orgnrChild":"97410001x")"},   // pattern via $ref
      {R"("clientId":"c-1",)", ""},                                     // nested required
      {R"("senderHerId":8142520)", R"("senderHerId":0)"},               // herId minimum
      {R"("receiverHerIds":[8142530,8142531])", R"("receiverHerIds":[8142530,"x"])"},  // items
      {R"("receiverHerIds":[8142530,8142531])", R"("receiverHerIds":8142530)"},        // array type
      {R"("appRecStatus":"Ok")", R"("appRecStatus":"ok")"},                            // enum
      {R"("clientLocked":true)", R"("clientLocked":"true")"},  // boolean type
      {R"({"herId":8142521})", R"({"herid":8142521})"},        // required in items
      {R"("messages":[{"id":"4f1c8a5e-6b7d-4e9f-a0a1-1c2d3e4f5a05",)",
       R"("messages":[{)"},                       // required in items
      {R"("isAppRec":true)", R"("isAppRec":1)"},  // boolean type
      {R"("request":{)", R"("request":[{)"},      // object type
  };
  for (const auto& [from, to] : breaks) {
    std::string broken = With(r, from, to);
    if (from == R"("request":{)") broken = With(broken, R"(}]},"response")", R"(}]}],"response")");
    EXPECT_FALSE(Valid(*check_, broken)) << broken;
  }
  // A missing required top-level field.
  EXPECT_FALSE(Valid(*check_, With(r, R"("status":201,)", "")));
  EXPECT_FALSE(Valid(*check_, "[]"));
}

TEST(SchemaQuickCheckTest, UnsupportedKeywordsAreLeftToTheFullValidator) {
  rapidjson::Document s;
  auto check = CompileText(R"({"type":"object","properties":{
      "a":{"oneOf":[{"type":"string"},{"type":"integer"}]},
      "b":{"type":"string","pattern":"^a+$"},
      "c":{"type":"string","pattern":"[0-9]{3}"},
      "d":{"type":"string","pattern":"^\\d{3}$"},
      "e":{"type":"string","format":"date-time"},
      "f":{"type":"number","minimum":0.5}}})",
                           &s);
  EXPECT_EQ(check->unsupported_nodes(), 6);
  EXPECT_TRUE(Valid(*check, R"({"z":1})"));  // the unsupported nodes are not reached
  for (const char* field : {"a", "b", "c", "d", "e", "f"}) {
    EXPECT_FALSE(Valid(*check, std::string(R"({")") + field + R"(":"aaa"})")) << field;
  }
}

TEST(SchemaQuickCheckTest, RepeatedNamesAreLeftToTheFullValidator) {
  rapidjson::Document s1, s2;
  auto keyword = CompileText(R"({"type":"integer","type":"string"})", &s1);
  EXPECT_EQ(keyword->unsupported_nodes(), 1);
  EXPECT_FALSE(Valid(*keyword, R"("x")"));
  auto property = CompileText(
      R"({"type":"object","properties":{"b":{"type":"string"},"b":{"type":"integer"}}})", &s2);
  EXPECT_EQ(property->unsupported_nodes(), 1);
  EXPECT_FALSE(Valid(*property, R"({"b":"x"})"));
}

TEST(SchemaQuickCheckTest, ReferencesAreUriFragments) {
  rapidjson::Document s;
  auto check = CompileText(R"({"type":"object","properties":{"a":{"$ref":"#/definitions/a%25b"}},
      "definitions":{"a%b":{"type":"string"},"a%25b":{"type":"integer"}}})",
                           &s);
  EXPECT_EQ(check->unsupported_nodes(), 0);
  EXPECT_TRUE(Valid(*check, R"({"a":"x"})"));
  EXPECT_FALSE(Valid(*check, R"({"a":1})"));
}

TEST(SchemaQuickCheckTest, FixedPatterns) {
  rapidjson::Document s;
  auto check = CompileText(R"({"type":"string","pattern":"^[a-cx]{2}\\.-[0-9]Z$"})", &s);
  EXPECT_EQ(check->unsupported_nodes(), 0);
  EXPECT_TRUE(Valid(*check, R"("ax.-7Z")"));
  EXPECT_TRUE(Valid(*check, R"("cc.-0Z")"));
  EXPECT_FALSE(Valid(*check, R"("ad.-7Z")"));
  EXPECT_FALSE(Valid(*check, R"("ax.-7Z ")"));
  EXPECT_FALSE(Valid(*check, R"("axx-7Z")"));
  EXPECT_FALSE(Valid(*check, R"("ax.-7Z\u0000")"));
}

TEST(SchemaQuickCheckTest, TypesEnumsLengthsAndClosedObjects) {
  rapidjson::Document s;
  auto check = CompileText(R"({"type":"object","required":["n","id"],"additionalProperties":false,
      "properties":{"n":{"type":["integer","null"],"minimum":-2,"maximum":5},
                    "x":{"type":"number"},
                    "e":{"enum":["a",7,true,null]},
                    "s":{"type":"string","minLength":2,"maxLength":3},
                    "l":{"type":"array","minItems":1,"maxItems":2}}})",
                           &s);
  EXPECT_EQ(check->unsupported_nodes(), 0);
  EXPECT_TRUE(Valid(*check, R"({"n":5,"id":{}})"));
  EXPECT_TRUE(Valid(*check, R"({"n":null,"id":0,"x":1.5,"e":7,"s":"\u00e6\u00f8","l":[1]})"));
  EXPECT_TRUE(Valid(*check, R"({"n":-2,"id":0,"x":3,"e":null})"));
  EXPECT_FALSE(Valid(*check, R"({"id":0})"));                    // required
  EXPECT_FALSE(Valid(*check, R"({"n":6,"id":0})"));              // maximum
  EXPECT_FALSE(Valid(*check, R"({"n":-3,"id":0})"));             // minimum
  EXPECT_FALSE(Valid(*check, R"({"n":1.0,"id":0})"));            // not an integer
  EXPECT_FALSE(Valid(*check, R"({"n":1,"id":0,"y":0})"));        // additionalProperties false
  EXPECT_FALSE(Valid(*check, R"({"n":1,"id":0,"e":"b"})"));      // enum
  EXPECT_FALSE(Valid(*check, R"({"n":1,"id":0,"e":false})"));    // enum
  EXPECT_FALSE(Valid(*check, R"({"n":1,"id":0,"s":"a"})"));      // minLength
  EXPECT_FALSE(Valid(*check, R"({"n":1,"id":0,"s":"abcd"})"));   // maxLength
  EXPECT_FALSE(Valid(*check, R"({"n":1,"id":0,"l":[]})"));       // minItems
  EXPECT_FALSE(Valid(*check, R"({"n":1,"id":0,"l":[1,2,3]})"));  // maxItems
}

// What a decoded record looks like, for comparing two decoders.
std::string Outcome(Decoder& d, const std::string& text) {
  AccessEvent e;
  DecodeError err;
  if (!d.Decode(text, &e, &err)) {
    return "rejected " + std::string(QuarantineReasonName(err.reason)) + ": " + err.detail;
  }
  std::string out = "ok " + e.request_id + " " + std::to_string(e.time) + " " +
                    std::to_string(static_cast<int>(e.action)) + " " + std::to_string(e.status) +
                    " " + e.client.client_id + " " + e.message_id + " parties";
  for (const PartyRef& p : e.parties) out += " " + std::to_string(p.her_id);
  return out + " polled " + std::to_string(e.polled.size());
}

// Every value of a record replaced by each of a palette of values (and removed): the decoder
// with the quick check and the one with RapidJSON's validator alone must agree on every result,
// down to the quarantine reason's wording.
TEST(SchemaQuickCheckDecoderTest, SameResultsAsTheFullValidatorOnMutatedRecords) {
  DecoderOptions full_options;
  full_options.quick_schema_check = false;
  auto quick = Decoder::Create({});
  auto full = Decoder::Create(full_options);
  ASSERT_TRUE(quick.ok() && full.ok());
  const std::vector<std::string> palette = {"null",
                                            "true",
                                            "false",
                                            "0",
                                            "-1",
                                            "1",
                                            "99",
                                            "100",
                                            "599",
                                            "600",
                                            "1.5",
                                            "201.0",
                                            "1e2",
                                            "18446744073709551615",
                                            "-9223372036854775808",
                                            R"("")",
                                            R"("x")",
                                            R"("123456789")",
                                            R"("12345678")",
                                            R"("2026-05-08T08:32:15.310Z")",
                                            R"("2026-05-08T08:32:15Z")",
                                            "\"" + std::string(129, 'r') + "\"",
                                            R"("GET")",
                                            R"("Ok")",
                                            R"("3")",
                                            R"("\u0000")",
                                            "[]",
                                            "[1]",
                                            R"(["x"])",
                                            "{}",
                                            R"({"id":"x"})",
                                            R"({"herId":1})"};
  rapidjson::Document base;
  base.Parse(kFullRecord);
  ASSERT_FALSE(base.HasParseError());
  // Every value in the record, as a path of member names and array indexes.
  std::vector<std::vector<std::string>> paths;
  std::vector<std::string> path;
  std::function<void(const rapidjson::Value&)> walk = [&](const rapidjson::Value& v) {
    if (!path.empty()) paths.push_back(path);
    if (v.IsObject()) {
      for (const auto& m : v.GetObject()) {
        path.push_back(m.name.GetString());
        walk(m.value);
        path.pop_back();
      }
    } else if (v.IsArray()) {
      for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
        path.push_back("#" + std::to_string(i));
        walk(v[i]);
        path.pop_back();
      }
    }
  };
  walk(base);
  ASSERT_GT(paths.size(), 50u);
  auto text_of = [](const rapidjson::Value& v) {
    rapidjson::StringBuffer sb;
    rapidjson::Writer<rapidjson::StringBuffer> w(sb);
    v.Accept(w);
    return std::string(sb.GetString(), sb.GetSize());
  };
  int compared = 0, accepted = 0;
  for (const auto& p : paths) {
    for (size_t variant = 0; variant <= palette.size(); ++variant) {
      rapidjson::Document doc;
      doc.CopyFrom(base, doc.GetAllocator());
      rapidjson::Value* parent = &doc;
      for (size_t i = 0; i + 1 < p.size(); ++i) {
        parent = p[i][0] == '#' ? &(*parent)[std::stoi(p[i].substr(1))] : &(*parent)[p[i].c_str()];
      }
      const std::string& last = p.back();
      if (variant == palette.size()) {  // removed
        if (last[0] == '#') {
          parent->Erase(parent->Begin() + std::stoi(last.substr(1)));
        } else {
          parent->RemoveMember(last.c_str());
        }
      } else {
        rapidjson::Document replacement;
        replacement.Parse(palette[variant].c_str());
        rapidjson::Value& target =
            last[0] == '#' ? (*parent)[std::stoi(last.substr(1))] : (*parent)[last.c_str()];
        target.CopyFrom(replacement, doc.GetAllocator());
      }
      const std::string text = text_of(doc);
      const std::string expected = Outcome(**full, text);
      EXPECT_EQ(Outcome(**quick, text), expected) << text;
      ++compared;
      accepted += expected.rfind("ok ", 0) == 0;
    }
  }
  // A byte-order mark is refused by both (RapidJSON's reader does not skip it).
  const std::string bom = "\xEF\xBB\xBF" + text_of(base);
  EXPECT_EQ(Outcome(**quick, bom), Outcome(**full, bom));
  EXPECT_EQ(Outcome(**full, bom).rfind("rejected invalid_json", 0), 0u) << Outcome(**full, bom);
  EXPECT_EQ(Outcome(**quick, text_of(base)).rfind("ok ", 0), 0u);
  // Both outcomes are well represented.
  EXPECT_GT(accepted, 200);
  EXPECT_GT(compared - accepted, 1000);
}

}  // namespace
}  // namespace edi
