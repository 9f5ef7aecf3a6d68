#include "registry/registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>
#include <vector>

#include "common/schema.h"
#include "common/time.h"

namespace edi {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// Bergen-like municipality: hovedenhet -> organisasjonsledd -> underenhet, plus a unit directly
// under the top; and a second municipality with one underenhet.
const std::vector<std::string> kOrganizations = {
    R"({"organisasjonsnummer":"964338531","navn":"Kommune A","kind":"hovedenhet"})",
    R"({"organisasjonsnummer":"900000001","navn":"Helse og omsorg","kind":"organisasjonsledd","overordnetEnhet":"964338531"})",
    R"({"organisasjonsnummer":"900000002","navn":"Sykehjem","kind":"underenhet","overordnetEnhet":"900000001"})",
    R"({"organisasjonsnummer":"900000003","navn":"Legekontor","kind":"underenhet","overordnetEnhet":"964338531"})",
    R"({"organisasjonsnummer":"942110464","navn":"Kommune B","kind":"hovedenhet"})",
    R"({"organisasjonsnummer":"900000010","navn":"Skole B","kind":"underenhet","overordnetEnhet":"942110464"})",
};

const std::vector<std::string> kParties = {
    R"({"herId":100,"name":"Kommune A","type":"Organization","organizationNumber":"964338531","parentHerId":-1,"parentOrganizationNumber":"","active":true})",
    R"({"herId":101,"name":"Sykehjem avd. 1","type":"Service","parentHerId":100,"parentOrganizationNumber":"900000002","active":true})",
    R"({"herId":103,"name":"Legekontor","type":"Organization","organizationNumber":"900000003","parentHerId":100})",
    R"({"herId":102,"name":"Lege Hansen","type":"Person","parentHerId":103,"parentOrganizationNumber":""})",
    R"({"herId":104,"name":"Nattvakt","type":"Service","parentHerId":101,"parentOrganizationNumber":""})",
    R"({"herId":105,"name":"Sykepleier Berg","type":"Person","parentHerId":104,"active":false})",
    R"({"herId":106,"name":"Foreldreløs tjeneste","type":"Service","parentHerId":999,"parentOrganizationNumber":""})",
    R"({"herId":200,"name":"Skole B helsesykepleier","type":"Service","parentHerId":-1,"parentOrganizationNumber":"900000010"})",
};

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string("edi-registry-") + info->test_suite_name() + "-" + info->name();
    for (char& c : name) c = c == '/' ? '_' : c;
    dir_ = fs::path(::testing::TempDir()) / name;
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    Write("organizations.jsonl", kOrganizations);
    Write("communication-parties.jsonl", kParties);
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Write(const std::string& file, const std::vector<std::string>& lines) {
    std::ofstream out(dir_ / file, std::ios::binary | std::ios::trunc);
    for (const auto& line : lines) out << line << "\n";
  }

  Result<std::shared_ptr<const Registry>> Load() {
    return Registry::Load(dir_.string(), SchemaDir());
  }

  std::shared_ptr<const Registry> LoadOk() {
    auto r = Load();
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r.value() : Registry::Empty();
  }

  // The load's error message; fails the test when the load succeeds.
  std::string LoadError() {
    auto r = Load();
    EXPECT_FALSE(r.ok()) << "the load was expected to fail";
    return r.ok() ? std::string() : r.status().message();
  }

  fs::path dir_;
};

TEST_F(RegistryTest, AServiceBelongsToItsParentOrganisationNumber) {
  auto reg = LoadOk();
  const CommunicationParty* p = reg->FindParty(101);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->type, PartyType::kService);
  EXPECT_EQ(p->orgnr, "900000002");
  EXPECT_EQ(p->top_orgnr, "964338531");
}

TEST_F(RegistryTest, APersonWithOnlyAParentHerIdBelongsToThatPartysOrganisation) {
  auto reg = LoadOk();
  const CommunicationParty* p = reg->FindParty(102);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->type, PartyType::kPerson);
  EXPECT_EQ(p->orgnr, "900000003");
  EXPECT_EQ(p->top_orgnr, "964338531");
}

TEST_F(RegistryTest, PartiesResolveThroughSeveralParentHerIds) {
  auto reg = LoadOk();
  // 105 -> 104 -> 101, which names 900000002.
  const CommunicationParty* service = reg->FindParty(104);
  const CommunicationParty* person = reg->FindParty(105);
  ASSERT_NE(service, nullptr);
  ASSERT_NE(person, nullptr);
  EXPECT_EQ(service->orgnr, "900000002");
  EXPECT_EQ(person->orgnr, "900000002");
  EXPECT_EQ(person->top_orgnr, "964338531");
  EXPECT_FALSE(person->active);
}

TEST_F(RegistryTest, AnOrganizationKeepsItsOwnNumberEvenWithAParentParty) {
  auto reg = LoadOk();
  const CommunicationParty* p = reg->FindParty(103);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->organization_number, "900000003");
  EXPECT_EQ(p->parent_her_id, 100);
  EXPECT_EQ(p->orgnr, "900000003");
  EXPECT_EQ(p->top_orgnr, "964338531");
}

TEST_F(RegistryTest, AbsentParentFieldsTakeTheirNoneValues) {
  auto reg = LoadOk();
  const CommunicationParty* p = reg->FindParty(105);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->parent_organization_number, "");
  const CommunicationParty* org = reg->FindParty(103);
  ASSERT_NE(org, nullptr);
  EXPECT_EQ(org->parent_organization_number, "");
  EXPECT_TRUE(org->active);
}

TEST_F(RegistryTest, APartyWhoseParentIsUnknownHasNoOrganisation) {
  auto reg = LoadOk();
  const CommunicationParty* p = reg->FindParty(106);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->orgnr, "");
  EXPECT_EQ(p->top_orgnr, "");
  EXPECT_FALSE(reg->Covers("964338531", p->orgnr));
}

TEST_F(RegistryTest, AnUnderenhetBelowAnOrganisasjonsleddResolvesToTheHovedenhet) {
  auto reg = LoadOk();
  EXPECT_EQ(reg->TopLevelUnit("900000002"), "964338531");
  EXPECT_EQ(reg->TopLevelUnit("900000001"), "964338531");
  EXPECT_EQ(reg->TopLevelUnit("900000003"), "964338531");
  EXPECT_EQ(reg->TopLevelUnit("964338531"), "964338531");
  EXPECT_EQ(reg->TopLevelUnit("900000010"), "942110464");
}

TEST_F(RegistryTest, AnOrgnrOutsideTheSnapshotIsItsOwnTopLevelUnit) {
  auto reg = LoadOk();
  EXPECT_EQ(reg->TopLevelUnit("111111111"), "111111111");
  EXPECT_EQ(reg->FindOrg("111111111"), nullptr);
}

TEST_F(RegistryTest, CoversHoldsAtEveryDepthBelowTheTopLevelUnit) {
  auto reg = LoadOk();
  EXPECT_TRUE(reg->Covers("964338531", "964338531"));
  EXPECT_TRUE(reg->Covers("964338531", "900000001"));
  EXPECT_TRUE(reg->Covers("964338531", "900000002"));
  EXPECT_TRUE(reg->Covers("964338531", "900000003"));
  // A mid-level unit covers what is below it, not what is beside or above it.
  EXPECT_TRUE(reg->Covers("900000001", "900000002"));
  EXPECT_FALSE(reg->Covers("900000001", "900000003"));
  EXPECT_FALSE(reg->Covers("900000002", "964338531"));
}

TEST_F(RegistryTest, CoversIsFalseForAnotherMunicipality) {
  auto reg = LoadOk();
  EXPECT_FALSE(reg->Covers("942110464", "900000002"));
  EXPECT_FALSE(reg->Covers("942110464", "964338531"));
  EXPECT_FALSE(reg->Covers("964338531", "900000010"));
  EXPECT_FALSE(reg->Covers("964338531", "111111111"));
  EXPECT_FALSE(reg->Covers("", ""));
}

TEST_F(RegistryTest, AUnitWhoseParentIsNotInTheSnapshotHangsUnderThatParent) {
  Write(
      "organizations.jsonl",
      {R"({"organisasjonsnummer":"900000020","navn":"Avdeling","kind":"underenhet","overordnetEnhet":"888888888"})"});
  Write(
      "communication-parties.jsonl",
      {R"({"herId":1,"name":"Avdeling","type":"Organization","organizationNumber":"900000020","parentHerId":-1,"parentOrganizationNumber":"","active":true})"});
  auto reg = LoadOk();
  EXPECT_EQ(reg->TopLevelUnit("900000020"), "888888888");
  EXPECT_TRUE(reg->Covers("888888888", "900000020"));
}

TEST_F(RegistryTest, AnEmptyRequiredSnapshotIsRefusedNamingIt) {
  for (const char* file : {"communication-parties.jsonl", "organizations.jsonl"}) {
    SetUp();  // the good snapshots again
    Write(file, {});
    EXPECT_THAT(LoadError(), HasSubstr((dir_ / file).string() + ": holds no records")) << file;
  }
  // An optional one may be empty.
  SetUp();
  Write("owners.jsonl", {});
  LoadOk();
}

TEST_F(RegistryTest, FindOrgReturnsTheUnitAsWritten) {
  auto reg = LoadOk();
  const OrgUnit* u = reg->FindOrg("900000001");
  ASSERT_NE(u, nullptr);
  EXPECT_EQ(u->name, "Helse og omsorg");
  EXPECT_EQ(u->parent, "964338531");
  EXPECT_EQ(u->kind, OrgKind::kOrganisasjonsledd);
  EXPECT_EQ(reg->org_count(), kOrganizations.size());
  EXPECT_EQ(reg->party_count(), kParties.size());
}

TEST_F(RegistryTest, OptionalFilesMayBeAbsent) {
  auto reg = LoadOk();
  EXPECT_TRUE(reg->reservations().empty());
  EXPECT_EQ(reg->FindClient("any"), nullptr);
  EXPECT_EQ(reg->DeclaredOwner(101), nullptr);
}

TEST_F(RegistryTest, OptionalFilesAreLoadedWhenPresent) {
  Write("clients.jsonl",
        {R"({"clientId":"epj-nursing","clientName":"Nursing EPJ","orgnrSupplier":"987654321"})",
         R"({"clientId":"epj-gp"})"});
  Write("reservations.jsonl",
        {R"({"herId":101,"clientId":"epj-nursing","since":"2026-05-01T08:00:00.250Z"})"});
  Write("owners.jsonl", {R"({"herId":102,"clientId":"epj-gp"})"});
  auto reg = LoadOk();
  const ClientInfo* c = reg->FindClient("epj-nursing");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->client_name, "Nursing EPJ");
  EXPECT_EQ(c->orgnr_supplier, "987654321");
  ASSERT_NE(reg->FindClient("epj-gp"), nullptr);
  ASSERT_EQ(reg->reservations().size(), 1u);
  EXPECT_EQ(reg->reservations()[0].her_id, 101);
  EXPECT_EQ(reg->reservations()[0].client_id, "epj-nursing");
  EXPECT_EQ(reg->reservations()[0].since, *ParseRfc3339("2026-05-01T08:00:00.250Z"));
  const std::string* owner = reg->DeclaredOwner(102);
  ASSERT_NE(owner, nullptr);
  EXPECT_EQ(*owner, "epj-gp");
}

TEST_F(RegistryTest, BlankLinesAndWindowsLineEndsAreSkipped) {
  Write("organizations.jsonl",
        {"", kOrganizations[0] + "\r", "   ", kOrganizations[1] + "\r", "\r"});
  Write("communication-parties.jsonl", {"", kParties[0], ""});
  auto reg = LoadOk();
  EXPECT_EQ(reg->org_count(), 2u);
  EXPECT_EQ(reg->party_count(), 1u);
}

TEST_F(RegistryTest, ANulByteInAStringIsAnErrorNamingFileLineAndField) {
  // The schema's "^[0-9]{9}$" is checked only up to a NUL: "900000030\u0000zz" passed it.
  std::vector<std::string> orgs = kOrganizations;
  orgs.push_back(R"({"organisasjonsnummer":"900000099\u0000zz","navn":"x","kind":"hovedenhet"})");
  Write("organizations.jsonl", orgs);
  const std::string msg = LoadError();
  EXPECT_THAT(msg, HasSubstr("organizations.jsonl:" + std::to_string(orgs.size()) + ": "));
  EXPECT_THAT(msg, HasSubstr("field '/organisasjonsnummer': contains a NUL byte"));
}

// A line naming a key twice is ambiguous (the first value or the last?): refused as a bad line,
// as an access-log record naming one is quarantined.
TEST_F(RegistryTest, AKeyNamedTwiceInALineIsAnErrorNamingFileLineAndKey) {
  std::vector<std::string> parties = kParties;
  parties.push_back(R"({"herId":9000002,"herId":100,)"
                    R"("name":"a","type":"Organization","organizationNumber":"964338531"})");
  Write("communication-parties.jsonl", parties);
  const std::string msg = LoadError();
  EXPECT_THAT(msg,
              HasSubstr("communication-parties.jsonl:" + std::to_string(parties.size()) + ": "));
  EXPECT_THAT(msg, HasSubstr("the key 'herId' appears twice"));
}

TEST_F(RegistryTest, UnknownExtraFieldsAreAllowed) {
  Write(
      "communication-parties.jsonl",
      {R"({"herId":7,"name":"X","type":"Organization","organizationNumber":"964338531","extra":{"a":[1]}})"});
  auto reg = LoadOk();
  EXPECT_NE(reg->FindParty(7), nullptr);
}

TEST_F(RegistryTest, TheEmptyRegistryKnowsNothing) {
  auto reg = Registry::Empty();
  EXPECT_EQ(reg->party_count(), 0u);
  EXPECT_EQ(reg->FindParty(100), nullptr);
  EXPECT_EQ(reg->TopLevelUnit("900000002"), "900000002");
  EXPECT_TRUE(reg->Covers("900000002", "900000002"));
  EXPECT_FALSE(reg->Covers("964338531", "900000002"));
}

TEST_F(RegistryTest, AMissingPartiesFileIsAnErrorNamingItsPath) {
  fs::remove(dir_ / "communication-parties.jsonl");
  auto r = Load();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr((dir_ / "communication-parties.jsonl").string()));
}

TEST_F(RegistryTest, ASnapshotFileGivenForTheDirectoryIsNamedAsNoDirectory) {
  const std::string file = (dir_ / "organizations.jsonl").string();
  auto r = Registry::Load(file, SchemaDir());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr(file + ": is not a directory"));
}

TEST_F(RegistryTest, AMissingOrganizationsFileIsAnErrorNamingItsPath) {
  fs::remove(dir_ / "organizations.jsonl");
  EXPECT_THAT(LoadError(), HasSubstr((dir_ / "organizations.jsonl").string()));
}

TEST_F(RegistryTest, ALineThatIsNotJsonNamesFileLineAndField) {
  std::vector<std::string> lines = kParties;
  lines[2] = R"({"herId":103,"name":"Legekontor","type":Organization})";
  Write("communication-parties.jsonl", lines);
  const std::string msg = LoadError();
  EXPECT_THAT(msg, HasSubstr("communication-parties.jsonl:3:"));
  EXPECT_THAT(msg, HasSubstr("field '/type'"));
  EXPECT_THAT(msg, HasSubstr("invalid JSON"));
}

TEST_F(RegistryTest, TrailingGarbageAfterTheObjectIsNotJson) {
  Write("owners.jsonl", {R"({"herId":101,"clientId":"a"} x)"});
  EXPECT_THAT(LoadError(), HasSubstr("owners.jsonl:1: field '/"));
}

TEST_F(RegistryTest, LineNumbersCountBlankLines) {
  Write("organizations.jsonl", {kOrganizations[0], "", R"({"organisasjonsnummer":"1"})"});
  EXPECT_THAT(LoadError(), HasSubstr("organizations.jsonl:3:"));
}

TEST_F(RegistryTest, ADuplicateHerIdNamesBothLines) {
  std::vector<std::string> lines = kParties;
  lines.push_back(kParties[1]);
  Write("communication-parties.jsonl", lines);
  EXPECT_THAT(LoadError(), HasSubstr("communication-parties.jsonl:9: field '/herId': duplicate "
                                     "herId 101 (first on line 2)"));
}

TEST_F(RegistryTest, ADuplicateOrganisationNumberNamesBothLines) {
  std::vector<std::string> lines = kOrganizations;
  lines.push_back(kOrganizations[2]);
  Write("organizations.jsonl", lines);
  EXPECT_THAT(LoadError(), HasSubstr("organizations.jsonl:7: field '/organisasjonsnummer': "
                                     "duplicate organisasjonsnummer 900000002 (first on line 3)"));
}

TEST_F(RegistryTest, DuplicatesInTheOptionalFilesAreErrors) {
  Write("clients.jsonl", {R"({"clientId":"a"})", R"({"clientId":"a"})"});
  EXPECT_THAT(LoadError(), HasSubstr("clients.jsonl:2: field '/clientId': duplicate"));
  fs::remove(dir_ / "clients.jsonl");
  Write("reservations.jsonl", {R"({"herId":101,"clientId":"a","since":"2026-01-01T00:00:00Z"})",
                               R"({"herId":101,"clientId":"b","since":"2026-01-02T00:00:00Z"})"});
  EXPECT_THAT(LoadError(), HasSubstr("reservations.jsonl:2: field '/herId': duplicate"));
  fs::remove(dir_ / "reservations.jsonl");
  Write("owners.jsonl", {R"({"herId":101,"clientId":"a"})", R"({"herId":101,"clientId":"b"})"});
  EXPECT_THAT(LoadError(), HasSubstr("owners.jsonl:2: field '/herId': duplicate"));
}

TEST_F(RegistryTest, ACycleOfOverordnetEnhetIsAnError) {
  std::vector<std::string> lines = kOrganizations;
  lines.push_back(
      R"({"organisasjonsnummer":"900000030","navn":"A","kind":"underenhet","overordnetEnhet":"900000031"})");
  lines.push_back(
      R"({"organisasjonsnummer":"900000031","navn":"B","kind":"organisasjonsledd","overordnetEnhet":"900000032"})");
  lines.push_back(
      R"({"organisasjonsnummer":"900000032","navn":"C","kind":"organisasjonsledd","overordnetEnhet":"900000031"})");
  Write("organizations.jsonl", lines);
  // The walk starts at 900000030 (line 7); the cycle is reported at its first line (8).
  EXPECT_THAT(LoadError(), HasSubstr("organizations.jsonl:8: field '/overordnetEnhet': cycle "
                                     "900000031 -> 900000032 -> 900000031"));
}

TEST_F(RegistryTest, AUnitThatIsItsOwnParentIsACycle) {
  Write(
      "organizations.jsonl",
      {R"({"organisasjonsnummer":"900000040","navn":"A","kind":"underenhet","overordnetEnhet":"900000040"})"});
  EXPECT_THAT(LoadError(), HasSubstr("organizations.jsonl:1: field '/overordnetEnhet': cycle "
                                     "900000040 -> 900000040"));
}

TEST_F(RegistryTest, ACycleOfParentHerIdThatResolutionMustFollowIsAnError) {
  std::vector<std::string> lines = kParties;
  lines.push_back(R"({"herId":300,"name":"A","type":"Service","parentHerId":301})");
  lines.push_back(R"({"herId":301,"name":"B","type":"Person","parentHerId":300})");
  Write("communication-parties.jsonl", lines);
  EXPECT_THAT(LoadError(), HasSubstr("communication-parties.jsonl:9: field '/parentHerId': cycle "
                                     "300 -> 301 -> 300"));
}

TEST_F(RegistryTest, AReservationSinceThatIsNoRealTimeIsAnError) {
  Write("reservations.jsonl", {R"({"herId":101,"clientId":"a","since":"2026-01-01T00:00:00Z"})",
                               R"({"herId":102,"clientId":"a","since":"2026-02-30T10:00:00Z"})"});
  EXPECT_THAT(LoadError(), HasSubstr("reservations.jsonl:2: field '/since': not a valid RFC 3339 "
                                     "time"));
}

TEST_F(RegistryTest, AHerIdBeyondSixtyFourBitsIsOutOfRange) {
  Write("owners.jsonl", {R"({"herId":9223372036854775808,"clientId":"a"})"});
  EXPECT_THAT(LoadError(), HasSubstr("owners.jsonl:1: field '/herId': out of range"));
}

// One line breaking its file's schema: the load fails and the message names file, line, field.
struct SchemaCase {
  const char* name;
  const char* file;
  const char* line;
  const char* expected;
};

class SnapshotLineBreakingItsSchema : public RegistryTest,
                                      public ::testing::WithParamInterface<SchemaCase> {};

TEST_P(SnapshotLineBreakingItsSchema, FailsTheLoadNamingFileLineAndField) {
  const SchemaCase& c = GetParam();
  // The bad line comes second, after a valid one, so the line number is 2.
  std::vector<std::string> lines;
  const std::string file = c.file;
  if (file == "communication-parties.jsonl") {
    lines = {kParties[0], c.line};
  } else if (file == "organizations.jsonl") {
    lines = {kOrganizations[0], c.line};
  } else if (file == "clients.jsonl") {
    lines = {R"({"clientId":"ok"})", c.line};
  } else if (file == "reservations.jsonl") {
    lines = {R"({"herId":100,"clientId":"ok","since":"2026-01-01T00:00:00Z"})", c.line};
  } else {
    lines = {R"({"herId":100,"clientId":"ok"})", c.line};
  }
  Write(file, lines);
  const std::string msg = LoadError();
  EXPECT_THAT(msg, HasSubstr(file + ":2: field '"));
  EXPECT_THAT(msg, HasSubstr(c.expected));
}

INSTANTIATE_TEST_SUITE_P(
    EveryFile, SnapshotLineBreakingItsSchema,
    ::testing::Values(
        SchemaCase{"PartyTypeNotAllowed", "communication-parties.jsonl",
                   R"({"herId":1,"name":"x","type":"Robot"})",
                   "field '/type': not one of the allowed values"},
        SchemaCase{"PartyNameMissing", "communication-parties.jsonl",
                   R"({"herId":1,"type":"Service"})", "'name'"},
        SchemaCase{"PartyHerIdZero", "communication-parties.jsonl",
                   R"({"herId":0,"name":"x","type":"Service"})", "field '/herId'"},
        SchemaCase{"PartyHerIdNotAnInteger", "communication-parties.jsonl",
                   R"({"herId":"8142520","name":"x","type":"Service"})",
                   "field '/herId': wrong type"},
        SchemaCase{"OrganizationWithoutNumber", "communication-parties.jsonl",
                   R"({"herId":1,"name":"x","type":"Organization"})",
                   "field '/organizationNumber': required when type is Organization"},
        SchemaCase{"ServiceWithOwnNumber", "communication-parties.jsonl",
                   R"({"herId":1,"name":"x","type":"Service","organizationNumber":"964338531"})",
                   "field '/organizationNumber': not allowed when type is Service"},
        SchemaCase{
            "OrganizationNumberNotNineDigits", "communication-parties.jsonl",
            R"({"herId":1,"name":"x","type":"Organization","organizationNumber":"96433853"})",
            "field '/organizationNumber'"},
        SchemaCase{"ParentHerIdZero", "communication-parties.jsonl",
                   R"({"herId":1,"name":"x","type":"Service","parentHerId":0})",
                   "field '/parentHerId'"},
        SchemaCase{"ParentOrganizationNumberMalformed", "communication-parties.jsonl",
                   R"({"herId":1,"name":"x","type":"Service","parentOrganizationNumber":"12"})",
                   "field '/parentOrganizationNumber'"},
        SchemaCase{"ActiveNotABoolean", "communication-parties.jsonl",
                   R"({"herId":1,"name":"x","type":"Service","active":"yes"})", "field '/active'"},
        SchemaCase{"OrgKindNotAllowed", "organizations.jsonl",
                   R"({"organisasjonsnummer":"900000001","navn":"x","kind":"kommune"})",
                   "field '/kind': not one of the allowed values"},
        SchemaCase{"OrgNumberMalformed", "organizations.jsonl",
                   R"({"organisasjonsnummer":"90000000A","navn":"x","kind":"hovedenhet"})",
                   "field '/organisasjonsnummer'"},
        SchemaCase{"OrgNameMissing", "organizations.jsonl",
                   R"({"organisasjonsnummer":"900000001","kind":"hovedenhet"})", "'navn'"},
        SchemaCase{"UnderenhetWithoutParent", "organizations.jsonl",
                   R"({"organisasjonsnummer":"900000001","navn":"x","kind":"underenhet"})",
                   "field '/overordnetEnhet': required when kind is underenhet"},
        SchemaCase{
            "HovedenhetWithParent", "organizations.jsonl",
            R"({"organisasjonsnummer":"900000001","navn":"x","kind":"hovedenhet","overordnetEnhet":"964338531"})",
            "field '/overordnetEnhet': not allowed when kind is hovedenhet"},
        SchemaCase{"ClientIdEmpty", "clients.jsonl", R"({"clientId":""})", "field '/clientId'"},
        SchemaCase{"ClientSupplierMalformed", "clients.jsonl",
                   R"({"clientId":"c","orgnrSupplier":"123"})", "field '/orgnrSupplier'"},
        SchemaCase{"ReservationSinceNotATime", "reservations.jsonl",
                   R"({"herId":1,"clientId":"c","since":"yesterday"})", "field '/since'"},
        SchemaCase{"ReservationSinceNotUtc", "reservations.jsonl",
                   R"({"herId":1,"clientId":"c","since":"2026-01-01T00:00:00+01:00"})",
                   "field '/since'"},
        SchemaCase{"ReservationClientMissing", "reservations.jsonl",
                   R"({"herId":1,"since":"2026-01-01T00:00:00Z"})", "'clientId'"},
        SchemaCase{"OwnerHerIdNegative", "owners.jsonl", R"({"herId":-1,"clientId":"c"})",
                   "field '/herId'"},
        SchemaCase{"OwnerNotAnObject", "owners.jsonl", R"([101,"c"])", "field '/': wrong type"}),
    [](const ::testing::TestParamInfo<SchemaCase>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace edi
