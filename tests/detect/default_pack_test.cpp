// The shipped rule pack together with the example operator file
// rules/examples/local-overrides.yaml: the overrides take effect without editing the pack.
// Events are PartyFacts read through the real FactsSource, so the field semantics are the
// state stage's own.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "detect/rules.h"
#include "state/facts.h"

namespace edi {
namespace {

const std::string kPack = std::string(EDI_SOURCE_DIR) + "/rules/edi-default.yaml";
const std::string kOverrides = std::string(EDI_SOURCE_DIR) + "/rules/examples/local-overrides.yaml";
constexpr const char* kPlatform = "c41d7e83-5a2b-4c9d-b6e0-8f1a3c5d7e03";  // excused on download

// One call and its facts for one party; every party/message fact starts unknown.
struct Call {
  AccessEvent event;
  PartyFacts facts;

  Call(Action action, int status, const std::string& client) {
    event.action = action;
    event.status = status;
    event.client.client_id = client;
    event.client.orgnr_parent = "944100001";
    facts.event = &event;
    facts.client_id = event.client.client_id;
  }
  Call(const Call&) = delete;

  // The party is in the registry, covered by the client's organisation, owned by `owner`.
  Call& Party(HerId her_id, const std::string& owner) {
    owner_ = owner;
    facts.has_party = true;
    facts.her_id = her_id;
    facts.party = &party_;
    facts.org_covered = true;
    facts.owner = owner_;
    facts.owner_source = "declared";
    facts.declared_owner = owner_;
    return *this;
  }

  std::vector<RuleMatch> Evaluate(const RuleSet& rules) const {
    FactsSource src(&facts);
    std::vector<RuleMatch> out;
    rules.Evaluate(src, &out);
    return out;
  }

 private:
  std::string owner_;
  CommunicationParty party_;
};

const RuleMatch* Fired(const std::vector<RuleMatch>& matches, std::string_view rule) {
  for (const RuleMatch& m : matches) {
    if (m.rule_id == rule) return &m;
  }
  return nullptr;
}

class DefaultPackWithOverrides : public ::testing::Test {
 protected:
  void SetUp() override {
    shipped_ = LoadRules({kPack}, FactsCatalog());
    ASSERT_TRUE(shipped_.ok()) << shipped_.ToString();
    tuned_ = LoadRules({kPack, kOverrides}, FactsCatalog());
    ASSERT_TRUE(tuned_.ok()) << tuned_.ToString();
  }
  const RuleInfo& Info(const LoadResult& r, std::string_view id) {
    return r.rules->rules()[r.rules->Find(id).value()];
  }

  LoadResult shipped_, tuned_;
};

TEST_F(DefaultPackWithOverrides, BothLoadWithoutErrorsOrWarnings) {
  EXPECT_TRUE(shipped_.issues.empty()) << shipped_.ToString();
  EXPECT_TRUE(tuned_.issues.empty()) << tuned_.ToString();
  EXPECT_EQ(tuned_.rules->rules().size(), shipped_.rules->rules().size());
}

// Overriding a shipped rule is the operator's way: what the override leaves unused in the
// shipped file is not reported (the file is not theirs to edit), and flattening per-call
// severities to one level is said, with what it costs.
TEST(DefaultPackOverrides, ReplacedConditionsLeaveNoUnusedWarningsFlattenedSeveritiesAreSaid) {
  std::ifstream in(kPack);
  const std::string pack((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string local = R"(
- rule: edi.herid-claim-whole-org
  condition: call and client.herid_claim_kind = whole_org
  override: {condition: replace}
- rule: edi.org-membership
  severity: high
  override: {severity: replace}
)";
  const LoadResult r =
      LoadRulesFromStrings({{"edi-default.yaml", pack}, {"local.yaml", local}}, FactsCatalog());
  ASSERT_TRUE(r.ok()) << r.ToString();
  ASSERT_EQ(r.issues.size(), 1u) << r.ToString();
  const LoadIssue& i = r.issues[0];
  EXPECT_EQ(i.code, LoadCode::kSeverityCasesReplaced);
  EXPECT_EQ(i.file, "local.yaml");
  EXPECT_EQ(i.line, 6);
  EXPECT_NE(i.message.find("rule 'edi.org-membership' was ranked per call (critical when "
                           "evt.success, else medium); this one level ranks every call alike"),
            std::string::npos)
      << i.message;
  // Given all its cases, a severity is re-ranked without a word.
  const std::string cases = R"(
- rule: edi.org-membership
  severity: [{when: evt.denied, severity: low}, {default: high}]
  override: {severity: replace}
)";
  const LoadResult all =
      LoadRulesFromStrings({{"edi-default.yaml", pack}, {"local.yaml", cases}}, FactsCatalog());
  ASSERT_TRUE(all.ok()) << all.ToString();
  EXPECT_TRUE(all.issues.empty()) << all.ToString();
}

// A file given twice (once alone, once in its directory) would clash with itself: "already
// defined at" its own line. Said as what it is.
TEST(DefaultPackLoading, AFileGivenTwiceIsNamedAsSuch) {
  const std::string pack = kPack;
  LoadResult result =
      LoadRules({pack, EDI_SOURCE_DIR "/rules/../rules/edi-default.yaml"}, FactsCatalog());
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.issues.size(), 1u) << result.ToString();
  ASSERT_FALSE(result.issues.empty());
  const LoadIssue& issue = result.issues[0];
  EXPECT_EQ(issue.code, LoadCode::kIO);
  EXPECT_EQ(issue.message, "the rule file is given twice (first as " + pack +
                               ", a directory's file or the file itself): give each once");
}

// A condition that holds for every call, or for no kind of call, cannot be meant as written.
TEST(DefaultPackLoading, ConditionsThatAlwaysOrNeverHoldAreWarnedAbout) {
  const std::string yaml = R"(
- rule: local.always
  desc: d
  condition: "true"
  severity: low
  output: o
- rule: local.never
  desc: d
  condition: evt.trigger = call and evt.action = send and evt.action = download
  severity: low
  output: o
- rule: local.fine
  desc: d
  condition: evt.trigger = call and evt.action = send
  severity: low
  output: o
)";
  const LoadResult r = LoadRulesFromStrings({{"local.yaml", yaml}}, FactsCatalog());
  ASSERT_TRUE(r.ok()) << r.ToString();
  ASSERT_EQ(r.issues.size(), 2u) << r.ToString();
  EXPECT_EQ(r.issues[0].code, LoadCode::kConditionAlwaysTrue);
  EXPECT_EQ(r.issues[0].line, 4);  // the condition's line
  EXPECT_EQ(r.issues[1].code, LoadCode::kRuleNeverFires);
  EXPECT_EQ(r.issues[1].line, 9);
  EXPECT_NE(r.issues[1].message.find("rule 'local.never' can never fire"), std::string::npos);
}

// Conditions that hold for every call, though not for every lock check: each rule would make a
// finding of every call.
TEST(DefaultPackLoading, ConditionsThatHoldForEveryCallAreWarnedAbout) {
  std::string yaml = "- macro: call\n  condition: evt.trigger = call\n";
  const std::vector<std::string> conditions = {"call", "evt.trigger exists",
                                               "evt.trigger = call or evt.trigger = lock_inactive"};
  for (size_t i = 0; i < conditions.size(); ++i) {
    yaml += "- rule: local.every" + std::to_string(i) +
            "\n  desc: d\n  condition: " + conditions[i] + "\n  severity: low\n  output: o\n";
  }
  yaml +=
      "- rule: local.fine\n  desc: d\n  condition: call and evt.action = send\n"
      "  severity: low\n  output: o\n";
  const LoadResult r = LoadRulesFromStrings({{"local.yaml", yaml}}, FactsCatalog());
  ASSERT_TRUE(r.ok()) << r.ToString();
  ASSERT_EQ(r.issues.size(), conditions.size()) << r.ToString();
  for (size_t i = 0; i < conditions.size(); ++i) {
    EXPECT_EQ(r.issues[i].code, LoadCode::kConditionAlwaysTrue) << conditions[i];
    EXPECT_EQ(r.issues[i].line, static_cast<int>(5 * i + 5)) << conditions[i];
    EXPECT_NE(r.issues[i].message.find("fires for every call"), std::string::npos);
  }
}

// An override that makes a shipped rule's condition always or never hold is warned about at the
// override, the operator's file, not at the shipped rule.
TEST(DefaultPackLoading, AnOverridesConditionIsWarnedAboutWhereTheOverrideIs) {
  const std::string pack = R"(
- macro: call
  condition: evt.trigger = call
- rule: shipped.send
  desc: d
  condition: call and evt.action = send
  severity: high
  output: o
- rule: shipped.download
  desc: d
  condition: call and evt.action = download
  severity: high
  output: o
)";
  const std::string local = R"(- rule: shipped.send
  condition: evt.action = download
  override: {condition: append}
- rule: shipped.download
  condition: "true"
  override: {condition: replace}
)";
  const LoadResult r =
      LoadRulesFromStrings({{"pack.yaml", pack}, {"local.yaml", local}}, FactsCatalog());
  ASSERT_TRUE(r.ok()) << r.ToString();
  ASSERT_EQ(r.issues.size(), 2u) << r.ToString();
  for (const auto& issue : r.issues) EXPECT_EQ(issue.file, "local.yaml") << r.ToString();
  EXPECT_EQ(r.issues[0].code, LoadCode::kRuleNeverFires);
  EXPECT_EQ(r.issues[0].line, 2);
  EXPECT_EQ(r.issues[1].code, LoadCode::kConditionAlwaysTrue);
  EXPECT_EQ(r.issues[1].line, 5);
}

TEST(FactValues, TextAFieldNeverTakesIsWarnedAboutWhereverItIsCompared) {
  const std::string yaml = R"(
- list: acts
  items: [send, sendd]
- rule: local.typos
  desc: d
  condition: >
    evt.action in (config_action) or evt.action = sendd or evt.trigger = calls
    or evt.action in (acts) or evt.api = '2' or party.owner_source != lock
    or evt.method = delete or evt.method = DELETE
  severity: low
  output: o
)";
  const LoadResult r = LoadRulesFromStrings({{"typos.yaml", yaml}}, FactsCatalog());
  ASSERT_TRUE(r.ok()) << r.ToString();
  std::vector<std::string> warnings;
  for (const LoadIssue& i : r.issues) {
    EXPECT_EQ(i.code, LoadCode::kUnknownValue) << i.ToString();
    warnings.push_back(i.message.substr(i.message.find(": ") + 2));
  }
  const std::string actions =
      "(its values: send, read_metadata, download, read_status, read_apprec, apprec_send, "
      "mark_downloaded, poll, config_write, config_delete, ping, unknown)";
  EXPECT_EQ(warnings, (std::vector<std::string>{
                          "'sendd' is no value of 'evt.action' " + actions,
                          "'config_action' is no value of 'evt.action' " + actions + ", nor a list",
                          "'sendd' is no value of 'evt.action' " + actions,
                          "'calls' is no value of 'evt.trigger' (its values: call, lock_inactive)",
                          "'delete' is no value of 'evt.method' (its values: GET, POST, PUT, "
                          "DELETE, PATCH)",
                      }));
}

TEST_F(DefaultPackWithOverrides, UnknownRouteIsDisabled) {
  EXPECT_TRUE(Info(shipped_, "edi.unknown-route").enabled);
  EXPECT_FALSE(Info(tuned_, "edi.unknown-route").enabled);

  Call call(Action::kUnknown, 404, "7a2e9b54-1c3d-4f6e-8a90-2d4c6b8e0f02");
  EXPECT_NE(Fired(call.Evaluate(*shipped_.rules), "edi.unknown-route"), nullptr);
  EXPECT_EQ(Fired(call.Evaluate(*tuned_.rules), "edi.unknown-route"), nullptr);
}

TEST_F(DefaultPackWithOverrides, WholeOrganisationClaimIsRankedLowInsteadOfInfo) {
  EXPECT_EQ(Info(shipped_, "edi.herid-claim-whole-org").default_severity, Severity::kInfo);
  EXPECT_EQ(Info(tuned_, "edi.herid-claim-whole-org").default_severity, Severity::kLow);

  Call call(Action::kPoll, 200, "19d4a7c2-6e8b-4a1f-8d35-0c7e9b2a4f05");
  call.event.api = ApiVersion::kV2;
  call.event.client.her_id_claim = "0";
  call.Party(8142550, "19d4a7c2-6e8b-4a1f-8d35-0c7e9b2a4f05");
  const std::vector<RuleMatch> before = call.Evaluate(*shipped_.rules);
  const std::vector<RuleMatch> after = call.Evaluate(*tuned_.rules);
  ASSERT_NE(Fired(before, "edi.herid-claim-whole-org"), nullptr);
  ASSERT_NE(Fired(after, "edi.herid-claim-whole-org"), nullptr);
  EXPECT_EQ(Fired(before, "edi.herid-claim-whole-org")->severity, Severity::kInfo);
  EXPECT_EQ(Fired(after, "edi.herid-claim-whole-org")->severity, Severity::kLow);
}

TEST_F(DefaultPackWithOverrides, TheIntegrationPlatformMayDownloadForEveryParty) {
  Call platform(Action::kDownload, 200, kPlatform);
  platform.facts.has_message = true;
  platform.facts.custody_known = true;
  platform.Party(8142531, "7a2e9b54-1c3d-4f6e-8a90-2d4c6b8e0f02");
  EXPECT_NE(Fired(platform.Evaluate(*shipped_.rules), "edi.foreign-download"), nullptr);
  EXPECT_EQ(Fired(platform.Evaluate(*tuned_.rules), "edi.foreign-download"), nullptr);
}

TEST_F(DefaultPackWithOverrides, TheExceptionExcusesNoOtherClientAndNoOtherRule) {
  Call other(Action::kDownload, 200, "3f6c2a10-8d4b-4e7a-9c21-5b0e7d9a1c01");
  other.facts.has_message = true;
  other.facts.custody_known = true;
  other.Party(8142531, "7a2e9b54-1c3d-4f6e-8a90-2d4c6b8e0f02");
  const std::vector<RuleMatch> matches = other.Evaluate(*tuned_.rules);
  const RuleMatch* m = Fired(matches, "edi.foreign-download");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->severity, Severity::kHigh);

  // The platform's foreign send is still a finding: the exception belongs to downloads only.
  Call send(Action::kSend, 201, kPlatform);
  send.Party(8142531, "7a2e9b54-1c3d-4f6e-8a90-2d4c6b8e0f02");
  EXPECT_NE(Fired(send.Evaluate(*tuned_.rules), "edi.foreign-send"), nullptr);
}

TEST_F(DefaultPackWithOverrides, RulesTheFileDoesNotNameAreUnchanged) {
  for (const RuleInfo& shipped : shipped_.rules->rules()) {
    if (shipped.id == "edi.unknown-route" || shipped.id == "edi.herid-claim-whole-org" ||
        shipped.id == "edi.org-membership") {
      continue;  // the ones it names
    }
    const RuleInfo& tuned = Info(tuned_, shipped.id);
    EXPECT_EQ(tuned.enabled, shipped.enabled) << shipped.id;
    EXPECT_EQ(tuned.default_severity, shipped.default_severity) << shipped.id;
    EXPECT_EQ(tuned.file, shipped.file) << shipped.id;
  }
}

}  // namespace
}  // namespace edi

namespace edi {
namespace {

// What summaries call the other clients: NAME (ID) when a name is known, else the id.
TEST(ClientLabels, NameAndIdOrTheIdAlone) {
  class Names : public ClientNames {
   public:
    std::string_view NameOf(std::string_view id) const override {
      return id == "c-owner" ? "Omsorgsjournal" : "";
    }
  } names;
  AccessEvent event;
  PartyFacts f;
  f.event = &event;
  f.has_party = true;
  f.owner = "c-owner";
  f.lock_holder = "c-holder";
  f.has_message = true;
  f.other_downloader = "c-owner";
  const FieldCatalog& c = FactsCatalog();
  FactsSource src(&f);
  auto text = [&](const char* field) {
    const FieldValue v = src.Get(*c.Find(field));
    return v.present ? std::string(v.s) : std::string("<absent>");
  };
  // Without a source of names: the ids.
  EXPECT_EQ(text("party.owner_label"), "c-owner");
  f.names = &names;
  EXPECT_EQ(text("party.owner_label"), "Omsorgsjournal (c-owner)");
  EXPECT_EQ(text("party.lock_holder_label"), "c-holder");
  EXPECT_EQ(text("msg.other_downloader_label"), "Omsorgsjournal (c-owner)");
  // Two labels at once stay what they are (each has its own buffer).
  const FieldValue owner = src.Get(*c.Find("party.owner_label"));
  const FieldValue holder = src.Get(*c.Find("party.lock_holder_label"));
  EXPECT_EQ(owner.s, "Omsorgsjournal (c-owner)");
  EXPECT_EQ(holder.s, "c-holder");
  f.owner = {};
  EXPECT_EQ(text("party.owner_label"), "<absent>");
}

}  // namespace
}  // namespace edi
