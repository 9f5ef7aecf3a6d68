#include "config/config.h"

#include <gtest/gtest.h>

namespace edi {
namespace {

TEST(Config, AnEmptyFileGivesTheDefaults) {
  auto c = ParseConfig("", "empty.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->store.batch_size, 5000u);
  EXPECT_EQ(c->state.learn_window, 14 * kMillisPerDay);
  EXPECT_EQ(c->state.learn_min_actions, 20u);
  EXPECT_DOUBLE_EQ(c->state.learn_min_share, 0.8);
  EXPECT_EQ(c->state.ttl, 30 * kMillisPerDay);
  EXPECT_EQ(c->findings.repeat_window, kMillisPerHour);
}

TEST(Config, ReadsTheReconstructionTunables) {
  auto c = ParseConfig(
      "state:\n  learn_window: 7d\n  learn_min_actions: 5\n  learn_min_share: 0.6\n"
      "  sweep_window: 5m\n  ttl: 45d\nfindings:\n  repeat_window: 30m\n",
      "c.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->state.learn_window, 7 * kMillisPerDay);
  EXPECT_EQ(c->state.learn_min_actions, 5u);
  EXPECT_DOUBLE_EQ(c->state.learn_min_share, 0.6);
  EXPECT_EQ(c->state.sweep_window, 5 * kMillisPerMinute);
  EXPECT_EQ(c->state.ttl, 45 * kMillisPerDay);
  EXPECT_EQ(c->findings.repeat_window, 30 * kMillisPerMinute);
}

TEST(Config, AShareThatIsNoNumberInItsRangeIsRefusedNaNIncluded) {
  for (const char* v : {".nan", ".NaN", "0", "1.5", "-0.2", ".inf", "x"}) {
    auto c = ParseConfig(std::string("state:\n  learn_min_share: ") + v + "\n", "c.yaml");
    ASSERT_FALSE(c.ok()) << v;
    EXPECT_EQ(
        c.status().message(),
        "c.yaml:2: key 'state.learn_min_share' must be a share above 0 and at most 1, e.g. 0.8")
        << v;
  }
  EXPECT_TRUE(ParseConfig("state:\n  learn_min_share: 1\n", "c.yaml").ok());
}

TEST(Config, ATopicListedTwiceOrTheAlertsTopicAmongTheConsumedOnesIsRefused) {
  auto twice = ParseConfig("kafka:\n  topics: [edi-access, edi-access]\n", "c.yaml");
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.status().message(), "c.yaml:2: key 'kafka.topics': 'edi-access' is listed twice");
  auto loop = ParseConfig(
      "kafka:\n  topics: [edi-access, edi-alerts]\n  alerts_topic: edi-alerts\n", "c.yaml");
  ASSERT_FALSE(loop.ok());
  EXPECT_EQ(loop.status().message(),
            "c.yaml: kafka.alerts_topic 'edi-alerts' is also in kafka.topics: the findings would "
            "be read back as access-log records");
  EXPECT_TRUE(
      ParseConfig("kafka:\n  topics: [edi-access]\n  alerts_topic: edi-alerts\n", "c.yaml").ok());
}

TEST(Config, AnEmptyRegistryOrDatabaseIsRefusedWhereItIsWritten) {
  for (const char* key : {"registry", "database"}) {
    auto c = ParseConfig(std::string(key) + ": \"\"\n", "c.yaml");
    ASSERT_FALSE(c.ok()) << key;
    EXPECT_EQ(c.status().message(),
              std::string("c.yaml:1: key '") + key + "' must be a non-empty string");
  }
}

TEST(Config, AListenAddressOfStarIsRefusedAsItWouldListenOnLoopbackOnly) {
  auto c = ParseConfig("http:\n  listen: \"*:9464\"\n", "c.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            "c.yaml:2: key 'http.listen': '*' is no address (0.0.0.0 listens on every IPv4 "
            "address, [::] on every IPv6 one)");
  for (const char* ok : {"0.0.0.0:9464", "[::]:9464", "localhost:0"}) {
    auto d = ParseConfig(std::string("http:\n  listen: \"") + ok + "\"\n", "c.yaml");
    ASSERT_TRUE(d.ok()) << ok << ": " << d.status().ToString();
    EXPECT_EQ(d->http.listen, ok);
  }
}

// A closing quote left out: YAML folds the lines after it into the value (up to the next quote;
// yaml-cpp to the end of the file too), which would name a database ending in a space or hide
// the settings below it.
TEST(Config, AQuotedValueThatDoesNotEndOnItsLineIsRefused) {
  for (const std::string text :
       {"registry: /srv/reg\ndatabase: \"/var/lib/audit.db\n",
        "database: \"/var/lib/audit.db\nregistry: /srv/reg\nlog_level: info\"\n",
        "registry: '/srv/reg\n"}) {
    auto c = ParseConfig(text, "c.yaml");
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_NE(c.status().message().find(
                  ": a quoted value does not end on its line: is its closing quote missing?"),
              std::string::npos)
        << c.status().message();
  }
  // Quotes and escapes inside a quoted value are no end of it.
  auto ok = ParseConfig("database: 'it''s.db'\nregistry: \"/srv/a\\\"b\"\n", "c.yaml");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->database, "it's.db");
  EXPECT_EQ(ok->registry_dir, "/srv/a\"b");
}

TEST(Config, AListenPortOutOfRangeIsNamedAsSuch) {
  auto c = ParseConfig("http:\n  listen: \"127.0.0.1:99999\"\n", "c.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            "c.yaml:2: key 'http.listen': port 99999 is out of range (0 to 65535)");
  auto d = ParseConfig("http:\n  listen: \"127.0.0.1:http\"\n", "c.yaml");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().message(),
            "c.yaml:2: key 'http.listen' must be HOST:PORT, e.g. 127.0.0.1:9464");
}

TEST(Config, AnUnknownKeyNamesFileLineAndKey) {
  auto c = ParseConfig("store:\n  batch_size: 10\n  batchsize: 10\n", "edi.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("edi.yaml:3"), std::string::npos) << c.status().message();
  EXPECT_NE(c.status().message().find("store.batchsize"), std::string::npos);
}

TEST(Config, TextAfterTheSettingsIsAnErrorNotIgnored) {
  // A second document would otherwise be dropped unread, bad values and all.
  auto second = ParseConfig("store:\n  batch_size: 10\n---\nstore: {batch_size: abc}\n", "c.yaml");
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("c.yaml:4:"), std::string::npos)
      << second.status().ToString();
  EXPECT_NE(second.status().message().find("second YAML document"), std::string::npos)
      << second.status().ToString();
  auto stray = ParseConfig("store:\n  batch_size: 10\nstray\n", "c.yaml");
  ASSERT_FALSE(stray.ok());
  EXPECT_NE(stray.status().message().find("c.yaml:3:"), std::string::npos)
      << stray.status().ToString();
  // A trailing document marker with nothing after it is harmless.
  auto trailing = ParseConfig("store:\n  batch_size: 10\n---\n", "c.yaml");
  ASSERT_TRUE(trailing.ok()) << trailing.status().ToString();
  EXPECT_EQ(trailing->store.batch_size, 10u);
}

TEST(Config, AKeyGivenTwiceIsAnErrorNotTheFirstOrLastOneWinning) {
  auto c =
      ParseConfig("store: {batch_size: 10}\nlog_level: info\nstore: {batch_size: 20}\n", "c.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("c.yaml:3:"), std::string::npos) << c.status().message();
  EXPECT_NE(c.status().message().find("'store' given twice"), std::string::npos)
      << c.status().message();
  EXPECT_FALSE(ParseConfig("store:\n  batch_size: 10\n  batch_size: 20\n", "c.yaml").ok());
}

TEST(Config, BadValuesAreErrorsNotDefaults) {
  for (const char* text :
       {"state:\n  ttl: 30 days\n", "state:\n  learn_min_share: 1.5\n", "store:\n  batch_size: 0\n",
        "store:\n  keep_raw_records: maybe\n", "log_level: loud\n", "state: 3\n",
        // Beyond 100,000 days: once it overflowed into a short or negative duration.
        "state:\n  ttl: 99999999999999d\n", "state:\n  ttl: 100001d\n",
        // Shorter than the periods owner actions are counted in: no owner would ever be learnt.
        "state:\n  learn_window: 2h\n"}) {
    auto c = ParseConfig(text, "bad.yaml");
    EXPECT_FALSE(c.ok()) << text;
    if (!c.ok()) {
      EXPECT_NE(c.status().message().find("bad.yaml:"), std::string::npos) << text;
    }
  }
}

TEST(Config, DurationsUpToTheLimitAreAccepted) {
  auto c = ParseConfig("state:\n  ttl: 100000d\n", "ok.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->state.ttl, 100000 * kMillisPerDay);
}

TEST(Config, InvalidYamlIsAnErrorWithItsPosition) {
  auto c = ParseConfig("store: [\n", "broken.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("broken.yaml:"), std::string::npos);
}

}  // namespace
}  // namespace edi

namespace edi {
namespace {

TEST(Config, TheShippedServiceConfigurationLoads) {
  // As configured for this build's install prefix.
  auto c = LoadConfig(EDI_BINARY_DIR "/edi-audit.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->kafka.topics, std::vector<std::string>{"edi-access-log"});
  EXPECT_EQ(c->database, "/var/lib/edi-audit/audit.db");
  // The installed pack and the local rules directory the tmpfiles create.
  EXPECT_EQ(c->rules, (std::vector<std::string>{EDI_INSTALL_RULESDIR "/edi-default.yaml",
                                                "/etc/edi-audit/rules.d"}));
}

}  // namespace
}  // namespace edi
