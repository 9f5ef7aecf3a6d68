// The one YAML document of a file: what yaml-cpp alone would drop or loop on is an error with
// its line.
#include "common/yaml_document.h"

#include <gtest/gtest.h>

#include <string>

namespace edi {
namespace {

// The message of the error LoadOneYamlDocument throws for `text`; "" when it throws none.
std::string ErrorOf(const std::string& text) {
  try {
    LoadOneYamlDocument(text);
  } catch (const YAML::Exception& e) {
    return e.what();
  }
  return "";
}

TEST(YamlDocumentTest, AFileOfOneDocumentLoadsAsYamlCppReadsIt) {
  const YAML::Node n = LoadOneYamlDocument("---\na: &x [1, 2]\nb: *x\n...\n");
  ASSERT_TRUE(n.IsMap());
  EXPECT_EQ(n["b"].size(), 2u);
  EXPECT_TRUE(LoadOneYamlDocument("").IsNull());
  EXPECT_TRUE(LoadOneYamlDocument("# only a comment\n").IsNull());
}

TEST(YamlDocumentTest, TextAfterTheDocumentIsAnErrorAtItsLine) {
  EXPECT_NE(ErrorOf("- a: 1\n---\n- b: 2\n").find("line 3, column 1: a second YAML document"),
            std::string::npos);
  EXPECT_NE(ErrorOf("- a: 1\nstray\n").find("line 2"), std::string::npos);
  EXPECT_EQ(ErrorOf("- a: 1\n---\n"), "");  // a closing marker with nothing after it
}

TEST(YamlDocumentTest, AKeyGivenTwiceIsAnErrorAtTheSecond) {
  EXPECT_NE(ErrorOf("a: 1\nb:\n  c: 1\n  c: 2\n").find("line 4, column 3: key 'c' given twice"),
            std::string::npos);
  EXPECT_EQ(ErrorOf("a: {c: 1}\nb: {c: 2}\n"), "");  // the same key in two mappings
}

TEST(YamlDocumentTest, AnAliasInsideItselfIsAnErrorNotALoop) {
  EXPECT_NE(ErrorOf("items: &a [1, *a]\n").find("nested too deeply"), std::string::npos);
}

TEST(YamlDocumentTest, AliasesStandingForBillionsOfNodesAreRefusedAtOnce) {
  std::string text = "l0: &l0 [x, x]\n";
  for (int i = 1; i <= 30; ++i) {
    text += "l" + std::to_string(i) + ": &l" + std::to_string(i) + " [*l" + std::to_string(i - 1) +
            ", *l" + std::to_string(i - 1) + "]\n";
  }
  EXPECT_NE(ErrorOf(text).find("too many nodes"), std::string::npos);
}

}  // namespace
}  // namespace edi
