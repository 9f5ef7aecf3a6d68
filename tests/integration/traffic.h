// The traffic the integration tests produce: tools/gen/edi_gen.py's access log (with its
// registry and ground truth) plus records that must be quarantined.
#pragma once

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "integration/real_kafka.h"

namespace edi::testing {

// The traffic every test produces: tools/gen/edi_gen.py's access log (with its registry and
// ground truth) plus records that must be quarantined: the examples' malformed lines, a
// tombstone and one record over the size limit.
struct Traffic {
  std::string registry_dir;
  std::vector<std::string> values;
  std::vector<std::string> keys;  // the acting party: one party's calls stay in order
  std::vector<std::string> request_ids;
  std::vector<bool> must_quarantine;
};

// The text of the first `"key":"..."` in a JSON line (no regex: lines can be 40 KB long).
inline std::string JsonText(const std::string& line, const std::string& key) {
  const std::string marker = "\"" + key + "\":\"";
  const size_t at = line.find(marker);
  if (at == std::string::npos) return "";
  const size_t begin = at + marker.size();
  const size_t end = line.find('"', begin);
  return end == std::string::npos ? "" : line.substr(begin, end - begin);
}

// The record's first HER-Id (path, query, else request body), else its client id: a stand-in
// for the acting HER-Id producers key records by, so one party's calls share a partition.
inline std::string PartyKey(const std::string& line) {
  std::string text = JsonText(line, "path") + "?" + JsonText(line, "query");
  if (const size_t request = line.find("\"request\":{"); request != std::string::npos) {
    text += line.substr(request, line.find('}', request) - request);
  }
  for (size_t i = 0; i < text.size();) {
    size_t j = i;
    while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
    if (j - i >= 7 && j - i <= 9) return text.substr(i, j - i);
    i = j == i ? i + 1 : j;
  }
  return JsonText(line, "clientId");
}

inline std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

// Generates `records` records into `dir`; adds the examples' malformed lines, a tombstone
// and one record over 16 KiB.
inline Traffic MakeTraffic(const std::string& dir, int records) {
  const std::string cmd = "python3 " + std::string(EDI_SOURCE_DIR) +
                          "/tools/gen/edi_gen.py --seed 7 --records " + std::to_string(records) +
                          " --out " + dir + " >/dev/null";
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("edi_gen.py failed: " + cmd);
  Traffic t;
  t.registry_dir = dir + "/registry";
  t.values = ReadLines(dir + "/access-log.jsonl");
  t.must_quarantine.assign(t.values.size(), false);
  for (const std::string& truth : ReadLines(dir + "/ground-truth.jsonl")) {
    const size_t line = truth.find("\"line\":");
    if (JsonText(truth, "rule") == "quarantine" && line != std::string::npos) {
      t.must_quarantine.at(std::stoul(truth.substr(line + 7)) - 1) = true;
    }
  }
  for (const std::string& bad :
       ReadLines(std::string(EDI_SOURCE_DIR) + "/examples/access-log-malformed.jsonl")) {
    t.values.push_back(bad);
    t.must_quarantine.push_back(true);
  }
  t.values.push_back(RealKafka::kTombstone);
  t.must_quarantine.push_back(true);
  t.values.push_back("{\"requestId\":\"oversize\",\"pad\":\"" + std::string(40000, 'x') + "\"}");
  t.must_quarantine.push_back(true);
  for (const std::string& v : t.values) {
    t.keys.push_back(PartyKey(v));
    t.request_ids.push_back(JsonText(v, "requestId"));
  }
  return t;
}

}  // namespace edi::testing
