// Every kind of bad record is quarantined with its own precise reason.
#include <gtest/gtest.h>

#include <string>

#include "decode/decoder.h"

namespace edi {
namespace {

const std::string kGood =
    R"({"schemaVersion":1,"timestamp":"2026-05-08T08:32:15.310Z","requestId":"r-1",)"
    R"("apiVersion":"3","method":"PUT","path":"/messages/733be787-0f1e-4a8c-9f55-0a5c1b1d6a11/downloaded",)"
    R"("status":204,"client":{"clientId":"c-1","orgnrParent":"964338531"},"request":{"receiverHerId":21}})";

// kGood with the first occurrence of `from` replaced by `to`.
std::string With(const std::string& from, const std::string& to) {
  std::string s = kGood;
  const size_t at = s.find(from);
  if (at == std::string::npos) return "MISSING PATTERN " + from;
  return s.replace(at, from.size(), to);
}

struct Bad {
  std::string name;
  std::string text;
  QuarantineReason reason;
  std::string detail_contains;
};

std::ostream& operator<<(std::ostream& os, const Bad& b) { return os << b.name; }

class MalformedRecord : public ::testing::TestWithParam<Bad> {};

TEST_P(MalformedRecord, IsQuarantinedWithItsReason) {
  auto d = Decoder::Create({});
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  const Bad& b = GetParam();
  ASSERT_EQ(b.text.find("MISSING PATTERN"), std::string::npos) << b.text;
  AccessEvent e;
  DecodeError err;
  ASSERT_FALSE((*d)->Decode(b.text, &e, &err)) << b.text;
  EXPECT_EQ(QuarantineReasonName(err.reason), QuarantineReasonName(b.reason)) << err.detail;
  EXPECT_NE(err.detail.find(b.detail_contains), std::string::npos)
      << "detail: " << err.detail << "\nexpected to contain: " << b.detail_contains;
}

const std::string kLongPath = "/messages/" + std::string(2100, 'a');
const std::string kLongId(129, 'x');

INSTANTIATE_TEST_SUITE_P(
    ThirtyAndMore, MalformedRecord,
    ::testing::Values(
        Bad{"empty", "", QuarantineReason::kInvalidJson, "offset 0"},
        Bad{"not_json", "hello world", QuarantineReason::kInvalidJson,
            "Invalid JSON at offset 0: invalid value"},
        Bad{"truncated", kGood.substr(0, 80), QuarantineReason::kInvalidJson, "offset"},
        Bad{"trailing_garbage", kGood + " xyz", QuarantineReason::kInvalidJson,
            "must not be followed by other values"},
        Bad{"two_records_on_one_line", kGood + kGood, QuarantineReason::kInvalidJson,
            "must not be followed by other values"},
        Bad{"array_not_object", "[1,2,3]", QuarantineReason::kSchema, "field '/'"},
        Bad{"string_not_object", "\"record\"", QuarantineReason::kSchema, "wrong type"},
        Bad{"missing_schema_version", With(R"("schemaVersion":1,)", ""), QuarantineReason::kSchema,
            "required property 'schemaVersion' missing"},
        Bad{"schema_version_2", With(R"("schemaVersion":1)", R"("schemaVersion":2)"),
            QuarantineReason::kSchema, "field '/schemaVersion'"},
        // A key given twice: RapidJSON would read the first, the API's .NET the last.
        Bad{"duplicate_body_key",
            With(R"("receiverHerId":21)", R"("receiverHerId":21,"receiverHerId":8142531)"),
            QuarantineReason::kDuplicateKey,
            "field '/request': the key 'receiverHerId' appears twice"},
        Bad{"duplicate_top_level_key", With(R"("status":204,)", R"("status":204,"status":423,)"),
            QuarantineReason::kDuplicateKey, "field '/': the key 'status' appears twice"},
        Bad{"duplicate_key_in_array_item",
            With(R"("request":{"receiverHerId":21})",
                 R"("request":{"configurations":[{"herId":1},{"herId":2,"herId":3}]})"),
            QuarantineReason::kDuplicateKey, "field '/request/configurations/1': the key 'herId'"},
        Bad{"missing_timestamp", With(R"("timestamp":"2026-05-08T08:32:15.310Z",)", ""),
            QuarantineReason::kSchema, "required property 'timestamp' missing"},
        Bad{"timestamp_without_millis", With("08:32:15.310Z", "08:32:15Z"),
            QuarantineReason::kSchema, "field '/timestamp'"},
        Bad{"timestamp_with_offset", With("08:32:15.310Z", "08:32:15.310+01:00"),
            QuarantineReason::kSchema, "field '/timestamp'"},
        Bad{"timestamp_impossible_date", With("2026-05-08T", "2026-02-30T"),
            QuarantineReason::kBadTimestamp, "not a valid date"},
        Bad{"timestamp_hour_25", With("T08:32", "T25:32"), QuarantineReason::kBadTimestamp,
            "/timestamp"},
        // A leap second has no event time of its own: it would be the next minute's first.
        Bad{"timestamp_second_60", With("08:32:15.310Z", "08:32:60.000Z"),
            QuarantineReason::kBadTimestamp, "/timestamp"},
        Bad{"timestamp_leap_second", With("2026-05-08T08:32:15.310Z", "2016-12-31T23:59:60.000Z"),
            QuarantineReason::kBadTimestamp, "/timestamp"},
        Bad{"missing_request_id", With(R"("requestId":"r-1",)", ""), QuarantineReason::kSchema,
            "required property 'requestId' missing"},
        Bad{"empty_request_id", With(R"("requestId":"r-1")", R"("requestId":"")"),
            QuarantineReason::kSchema, "field '/requestId': too short"},
        Bad{"request_id_too_long",
            With(R"("requestId":"r-1")", "\"requestId\":\"" + kLongId + "\""),
            QuarantineReason::kSchema, "field '/requestId': too long"},
        Bad{"api_version_4", With(R"("apiVersion":"3")", R"("apiVersion":"4")"),
            QuarantineReason::kSchema, "field '/apiVersion'"},
        Bad{"api_version_number", With(R"("apiVersion":"3")", R"("apiVersion":3)"),
            QuarantineReason::kSchema, "field '/apiVersion'"},
        Bad{"method_foo", With(R"("method":"PUT")", R"("method":"FOO")"), QuarantineReason::kSchema,
            "field '/method'"},
        Bad{"missing_path",
            With(R"("path":"/messages/733be787-0f1e-4a8c-9f55-0a5c1b1d6a11/downloaded",)", ""),
            QuarantineReason::kSchema, "required property 'path' missing"},
        Bad{"path_too_long",
            With("/messages/733be787-0f1e-4a8c-9f55-0a5c1b1d6a11/downloaded", kLongPath),
            QuarantineReason::kSchema, "field '/path': too long"},
        Bad{"status_99", With(R"("status":204)", R"("status":99)"), QuarantineReason::kSchema,
            "field '/status': below the minimum"},
        Bad{"status_600", With(R"("status":204)", R"("status":600)"), QuarantineReason::kSchema,
            "field '/status': above the maximum"},
        Bad{"status_string", With(R"("status":204)", R"("status":"204")"),
            QuarantineReason::kSchema, "field '/status': wrong type"},
        Bad{"negative_duration", With(R"("status":204)", R"("status":204,"durationMs":-1)"),
            QuarantineReason::kSchema, "field '/durationMs'"},
        Bad{"missing_client", With(R"("client":{"clientId":"c-1","orgnrParent":"964338531"},)", ""),
            QuarantineReason::kSchema, "required property 'client' missing"},
        Bad{"missing_client_id", With(R"("clientId":"c-1",)", ""), QuarantineReason::kSchema,
            "field '/client': required property 'clientId' missing"},
        Bad{"missing_orgnr_parent", With(R"(,"orgnrParent":"964338531")", ""),
            QuarantineReason::kSchema, "required property 'orgnrParent' missing"},
        Bad{"orgnr_parent_8_digits", With("964338531", "96433853"),
            QuarantineReason::kMalformedOrgnr, "field '/client/orgnrParent'"},
        Bad{"orgnr_parent_letters", With("964338531", "96433853X"),
            QuarantineReason::kMalformedOrgnr, "field '/client/orgnrParent'"},
        Bad{"orgnr_child_bad",
            With(R"("orgnrParent":"964338531")", R"("orgnrParent":"964338531","orgnrChild":"12")"),
            QuarantineReason::kMalformedOrgnr, "field '/client/orgnrChild'"},
        Bad{"orgnr_supplier_number",
            With(R"("orgnrParent":"964338531")",
                 R"("orgnrParent":"964338531","orgnrSupplier":987654321)"),
            QuarantineReason::kMalformedOrgnr, "field '/client/orgnrSupplier'"},
        Bad{"herid_claim_double_hyphen",
            With(R"("orgnrParent":"964338531")",
                 R"("orgnrParent":"964338531","herIdClaim":"12--3")"),
            QuarantineReason::kMalformedHerIdClaim, "'12--3'"},
        Bad{"herid_claim_letters",
            With(R"("orgnrParent":"964338531")", R"("orgnrParent":"964338531","herIdClaim":"abc")"),
            QuarantineReason::kMalformedHerIdClaim, "/client/herIdClaim"},
        Bad{"receiver_her_id_string", With(R"("receiverHerId":21)", R"("receiverHerId":"abc")"),
            QuarantineReason::kMalformedHerId, "field '/request/receiverHerId'"},
        Bad{"receiver_her_id_zero", With(R"("receiverHerId":21)", R"("receiverHerId":0)"),
            QuarantineReason::kMalformedHerId, "field '/request/receiverHerId'"},
        Bad{"receiver_her_id_negative", With(R"("receiverHerId":21)", R"("receiverHerId":-5)"),
            QuarantineReason::kMalformedHerId, "field '/request/receiverHerId'"},
        Bad{"receiver_her_id_fraction", With(R"("receiverHerId":21)", R"("receiverHerId":21.5)"),
            QuarantineReason::kMalformedHerId, "field '/request/receiverHerId'"},
        // Above int64: read as no party (or party 0) before the schema bounded HER-Ids.
        Bad{"receiver_her_id_above_int64",
            With(R"("receiverHerId":21)", R"("receiverHerId":9223372036854775808)"),
            QuarantineReason::kMalformedHerId, "field '/request/receiverHerId': above the maximum"},
        Bad{"configuration_her_id_above_int64",
            With(R"("receiverHerId":21)",
                 R"("configurations":[{"herId":18446744073709551615,"clientLocked":true}])"),
            QuarantineReason::kMalformedHerId, "field '/request/configurations/0/herId'"},
        Bad{"duration_above_int64",
            With(R"("status":204)", R"("status":204,"durationMs":9223372036854775808)"),
            QuarantineReason::kSchema, "field '/durationMs'"},
        // The schema's pattern stops at a NUL byte: "964338531\u0000" matched it.
        Bad{"orgnr_parent_with_nul", With("964338531", R"(964338531\u0000)"),
            QuarantineReason::kMalformedOrgnr, "field '/client/orgnrParent': contains a NUL byte"},
        Bad{"receiver_her_ids_not_array", With(R"("receiverHerId":21)", R"("receiverHerIds":21)"),
            QuarantineReason::kMalformedHerId, "field '/request/receiverHerIds'"},
        Bad{"receiver_her_ids_item_string",
            With(R"("receiverHerId":21)", R"("receiverHerIds":[21,"x"])"),
            QuarantineReason::kMalformedHerId, "field '/request/receiverHerIds/1'"},
        Bad{"configuration_without_her_id",
            With(R"("receiverHerId":21)", R"("configurations":[{"clientLocked":true}])"),
            QuarantineReason::kSchema, "required property 'herId' missing"},
        Bad{"client_locked_string",
            With(R"("receiverHerId":21)", R"("configurations":[{"herId":5,"clientLocked":"yes"}])"),
            QuarantineReason::kSchema, "field '/request/configurations/0/clientLocked'"},
        Bad{"apprec_status_unknown", With(R"("receiverHerId":21)", R"("appRecStatus":"Fine")"),
            QuarantineReason::kSchema, "field '/request/appRecStatus'"},
        Bad{"send_response_id_not_uuid",
            With(
                R"("method":"PUT","path":"/messages/733be787-0f1e-4a8c-9f55-0a5c1b1d6a11/downloaded")",
                R"("method":"POST","path":"/messages","response":{"id":"not-a-uuid"})"),
            QuarantineReason::kMalformedMessageId, "'/response/id': 'not-a-uuid' is not a UUID"},
        Bad{"v2_path_her_id_letters",
            With(
                R"("apiVersion":"3","method":"PUT","path":"/messages/733be787-0f1e-4a8c-9f55-0a5c1b1d6a11/downloaded")",
                R"("apiVersion":"2","method":"PUT","path":"/Messages/733be787-0f1e-4a8c-9f55-0a5c1b1d6a11/read/abc")"),
            QuarantineReason::kMalformedHerId, "path HER-Id 'abc'"},
        Bad{"query_her_ids_malformed",
            With(
                R"("method":"PUT","path":"/messages/733be787-0f1e-4a8c-9f55-0a5c1b1d6a11/downloaded")",
                R"("method":"GET","path":"/notifications","query":"HerIds=12a")"),
            QuarantineReason::kMalformedHerId, "'12a' is not a HER-Id"},
        Bad{"query_her_ids_empty",
            With(
                R"("method":"PUT","path":"/messages/733be787-0f1e-4a8c-9f55-0a5c1b1d6a11/downloaded")",
                R"("method":"DELETE","path":"/mshconfigurations","query":"HerIds=")"),
            QuarantineReason::kMalformedHerId, "query parameter 'HerIds'"},
        Bad{"poll_response_message_id_bad",
            With(R"("request":{"receiverHerId":21})",
                 R"("request":{"receiverHerId":21},"response":{"messages":[{"id":"m1"}]})"),
            QuarantineReason::kMalformedMessageId, "/response/messages"},
        Bad{"message_block_without_id",
            With(R"("request":{"receiverHerId":21})",
                 R"("request":{"receiverHerId":21},"message":{"senderHerId":3})"),
            QuarantineReason::kSchema, "field '/message': required property 'id' missing"},
        Bad{"request_not_object", With(R"("request":{"receiverHerId":21})", R"("request":[21])"),
            QuarantineReason::kSchema, "field '/request': wrong type"},
        Bad{"invalid_utf8", With("r-1", "r-\xff\xfe"), QuarantineReason::kInvalidJson, "encoding"}),
    [](const ::testing::TestParamInfo<Bad>& info) { return info.param.name; });

}  // namespace
}  // namespace edi
