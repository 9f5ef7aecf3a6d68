// LookUpParties: the registry lookups the decode step does ahead give the same facts as the
// state's own, and lookups made in another registry than the state's are not used.
#include <fstream>

#include "state/state_fixture.h"

namespace edi::testing {
namespace {

class LookupTest : public StateTest {
 protected:
  // Every field of every facts of every record, fed to a fresh state; `lookups` (when given)
  // is applied to each event after decoding, as the decode step does.
  std::string Run(const std::vector<Rec>& recs, const Registry* lookups) {
    AuditState state(options_, registry_);
    std::vector<std::unique_ptr<AccessEvent>> events;
    std::string out;
    int seq = 0;
    for (const Rec& r : recs) {
      const std::string json = ToJson(r, ++seq);
      DecodeError err;
      events.push_back(std::make_unique<AccessEvent>());
      EXPECT_TRUE(decoder_->Decode(json, events.back().get(), &err)) << err.detail << json;
      if (lookups != nullptr) LookUpParties(*lookups, events.back().get());
      std::vector<PartyFacts> facts;
      state.Observe(events.back().get(), &facts);
      for (const PartyFacts& f : facts) {
        for (const FieldDef& def : FactsCatalog().defs()) out += Field(f, def.name) + "|";
        out += "\n";
      }
    }
    return out;
  }

  std::vector<Rec> Records() {
    std::vector<Rec> recs;
    Rec claimed = Poll("a", 101, 0);
    claimed.claim = "101-102";
    recs.push_back(claimed);
    Rec outside = Poll("a", 201, 1);  // another municipality's party
    outside.claim = "101-102";
    recs.push_back(outside);
    Rec whole = Poll("b", 103, 2);  // 103 has a declared owner
    whole.claim = "0";
    recs.push_back(whole);
    recs.push_back(Poll("c", 999, 3));  // not in the registry
    Rec other_org = Poll("d", 102, 4);
    other_org.org = "800000001";
    recs.push_back(other_org);
    recs.push_back(Send("a", 101, "102,201", kM1, 5));
    recs.push_back(Download("b", kM1, 6));  // parties from custody: looked up by the state
    recs.push_back(Mark("b", kM1, 102, 7));
    return recs;
  }
};

TEST_F(LookupTest, LookupsMadeAheadGiveTheSameFactsAsTheStatesOwn) {
  const std::string own = Run(Records(), nullptr);
  EXPECT_NE(own.find("|gp|"), std::string::npos);  // 103's declared owner
  EXPECT_EQ(Run(Records(), registry_.get()), own);
}

TEST_F(LookupTest, LookupsMadeInAnotherRegistryAreNotUsed) {
  // The same world, except that party 101 belongs to the other municipality and 103 has no
  // declared owner: lookups made there would change the facts.
  std::ofstream(std::filesystem::path(dir_) / "communication-parties.jsonl")
      << R"({"herId":101,"name":"Moved","type":"Organization","organizationNumber":"800000001","parentHerId":-1,"parentOrganizationNumber":"","active":true})"
         "\n";
  std::ofstream(std::filesystem::path(dir_) / "owners.jsonl") << "";
  auto other = Registry::Load(dir_, SchemaDir());
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  const std::string own = Run(Records(), nullptr);
  EXPECT_EQ(Run(Records(), other->get()), own);
  // Whereas a state using that registry sees the difference.
  registry_ = *other;
  EXPECT_NE(Run(Records(), nullptr), own);
}

}  // namespace
}  // namespace edi::testing
