// RuleEngine: hot reload that keeps the rules in use when new files fail to load.

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "detect/rules.h"
#include "detect/rules_test_util.h"

namespace edi {
namespace {

using rules_test::FakeFields;
using rules_test::FiredIds;

// A directory of rule files, removed at the end of the test.
class RuleDir {
 public:
  RuleDir() {
    dir_ = std::filesystem::temp_directory_path() /
           ("edi-detect-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  ~RuleDir() { std::filesystem::remove_all(dir_); }

  std::string Path(const std::string& name) const { return (dir_ / name).string(); }
  std::string Write(const std::string& name, const std::string& text) {
    std::ofstream(Path(name)) << text;
    return Path(name);
  }

 private:
  std::filesystem::path dir_;
};

const std::string kGood = rules_test::OneRule("evt.success");

TEST(RuleEngine, StartsWithAnEmptyRuleSet) {
  RuleEngine engine(&rules_test::TestCatalog());
  ASSERT_NE(engine.current(), nullptr);
  EXPECT_TRUE(engine.current()->rules().empty());
  EXPECT_EQ(engine.failed_reloads(), 0u);
}

TEST(RuleEngine, ReloadInstallsRulesThatLoadCleanly) {
  RuleDir dir;
  RuleEngine engine(&rules_test::TestCatalog());
  LoadResult result = engine.Reload({dir.Write("default.yaml", kGood)});
  ASSERT_TRUE(result.ok()) << result.ToString();
  EXPECT_EQ(engine.current(), result.rules);
  EXPECT_EQ(FiredIds(*engine.current(), FakeFields().Bool("evt.success", true)),
            std::vector<std::string>{"r"});
  EXPECT_EQ(engine.successful_reloads(), 1u);
}

TEST(RuleEngine, ABrokenReloadKeepsTheOldRulesAndIsCounted) {
  RuleDir dir;
  RuleEngine engine(&rules_test::TestCatalog());
  std::string path = dir.Write("default.yaml", kGood);
  ASSERT_TRUE(engine.Reload({path}).ok());
  std::shared_ptr<const RuleSet> before = engine.current();

  dir.Write("default.yaml", rules_test::OneRule("evt.success and party.ownr = x"));
  LoadResult broken = engine.Reload({path});
  EXPECT_FALSE(broken.ok());
  ASSERT_NE(broken.Find(LoadCode::kUnknownField), nullptr);
  EXPECT_EQ(broken.Find(LoadCode::kUnknownField)->file, path);
  EXPECT_EQ(engine.current(), before);
  EXPECT_EQ(engine.failed_reloads(), 1u);
  EXPECT_EQ(FiredIds(*engine.current(), FakeFields().Bool("evt.success", true)).size(), 1u);

  // A missing file is a failed reload too.
  EXPECT_FALSE(engine.Reload({path, dir.Path("missing.yaml")}).ok());
  EXPECT_EQ(engine.failed_reloads(), 2u);
  EXPECT_EQ(engine.current(), before);

  dir.Write("default.yaml", rules_test::OneRule("party.locked"));
  ASSERT_TRUE(engine.Reload({path}).ok());
  EXPECT_NE(engine.current(), before);
  EXPECT_EQ(engine.failed_reloads(), 2u);
  EXPECT_EQ(engine.successful_reloads(), 2u);
}

TEST(RuleEngine, FilesLoadInTheOrderGiven) {
  RuleDir dir;
  std::string shipped = dir.Write("edi-default.yaml", kGood);
  std::string local = dir.Write("local.yaml", "- rule: r\n  enabled: false\n");
  LoadResult in_order = LoadRules({shipped, local}, rules_test::TestCatalog());
  ASSERT_TRUE(in_order.ok()) << in_order.ToString();
  EXPECT_FALSE(in_order.rules->rules()[0].enabled);
  LoadResult reversed = LoadRules({local, shipped}, rules_test::TestCatalog());
  EXPECT_NE(reversed.Find(LoadCode::kOverrideUnknownRule), nullptr);
}

TEST(RuleEngine, ReadersKeepWorkingWhileRulesAreReloaded) {
  RuleEngine engine(&rules_test::TestCatalog());
  ASSERT_TRUE(engine.ReloadFromStrings({{"a.yaml", kGood}}).ok());
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> evaluations{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 2; ++i) {
    readers.emplace_back([&] {
      FakeFields f;
      f.Bool("evt.success", true).Bool("party.locked", true);
      std::vector<RuleMatch> out;
      while (!stop.load()) {
        std::shared_ptr<const RuleSet> rules = engine.current();
        out.clear();
        rules->Evaluate(f, &out);
        EXPECT_EQ(out.size(), 1u);
        evaluations.fetch_add(1);
      }
    });
  }
  // Reloads go on until the readers have evaluated many times: they overlap, however the
  // threads are scheduled.
  uint64_t failed = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  for (int i = 0;
       i < 50 || (evaluations.load() < 2000 && std::chrono::steady_clock::now() < deadline); ++i) {
    std::string cond = i % 2 ? "evt.success" : "party.locked";
    ASSERT_TRUE(engine.ReloadFromStrings({{"a.yaml", rules_test::OneRule(cond)}}).ok());
    EXPECT_FALSE(engine.ReloadFromStrings({{"a.yaml", "- rule: [\n"}}).ok());
    ++failed;
  }
  stop = true;
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(engine.failed_reloads(), failed);
  EXPECT_GE(evaluations.load(), 2000u);
}

}  // namespace
}  // namespace edi
