#include "source/line_reader.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace edi {
namespace {

class LineReaderTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& content) {
    path_ = std::filesystem::temp_directory_path() /
            ("edi-lines-" + std::to_string(::getpid()) + ".jsonl");
    std::ofstream(path_, std::ios::binary) << content;
    return path_.string();
  }
  void TearDown() override { std::filesystem::remove(path_); }
  std::filesystem::path path_;
};

TEST_F(LineReaderTest, NumbersLinesSkipsBlankOnesAndStripsCarriageReturns) {
  auto r = LineReader::Open(Write("a\r\n\n  \nb\nc"), 1024);
  ASSERT_TRUE(r.ok());
  std::string line;
  size_t size;
  int64_t n;
  ASSERT_TRUE((*r)->Next(&line, &size, &n));
  EXPECT_EQ(line, "a");
  EXPECT_EQ(n, 1);
  ASSERT_TRUE((*r)->Next(&line, &size, &n));
  EXPECT_EQ(line, "b");
  EXPECT_EQ(n, 4);
  ASSERT_TRUE((*r)->Next(&line, &size, &n));  // no newline at the end
  EXPECT_EQ(line, "c");
  EXPECT_EQ(n, 5);
  EXPECT_FALSE((*r)->Next(&line, &size, &n));
  EXPECT_TRUE((*r)->status().ok());
}

// A file saved with a UTF-8 byte-order mark: its first record is read without it (a record is
// JSON, which has none); one further on is a record's bytes, left for the decoder to refuse.
TEST_F(LineReaderTest, AByteOrderMarkBeforeTheFirstLineIsTheFilesNotTheRecords) {
  auto r = LineReader::Open(Write("\xEF\xBB\xBF{\"a\":1}\r\n\xEF\xBB\xBF{\"b\":2}\n"), 1024);
  ASSERT_TRUE(r.ok());
  std::string line;
  size_t size;
  int64_t n;
  ASSERT_TRUE((*r)->Next(&line, &size, &n));
  EXPECT_EQ(line, "{\"a\":1}");
  EXPECT_EQ(size, line.size());
  EXPECT_EQ(n, 1);
  ASSERT_TRUE((*r)->Next(&line, &size, &n));
  EXPECT_EQ(line, "\xEF\xBB\xBF{\"b\":2}");
  EXPECT_EQ(n, 2);
}

TEST_F(LineReaderTest, KeepsOnlyTheLimitOfAnOversizeLineButReportsItsFullSize) {
  const std::string big(3 << 20, 'x');  // longer than the reader's own buffer
  auto r = LineReader::Open(Write("{}\n" + big + "\n{\"after\":1}\n"), 1000);
  ASSERT_TRUE(r.ok());
  std::string line;
  size_t size;
  int64_t n;
  ASSERT_TRUE((*r)->Next(&line, &size, &n));
  ASSERT_TRUE((*r)->Next(&line, &size, &n));
  EXPECT_EQ(line.size(), 1000u);
  EXPECT_EQ(size, big.size());
  EXPECT_EQ(n, 2);
  ASSERT_TRUE((*r)->Next(&line, &size, &n));
  EXPECT_EQ(line, "{\"after\":1}");
  EXPECT_EQ(n, 3);
}

TEST_F(LineReaderTest, AMissingFileOrADirectoryIsAClearError) {
  auto missing = LineReader::Open("/nonexistent/x.jsonl", 10);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/nonexistent/x.jsonl"), std::string::npos);
  auto dir = LineReader::Open("/tmp", 10);
  ASSERT_FALSE(dir.ok());
  EXPECT_NE(dir.status().message().find("is a directory"), std::string::npos);
}

}  // namespace
}  // namespace edi
