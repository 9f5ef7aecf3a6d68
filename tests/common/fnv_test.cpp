#include "common/fnv.h"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>

namespace edi {
namespace {

// Stored values: what a build computes, every later build must compute.
TEST(FnvTest, TheHashesStoredInDatabasesNeverChange) {
  EXPECT_EQ(Fnv1a64("a"), 0xaf63dc4c8601ec8cULL);  // the published FNV-1a test vector
  EXPECT_EQ(ContentHash64(""), 0xaf63bd49fd1c5dbbULL);
  EXPECT_EQ(ContentHash64("abcdefgh"), 0x355fd4126a672932ULL);
  EXPECT_EQ(ContentHash64(R"({"requestId":"ex-0001"})"), 0x2d76d6925149c9d7ULL);
}

TEST(FnvTest, ContentHashTellsApartRecordsThatDifferInAnyByteOrInLength) {
  std::mt19937_64 rng(3);
  std::string record(301, ' ');
  for (char& c : record) c = static_cast<char>('a' + rng() % 26);
  std::set<uint64_t> seen = {ContentHash64(record)};
  for (size_t i = 0; i < record.size(); ++i) {
    std::string changed = record;
    changed[i] = static_cast<char>(changed[i] ^ 1);
    EXPECT_TRUE(seen.insert(ContentHash64(changed)).second) << "byte " << i;
  }
  // A trailing zero byte is not nothing.
  for (size_t n = 0; n < 17; ++n) {
    EXPECT_NE(ContentHash64(std::string(n, '\0')), ContentHash64(std::string(n + 1, '\0'))) << n;
  }
}

}  // namespace
}  // namespace edi
