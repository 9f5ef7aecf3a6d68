// The raw limits of the decode stage on real data: RapidJSON parse only; parse + schema check
// (access-log.schema.json) as the decoder does it (SchemaQuickCheck, RapidJSON's validator for
// what it cannot vouch for) and with RapidJSON's validator alone; the full decoder (parse +
// schema + routes + parties). Prints records/s for each over the same records, read into
// memory first. Not a test.
#include <rapidjson/document.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/schema.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "common/schema.h"
#include "common/schema_quick_check.h"
#include "decode/decoder.h"

namespace {

template <typename F>
double Rate(const std::vector<std::string>& lines, F&& f) {
  const auto start = std::chrono::steady_clock::now();
  size_t ok = 0;
  for (const std::string& l : lines) ok += f(l) ? 1 : 0;
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (ok == 0) std::fprintf(stderr, "nothing decoded\n");
  return static_cast<double>(lines.size()) / secs;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: decode_bench FILE.jsonl [MAX_RECORDS]\n");
    return 2;
  }
  const size_t max = argc > 2 ? std::stoul(argv[2]) : 200000;
  std::ifstream in(argv[1]);
  std::vector<std::string> lines;
  for (std::string l; lines.size() < max && std::getline(in, l);) lines.push_back(l);
  auto schema = edi::LoadSchema(edi::SchemaDir(), "access-log.schema.json");
  if (!schema.ok()) return 1;
  auto decoder = edi::Decoder::Create({});
  if (!decoder.ok()) return 1;

  // One document for all records, emptied before each as the decoder does: a document's pool
  // only grows, so without that every record would be parsed into fresh memory.
  rapidjson::Document doc;
  auto empty = [&doc] {
    doc.SetNull();
    doc.GetAllocator().Clear();
  };
  const double parse = Rate(lines, [&](const std::string& l) {
    empty();
    doc.Parse(l.data(), l.size());
    return !doc.HasParseError();
  });
  auto quick = edi::SchemaQuickCheck::Compile((*schema)->source);
  const double checked = Rate(lines, [&](const std::string& l) {
    empty();
    rapidjson::MemoryStream ms(l.data(), l.size());
    doc.ParseStream<rapidjson::kParseDefaultFlags, rapidjson::UTF8<>>(ms);
    return !doc.HasParseError() && quick->CertainlyValid(doc);
  });
  const double validate = Rate(lines, [&](const std::string& l) {
    empty();
    rapidjson::MemoryStream ms(l.data(), l.size());
    rapidjson::SchemaValidatingReader<rapidjson::kParseDefaultFlags, rapidjson::MemoryStream,
                                      rapidjson::UTF8<>>
        reader(ms, *(*schema)->compiled);
    doc.Populate(reader);
    return reader.GetParseResult() && reader.IsValid();
  });
  edi::AccessEvent e;
  edi::DecodeError err;
  const double full =
      Rate(lines, [&](const std::string& l) { return (*decoder)->Decode(l, &e, &err); });
  std::printf("%-36s %14s %10s\n", "stage (same records, in memory)", "records/s", "vs parse");
  std::printf("%-36s %14.0f %9.2fx\n", "RapidJSON parse only", parse, 1.0);
  std::printf("%-36s %14.0f %9.2fx\n", "parse + schema check", checked, checked / parse);
  std::printf("%-36s %14.0f %9.2fx\n", "parse + RapidJSON schema validator", validate,
              validate / parse);
  std::printf("%-36s %14.0f %9.2fx\n", "full decode (routes, parties)", full, full / parse);
  return 0;
}
