#include "decode/decoder.h"

#include <gtest/gtest.h>

#include <cctype>
#include <string>

#include "decode/decoder_fixture.h"

namespace edi {
namespace {

TEST_F(DecoderTest, DecodesTheContractExampleRecord) {
  const std::string text =
      R"({"schemaVersion":1,"timestamp":"2026-05-08T08:32:15.310Z","requestId":"0HN3K2Q7E5T1V:00000011",
 "apiVersion":"3","method":"PUT","path":"/messages/733be787-0f1e-4a8c-9f55-0a5c1b1d6a11/downloaded",
 "status":204,"durationMs":41,"sourceSystem":"Nursing EPJ 4.2",
 "client":{"clientId":"5b1c0e2a-7d4f-4c1e-9a53-2f0d8e6b9c11","clientName":"Nursing EPJ Bergen",
   "tenancy":"multi-tenant","orgnrParent":"964338531","orgnrSupplier":"987654321"},
 "request":{"receiverHerId":8142520}})";
  AccessEvent e = DecodeText(text);
  EXPECT_EQ(e.action, Action::kMarkDownloaded);
  EXPECT_EQ(e.route, "/messages/{id}/downloaded");
  EXPECT_EQ(e.message_id, kMsg);
  EXPECT_EQ(Parties(e), std::vector<HerId>{8142520});
  EXPECT_EQ(e.parties[0].source, PartySource::kRequestBody);
  EXPECT_EQ(e.status, 204);
  EXPECT_EQ(e.duration_ms, 41);
  EXPECT_EQ(e.client.client_name, "Nursing EPJ Bergen");
  EXPECT_EQ(e.client.orgnr_supplier, "987654321");
  EXPECT_EQ(e.request_id, "0HN3K2Q7E5T1V:00000011");
  EXPECT_EQ(FormatRfc3339(e.time), "2026-05-08T08:32:15.310Z");
  EXPECT_TRUE(e.Succeeded());
}

// Unknown fields may nest as they like (the contract allows and ignores them): parsing is
// iterative, and nothing recurses into them. A record that breaks the schema and nests over
// 32 levels is quarantined without RapidJSON's validator, which recurses per level (100,000
// brackets would exhaust the stack, or take minutes).
TEST_F(DecoderTest, DeepNestingInUnknownFieldsIsReadOnlyABadRecordIsRefusedBeforeValidation) {
  const std::string deep_array = std::string(100000, '[') + std::string(100000, ']');
  std::string deep_object;
  for (int i = 0; i < 50000; ++i) deep_object += R"({"a":)";
  deep_object += "1" + std::string(50000, '}');
  Call c;
  c.method = "PUT";
  c.path = "/mshconfigurations";
  for (const std::string& deep : {deep_array, deep_object}) {
    // Inside a configuration too: a lock taken with junk beside it is still a lock taken.
    c.request = R"({"x":)" + deep + R"(,"configurations":[{"herId":8142520,"clientLocked":true,)" +
                R"("y":)" + deep + "}]}";
    const AccessEvent e = Decode(c);
    EXPECT_EQ(e.action, Action::kConfigWrite);
    ASSERT_EQ(e.configurations.size(), 1u);
    EXPECT_EQ(e.configurations[0].her_id, 8142520);
  }
  c.status = 99;  // breaks the schema: validated again, not at this depth
  const DecodeError err = Reject(Json(c));
  EXPECT_EQ(QuarantineReasonName(err.reason), "schema");
  EXPECT_NE(err.detail.find("nested more than 32 levels deep"), std::string::npos) << err.detail;
}

struct RouteCase {
  std::string api, method, path, query, request;
  Action action;
  std::vector<HerId> parties;
  bool from_custody;
};

class EveryRoute : public DecoderTest, public ::testing::WithParamInterface<RouteCase> {};

TEST_P(EveryRoute, MapsToItsActionAndParties) {
  const RouteCase& rc = GetParam();
  Call c;
  c.api = rc.api;
  c.method = rc.method;
  c.path = rc.path;
  c.query = rc.query;
  c.request = rc.request;
  AccessEvent e = Decode(c);
  EXPECT_EQ(ActionName(e.action), ActionName(rc.action)) << rc.path;
  EXPECT_EQ(Parties(e), rc.parties) << rc.path;
  EXPECT_EQ(e.parties_from_custody, rc.from_custody) << rc.path;
  if (rc.path.find(kMsg) != std::string::npos) {
    EXPECT_EQ(e.message_id, kMsg);
  }
}

const std::string M = kMsg;

INSTANTIATE_TEST_SUITE_P(
    EventsMdRouteTable, EveryRoute,
    ::testing::Values(
        RouteCase{"3",
                  "POST",
                  "/messages",
                  "",
                  R"({"senderHerId":11,"receiverHerIds":[21,22]})",
                  Action::kSend,
                  {11},
                  false},
        RouteCase{"3", "GET", "/messages/" + M, "", "", Action::kReadMetadata, {}, true},
        RouteCase{"3",
                  "GET",
                  "/messages/" + M + "/business-document",
                  "",
                  "",
                  Action::kDownload,
                  {},
                  true},
        RouteCase{"3", "GET", "/messages/" + M + "/status", "", "", Action::kReadStatus, {}, true},
        RouteCase{"3",
                  "POST",
                  "/messages/" + M + "/apprec",
                  "",
                  R"({"appRecSenderHerId":21,"appRecStatus":"Ok"})",
                  Action::kApprecSend,
                  {21},
                  false},
        RouteCase{"3",
                  "PUT",
                  "/messages/" + M + "/downloaded",
                  "",
                  R"({"receiverHerId":21})",
                  Action::kMarkDownloaded,
                  {21},
                  false},
        RouteCase{"3",
                  "GET",
                  "/notifications",
                  "HerIds=21&HerIds=22&NotificationsToFetch=100",
                  "",
                  Action::kPoll,
                  {21, 22},
                  false},
        RouteCase{"3", "GET", "/notifications/stream", "HerIds=23", "", Action::kPoll, {23}, false},
        RouteCase{"3",
                  "PUT",
                  "/mshconfigurations",
                  "",
                  R"({"configurations":[{"herId":21,"clientLocked":true},{"herId":22}]})",
                  Action::kConfigWrite,
                  {21, 22},
                  false},
        RouteCase{"3",
                  "POST",
                  "/mshconfigurations",
                  "",
                  R"({"configurations":[{"herId":24}]})",
                  Action::kConfigWrite,
                  {24},
                  false},
        RouteCase{"3",
                  "DELETE",
                  "/mshconfigurations",
                  "HerIds=21&HerIds=22",
                  "",
                  Action::kConfigDelete,
                  {21, 22},
                  false},
        RouteCase{"3", "GET", "/ping", "", "", Action::kPing, {}, false},
        RouteCase{
            "2", "POST", "/Messages", "", R"({"senderHerId":11})", Action::kSend, {11}, false},
        RouteCase{"2",
                  "GET",
                  "/Messages",
                  "ReceiverHerIds=21&ReceiverHerIds=22",
                  "",
                  Action::kPoll,
                  {21, 22},
                  false},
        RouteCase{"2", "GET", "/Messages/" + M, "", "", Action::kReadMetadata, {}, true},
        RouteCase{"2",
                  "GET",
                  "/Messages/" + M + "/business-document",
                  "",
                  "",
                  Action::kDownload,
                  {},
                  true},
        RouteCase{"2", "GET", "/Messages/" + M + "/status", "", "", Action::kReadStatus, {}, true},
        RouteCase{"2", "GET", "/Messages/" + M + "/apprec", "", "", Action::kReadApprec, {}, true},
        RouteCase{
            "2", "POST", "/Messages/" + M + "/apprec/21", "", "", Action::kApprecSend, {21}, false},
        RouteCase{"2",
                  "PUT",
                  "/Messages/" + M + "/read/22",
                  "",
                  "",
                  Action::kMarkDownloaded,
                  {22},
                  false},
        RouteCase{"2-vNext",
                  "GET",
                  "/Messages/notices",
                  "receiverHerIds=21&receiverHerIds=25",
                  "",
                  Action::kPoll,
                  {21, 25},
                  false},
        RouteCase{"2-vNext",
                  "POST",
                  "/MshConfiguration",
                  "",
                  R"({"mshConfigurations":[{"herId":26,"clientLocked":false}]})",
                  Action::kConfigWrite,
                  {26},
                  false},
        // v2-vNext keeps the v2 routes.
        RouteCase{"2-vNext",
                  "PUT",
                  "/Messages/" + M + "/read/22",
                  "",
                  "",
                  Action::kMarkDownloaded,
                  {22},
                  false}));

TEST_F(DecoderTest, MatchesPathsCaseInsensitively) {
  Call c;
  c.api = "3";
  c.method = "PUT";
  c.path = "/Messages/" + std::string(kMsg) + "/DOWNLOADED";
  c.request = R"({"receiverHerId":21})";
  EXPECT_EQ(Decode(c).action, Action::kMarkDownloaded);
  c.api = "2";
  c.path = "/messages/" + std::string(kMsg) + "/read/21";
  EXPECT_EQ(Decode(c).action, Action::kMarkDownloaded);
}

TEST_F(DecoderTest, LowerCasesTheMessageIdSoUpperCaseIdsMatchTheSameMessage) {
  Call c;
  c.path = "/messages/733BE787-0F1E-4A8C-9F55-0A5C1B1D6A11/status";
  EXPECT_EQ(Decode(c).message_id, kMsg);
}

TEST_F(DecoderTest, ToleratesTrailingAndDoubledSlashes) {
  Call c;
  c.path = "//notifications/";
  c.query = "HerIds=5";
  EXPECT_EQ(Decode(c).action, Action::kPoll);
}

TEST_F(DecoderTest, ReadsRepeatedCommaSeparatedAndPercentEncodedQueryKeys) {
  Call c;
  c.path = "/notifications";
  c.query = "herids=1&NotificationsToFetch=5&HERIDS=2,3&Her%49ds=4";
  EXPECT_EQ(Parties(Decode(c)), (std::vector<HerId>{1, 2, 3, 4}));
}

TEST_F(DecoderTest, AQueryLeftWithItsQuestionMarkKeepsItsFirstKey) {
  Call c;
  c.path = "/notifications";
  c.query = "?HerIds=8142520&HerIds=8142521";
  EXPECT_EQ(Parties(Decode(c)), (std::vector<HerId>{8142520, 8142521}));
}

TEST_F(DecoderTest, EachApiVersionReadsItsOwnListOfConfigurations) {
  // v3 reads `configurations`, 2-vNext `mshConfigurations`: the other list changed nothing.
  Call v3;
  v3.method = "PUT";
  v3.path = "/mshconfigurations";
  v3.request = R"({"mshConfigurations":[{"herId":8142521,"clientLocked":true}]})";
  EXPECT_TRUE(Decode(v3).configurations.empty());
  v3.request = R"({"configurations":[{"herId":8142521,"clientLocked":true}]})";
  EXPECT_EQ(Parties(Decode(v3)), (std::vector<HerId>{8142521}));
  Call vnext = v3;
  vnext.api = "2-vNext";
  vnext.method = "POST";
  vnext.path = "/MshConfiguration";
  EXPECT_TRUE(Decode(vnext).configurations.empty());
  vnext.request = R"({"mshConfigurations":[{"herId":8142521,"clientLocked":true}]})";
  EXPECT_EQ(Parties(Decode(vnext)), (std::vector<HerId>{8142521}));
}

TEST_F(DecoderTest, V2RoutesAreUnknownOnV3AndV3RoutesUnknownOnV2) {
  Call c;
  c.api = "3";
  c.method = "GET";
  c.path = "/Messages";  // v2 polling; v3 has /notifications
  c.query = "ReceiverHerIds=1";
  EXPECT_EQ(Decode(c).action, Action::kUnknown);
  c.api = "2";
  c.path = "/notifications";
  EXPECT_EQ(Decode(c).action, Action::kUnknown);
  c.api = "3";
  c.method = "POST";
  c.path = "/MshConfiguration";  // 2-vNext only
  EXPECT_EQ(Decode(c).action, Action::kUnknown);
  c.api = "2";
  c.method = "GET";
  c.path = "/Messages/notices";  // 2-vNext only; on v2 "notices" is no message id (a UUID)
  EXPECT_EQ(Decode(c).action, Action::kUnknown);
  EXPECT_EQ(Decode(c).message_id, "");
}

TEST_F(DecoderTest, APathWhoseMessageIdIsNoUuidIsAnUnknownRoute) {
  Call c;
  c.method = "PUT";
  for (const char* path : {"/messages/not-a-uuid/downloaded", "/messages/733be787-0f1e",
                           "/messages/733be787-0g1e-4a8c-9f55-0a5c1b1d6a11/status"}) {
    c.path = path;
    const AccessEvent e = Decode(c);
    EXPECT_EQ(e.action, Action::kUnknown) << path;
    EXPECT_EQ(e.route, "") << path;
    EXPECT_EQ(e.message_id, "") << path;
  }
}

// The server routes the path percent-decoded and without dot segments, and takes a message id
// in any of the forms a Guid parses from: a download disguised so must still be a download of
// that message, not an unknown route that escapes the custody and the rules.
TEST_F(DecoderTest, ADisguisedPathIsRoutedAsTheServerRoutesIt) {
  const std::string id = kMsg;
  std::string bare = id;
  std::erase(bare, '-');
  std::string upper = id;
  for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  Call c;
  c.method = "GET";
  for (const std::string& path : {
           "/messages/" + id + "/business%2Ddocument",
           "/messages/" + id + "/%62usiness-%64ocument",
           "/%6Dessages/" + id + "/business-document",
           "/messages/./" + id + "/business-document",
           "/messages/x/../" + id + "/business-document",
           "/messages/x/%2E%2E/" + id + "/./business-document/.",
           "/messages/" + id + "//../business-document",
           "/messages//x/../" + id + "/business-document",
           "/../messages/" + id + "/business-document",
           "/messages/" + bare + "/business-document",
           "/messages/{" + id + "}/business-document",
           "/messages/(" + upper + ")/business-document",
           "/messages/%7B" + upper + "%7D/business-document",
           "/messages/%20" + id + "/business-document",
       }) {
    c.path = path;
    const AccessEvent e = Decode(c);
    EXPECT_EQ(e.action, Action::kDownload) << path;
    EXPECT_EQ(e.route, "/messages/{id}/business-document") << path;
    EXPECT_EQ(e.message_id, kMsg) << path;
    EXPECT_EQ(e.path, path) << "the record keeps the path as received";
  }
  // An encoded slash stays inside its segment, as the server keeps it; an id that is not a
  // Guid in any form is no message id.
  for (const std::string& path : {
           "/messages/" + id + "%2Fbusiness-document",
           "/messages%2F" + id + "/business-document",
           "/messages/" + bare.substr(1) + "/business-document",
           "/messages/" + bare.substr(1) + "g/business-document",
           "/messages/{" + id + ")/business-document",
           "/messages/x//../" + id + "/business-document",
       }) {
    c.path = path;
    const AccessEvent e = Decode(c);
    EXPECT_EQ(e.action, Action::kUnknown) << path;
    EXPECT_EQ(e.message_id, "") << path;
  }
  // No route either, but under the message: it concerns that message.
  c.path = "/messages/" + id + "/business-document/..%2F..";
  EXPECT_EQ(Decode(c).action, Action::kUnknown);
  EXPECT_EQ(Decode(c).message_id, kMsg);
  c.method = "PUT";
  c.api = "2";
  c.path = "/Messages/" + bare + "/read/%32%31";
  AccessEvent e = Decode(c);
  EXPECT_EQ(e.action, Action::kMarkDownloaded);
  EXPECT_EQ(Parties(e), std::vector<HerId>{21});
  EXPECT_EQ(e.message_id, kMsg);
}

TEST_F(DecoderTest, ReadsMessageIdsInEveryFormAGuidParsesFrom) {
  Call c;
  c.method = "GET";
  for (const std::string& id : {
           std::string("{0x733be787,0x0f1e,0x4a8c,{0x9f,0x55,0x0a,0x5c,0x1b,0x1d,0x6a,0x11}}"),
           std::string(
               "%7B0x733be787,0xf1e,0x4A8C,%7B0x9f,0x55,0xa,0x5c,0x1b,0x1d,0x6a,0x11%7D%7D"),
           std::string("{ 0x733be787 , 0xf1e,0x4a8c, { 0x9f,0x55,0xa,0x5c,0x1b,0x1d,0x6a,0x11 } }"),
           std::string("733be787-+f1e-4a8c-9f55-+a5c1b1d6a11"),
           std::string("%E2%80%83733be787-0f1e-4a8c-9f55-0a5c1b1d6a11%C2%A0"),
           std::string("{0x0733be787,0x00f1e,0x4a8c,{0x9f,0x55,0xa,0x5c,0x1b,0x1d,0x6a,0x011}}"),
           std::string("%0B733be787-0f1e-4a8c-9f55-0a5c1b1d6a11%0D"),
       }) {
    c.path = "/messages/" + id + "/business-document";
    const AccessEvent e = Decode(c);
    EXPECT_EQ(e.action, Action::kDownload) << id;
    EXPECT_EQ(e.message_id, kMsg) << id;
  }
  // '+' and '0x' stand in for a group's leading zeros, the length staying 36.
  c.path = "/messages/0x000abc-0xf1-+a8c-9f55-0x0a5c1b1d6a/status";
  EXPECT_EQ(Decode(c).message_id, "00000abc-00f1-0a8c-9f55-000a5c1b1d6a");
  for (const std::string& id : {
           std::string("{0x733be787,0x0f1e,0x4a8c,{0x9f,0x55,0x0a,0x5c,0x1b,0x1d,0x6a}}"),
           std::string("{0x733be787,0x0f1e,0x4a8c,{0x9f,0x55,0x0a,0x5c,0x1b,0x1d,0x6a,0x111}}"),
           std::string("{733be787,0x0f1e,0x4a8c,{0x9f,0x55,0x0a,0x5c,0x1b,0x1d,0x6a,0x11}}"),
           std::string("733be787-++1e-4a8c-9f55-0a5c1b1d6a11"),
           std::string("733be787-0f1e-4a8c-9f55-0a5c1b1d6a1"),
           std::string("733be787-0xf1e-4a8c-9f55-0a5c1b1d6a11-"),
           std::string("733be787-0xf1e-0x4a8c-+0x9f55-0xa5c1b1d6a11"),  // 43: not "D"
           std::string("733be787-0x-4a8c-9f55-0a5c1b1d6a11"),
           std::string("733be787-0x00f1e-4a8c-9f55-0a5c1b1d6a11"),
       }) {
    c.path = "/messages/" + id + "/business-document";
    const AccessEvent e = Decode(c);
    EXPECT_EQ(e.action, Action::kUnknown) << id;
    EXPECT_EQ(e.message_id, "") << id;
  }
  // A path under a message that no route takes still concerns that message.
  for (const char* rest : {"/attachments", "/business-document;x=1", "/business-document/x"}) {
    c.path = "/Messages/" + std::string(kMsg) + rest;
    const AccessEvent e = Decode(c);
    EXPECT_EQ(e.action, Action::kUnknown) << rest;
    EXPECT_EQ(e.message_id, kMsg) << rest;
  }
  c.path = "/messages/notices/" + std::string(kMsg);
  EXPECT_EQ(Decode(c).message_id, "");
}

TEST_F(DecoderTest, ReadsHerIdsInPathAndQueryAsTheServerBindsAnInteger) {
  Call c;
  c.path = "/notifications";
  c.query = "HerIds=%2B21&HerIds=+22&HerIds=%2023%20&HerIds=0000000000000000000024";
  EXPECT_EQ(Parties(Decode(c)), (std::vector<HerId>{21, 22, 23, 24}));
  // Int32.Parse takes NULs after the number and its white space, nothing after them.
  c.query = "HerIds=26%00&HerIds=27%20%00%00";
  EXPECT_EQ(Parties(Decode(c)), (std::vector<HerId>{26, 27}));
  for (const char* her : {"HerIds=28%00%20", "HerIds=%0028", "HerIds=2%009", "HerIds=0x1C%00"}) {
    c.query = her;
    EXPECT_EQ(Reject(Json(c)).reason, QuarantineReason::kMalformedHerId) << her;
  }
  c.query = "";
  c.api = "2";
  c.method = "PUT";
  for (const char* her : {"%2B25", "025", "%20%2B25", "0x19", "%2319", "&H19", "%C2%A025"}) {
    c.path = "/Messages/" + std::string(kMsg) + "/read/" + her;
    EXPECT_EQ(Parties(Decode(c)), (std::vector<HerId>{25})) << her;
  }
  for (const char* her : {"-25", "2 5", "+-25", "0", "0x", "0x1g", "#"}) {
    c.path = "/Messages/" + std::string(kMsg) + "/read/" + her;
    EXPECT_EQ(Reject(Json(c)).reason, QuarantineReason::kMalformedHerId) << her;
  }
}

// A mark or an apprec whose body the gateway took no party from acts for a receiver of the
// message, which only its custody can tell: the state supplies it, as for a download.
TEST_F(DecoderTest, AMarkOrApprecWithoutItsBodysPartyTakesItFromCustody) {
  Call c;
  c.method = "PUT";
  c.path = "/messages/" + std::string(kMsg) + "/downloaded";
  AccessEvent e = Decode(c);
  EXPECT_EQ(e.action, Action::kMarkDownloaded);
  EXPECT_TRUE(e.parties.empty());
  EXPECT_TRUE(e.parties_from_custody);
  c.method = "POST";
  c.path = "/messages/" + std::string(kMsg) + "/apprec";
  c.request = R"({"appRecStatus":"Ok"})";
  e = Decode(c);
  EXPECT_EQ(e.action, Action::kApprecSend);
  EXPECT_TRUE(e.parties_from_custody);
  c.request = R"({"appRecSenderHerId":21})";
  e = Decode(c);
  EXPECT_EQ(Parties(e), std::vector<HerId>{21});
  EXPECT_FALSE(e.parties_from_custody);
}

TEST_F(DecoderTest, ReadsQueryListsInTheIndexedFormTheServerBinds) {
  Call c;
  c.path = "/notifications";
  const auto parties = [&](const char* query) {
    c.query = query;
    return Parties(Decode(c));
  };
  using V = std::vector<HerId>;
  // Indexed from 0 up to the first gap; the keys .index names; key[]. Keys the server does
  // not bind are ignored, malformed or not.
  EXPECT_EQ(parties("HerIds[0]=21&herids[1]=22&HerIds%5B2%5D=23&HerIds[4]=junk&HerIdsX=25"),
            (V{21, 22, 23}));
  EXPECT_EQ(parties("HerIds.index=a&HerIds.index=b&HerIds[a]=26&HerIds[b]=27&HerIds[0]=98"),
            (V{26, 27}));
  EXPECT_EQ(parties("HerIds[]=24&HerIds[]=25"), (V{24, 25}));
  // The plain key binds alone when present.
  EXPECT_EQ(parties("HerIds=8142520&HerIds[0]=junk"), (V{8142520}));
  EXPECT_EQ(parties("HerIds=1&HerIds[0]=2"), (V{1}));
  // With no key naming the list, the server binds the prefix-less forms; with one, not.
  EXPECT_EQ(parties("[0]=31&[1]=32&NotificationsToFetch=5"), (V{31, 32}));
  EXPECT_EQ(parties("index=a&[a]=33"), (V{33}));
  EXPECT_EQ(parties("HerIdsX=1&[0]=36"), (V{36}));
  EXPECT_EQ(parties("HerIds=34&[0]=35"), (V{34}));
  EXPECT_EQ(parties("HerIds[5]=34&[0]=35"), V{});
  c.api = "2";
  c.path = "/Messages";
  c.query = "ReceiverHerIds[0]=31&ReceiverHerIds[1]=32";
  EXPECT_EQ(Parties(Decode(c)), (std::vector<HerId>{31, 32}));
  c.query = "ReceiverHerIds[0]=abc";
  EXPECT_EQ(Reject(Json(c)).reason, QuarantineReason::kMalformedHerId);
}

TEST_F(DecoderTest, ACallNamingAPartyTwiceActsForItOnce) {
  Call c;
  c.path = "/notifications";
  c.query = "HerIds=21&HerIds=22&HerIds=21,22,21";
  EXPECT_EQ(Parties(Decode(c)), (std::vector<HerId>{21, 22}));
  std::string many;  // beyond the small-list path
  for (int i = 0; i < 40; ++i) many += "HerIds=" + std::to_string(100 + i % 20) + "&";
  c.query = many + "HerIds=7";
  std::vector<HerId> expected;
  for (int i = 0; i < 20; ++i) expected.push_back(100 + i);
  expected.push_back(7);
  EXPECT_EQ(Parties(Decode(c)), expected);
  c.method = "PUT";
  c.path = "/mshconfigurations";
  c.query = "";
  c.request = R"({"configurations":[{"herId":24},{"herId":25},{"herId":24,"clientLocked":true}]})";
  EXPECT_EQ(Parties(Decode(c)), (std::vector<HerId>{24, 25}));
}

TEST_F(DecoderTest, V2ApprecTakesThePartyFromThePathNotTheBody) {
  Call c;
  c.api = "2";
  c.method = "POST";
  c.path = "/Messages/" + std::string(kMsg) + "/apprec/77";
  c.request = R"({"appRecSenderHerId":88})";
  AccessEvent e = Decode(c);
  EXPECT_EQ(Parties(e), std::vector<HerId>{77});
  EXPECT_EQ(e.parties[0].source, PartySource::kPath);
}

TEST_F(DecoderTest, UnknownPathsAndMethodsAreKeptAsUnknownAction) {
  Call c;
  c.path = "/admin/secrets";
  AccessEvent e = Decode(c);
  EXPECT_EQ(e.action, Action::kUnknown);
  EXPECT_TRUE(e.route.empty());
  c.method = "PATCH";
  c.path = "/messages";
  EXPECT_EQ(Decode(c).action, Action::kUnknown);
}

TEST_F(DecoderTest, KeepsPollResponsesAndMessageBlocks) {
  Call c;
  c.path = "/notifications";
  c.query = "HerIds=21";
  c.response = std::string(R"({"messages":[{"id":")") + kMsg +
               R"(","senderHerId":11,"receiverHerId":21,"isAppRec":false}]})";
  AccessEvent e = Decode(c);
  ASSERT_EQ(e.polled.size(), 1u);
  EXPECT_EQ(e.polled[0].id, kMsg);
  EXPECT_EQ(e.polled[0].sender_her_id, 11);
  EXPECT_EQ(e.polled[0].receiver_her_ids, std::vector<HerId>{21});

  c.path = "/messages/" + std::string(kMsg) + "/business-document";
  c.response.clear();
  c.message = std::string(R"({"id":")") + kMsg +
              R"(","senderHerId":11,"receiverHerIds":[21,22],"businessDocumentId":"d1"})";
  e = Decode(c);
  ASSERT_TRUE(e.message.has_value());
  EXPECT_EQ(e.message->receiver_her_ids, (std::vector<HerId>{21, 22}));
  EXPECT_EQ(e.message->business_document_id, "d1");
}

// EVENTS.md gives the `message` block a receiver list only; a `receiverHerId` beside it is an
// unknown field: it names no receiver (and so no party a download acts for), whatever it holds.
TEST_F(DecoderTest, AMessageBlocksReceiverHerIdIsAnUnknownFieldNotAReceiver) {
  Call c;
  c.path = "/messages/" + std::string(kMsg) + "/business-document";
  c.message = std::string(R"({"id":")") + kMsg +
              R"(","senderHerId":11,"receiverHerIds":[21],"receiverHerId":-5})";
  AccessEvent e = Decode(c);
  ASSERT_TRUE(e.message.has_value());
  EXPECT_EQ(e.message->receiver_her_ids, std::vector<HerId>{21});

  c.message = std::string(R"({"id":")") + kMsg + R"(","senderHerId":11,"receiverHerId":22})";
  e = Decode(c);
  ASSERT_TRUE(e.message.has_value());
  EXPECT_TRUE(e.message->receiver_her_ids.empty());
  EXPECT_FALSE(e.message->receivers_listed);
}

TEST_F(DecoderTest, SendTakesTheCreatedMessageIdFromTheResponse) {
  Call c;
  c.method = "POST";
  c.path = "/messages";
  c.request = R"({"senderHerId":11,"receiverHerIds":[21]})";
  c.response = std::string(R"({"id":")") + kMsg + "\"}";
  AccessEvent e = Decode(c);
  EXPECT_EQ(e.message_id, kMsg);
  EXPECT_EQ(e.receiver_her_ids, std::vector<HerId>{21});
}

TEST_F(DecoderTest, IgnoresUnknownExtraFields) {
  std::string text = Json(Call{});
  text.insert(1, R"("gatewayNode":"gw-3","extra":{"nested":[1,2]},)");
  EXPECT_EQ(DecodeText(text).action, Action::kPing);
}

// A record is read to its last byte: a NUL byte does not end it early, wherever it is.
TEST_F(DecoderTest, ANulByteInARecordMakesItInvalidJsonNotShorter) {
  const std::string text = Json(Call{});
  for (const std::string& bad : {text + std::string(1, '\0') + "junk", text + std::string(1, '\0'),
                                 text.substr(0, text.size() - 1) + std::string(1, '\0') + "}",
                                 text.substr(0, 20) + std::string(1, '\0') + text.substr(20)}) {
    const DecodeError err = Reject(bad);
    EXPECT_EQ(QuarantineReasonName(err.reason), "invalid_json") << err.detail;
  }
  // An escaped NUL inside a string is a character of it, not its end.
  std::string escaped = text;
  escaped.insert(1, R"("note":"a\u0000b",)");
  EXPECT_EQ(DecodeText(escaped).action, Action::kPing);
}

TEST_F(DecoderTest, RecognisesDeniedAndSucceededCalls) {
  Call c;
  c.status = 423;
  EXPECT_TRUE(Decode(c).Denied());
  c.status = 403;
  EXPECT_TRUE(Decode(c).Denied());
  c.status = 500;
  AccessEvent e = Decode(c);
  EXPECT_FALSE(e.Denied());
  EXPECT_FALSE(e.Succeeded());
}

TEST_F(DecoderTest, RejectsOversizeRecordsBeforeParsing) {
  auto d = Decoder::Create({.max_record_bytes = 100, .schema_dir = ""});
  ASSERT_TRUE(d.ok());
  AccessEvent e;
  DecodeError err;
  EXPECT_FALSE((*d)->Decode(Json(Call{}), &e, &err));
  EXPECT_EQ(err.reason, QuarantineReason::kOversize);
}

// Each party a call names is facts, rules and often a finding: one poll naming 65,000 unknown
// HER-Ids was 65,000 findings and 367 MB. Repeats of one HER-Id count once.
TEST_F(DecoderTest, ACallNamingMorePartiesThanTheLimitIsOversize) {
  auto d = Decoder::Create({.schema_dir = "", .max_parties_per_call = 3});
  ASSERT_TRUE(d.ok());
  Call c;
  c.path = "/notifications";
  c.query = "HerIds=1&HerIds=2&HerIds=3&HerIds=3&HerIds=1";
  AccessEvent e;
  DecodeError err;
  EXPECT_TRUE((*d)->Decode(Json(c), &e, &err)) << err.detail;
  EXPECT_EQ(e.parties.size(), 3u);
  c.query += "&HerIds=4";
  EXPECT_FALSE((*d)->Decode(Json(c), &e, &err));
  EXPECT_EQ(err.reason, QuarantineReason::kTooManyParties);
  EXPECT_EQ(err.detail,
            "the call names 4 parties; a call may name at most 3 (decode.max_parties_per_call)");
  // The default: 1,000.
  c.query.clear();
  for (int i = 1; i <= 1001; ++i) c.query += (i > 1 ? "&HerIds=" : "HerIds=") + std::to_string(i);
  EXPECT_EQ(QuarantineReasonName(Reject(Json(c)).reason), "too_many_parties");
}

TEST(HerIdClaim, AcceptsZeroAndHyphenLists) {
  EXPECT_TRUE(IsValidHerIdClaim("0"));
  EXPECT_TRUE(IsValidHerIdClaim("123"));
  EXPECT_TRUE(IsValidHerIdClaim("123-456-789"));
  EXPECT_FALSE(IsValidHerIdClaim(""));
  EXPECT_FALSE(IsValidHerIdClaim("12--3"));
  EXPECT_FALSE(IsValidHerIdClaim("-12"));
  EXPECT_FALSE(IsValidHerIdClaim("12-"));
  EXPECT_FALSE(IsValidHerIdClaim("abc"));
  EXPECT_FALSE(IsValidHerIdClaim("0-12"));
}

}  // namespace
}  // namespace edi

namespace edi {
namespace {

TEST_F(DecoderTest, AcceptsNorwegianLettersAndRejectsOverlongOrSurrogateUtf8) {
  Call c;
  c.client =
      R"({"clientId":"c-1","clientName":"Sjukeheim Ålesund – æøå","orgnrParent":"964338531"})";
  EXPECT_EQ(Decode(c).client.client_name, "Sjukeheim Ålesund – æøå");
  c.client = "{\"clientId\":\"c-\xC0\xAF\",\"orgnrParent\":\"964338531\"}";  // overlong '/'
  EXPECT_EQ(Reject(Json(c)).reason, QuarantineReason::kInvalidJson);
  c.client = "{\"clientId\":\"c-\xED\xA0\x80\",\"orgnrParent\":\"964338531\"}";  // a surrogate
  EXPECT_EQ(Reject(Json(c)).reason, QuarantineReason::kInvalidJson);
}

}  // namespace
}  // namespace edi
