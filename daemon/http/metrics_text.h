// MetricsText: metrics in Prometheus' text exposition format (version 0.0.4), written family by
// family: a family's # HELP and # TYPE lines, then its samples, each with its labels.
//
//   MetricsText m;
//   m.Family("edi_audit_records_total", "counter", "Access-log records read, by outcome.");
//   m.Sample({{"outcome", "stored"}}, uint64_t{812});
//   std::string body = m.Take();
//
// Label values are escaped (backslash, double quote, newline) as the format requires.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace edi {

class MetricsText {
 public:
  using Labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

  // Starts a family: `type` is "counter" or "gauge".
  void Family(std::string_view name, std::string_view type, std::string_view help);
  // A sample of the current family.
  void Sample(Labels labels, double value);
  void Sample(Labels labels, uint64_t value);
  void Sample(double value) { Sample({}, value); }
  void Sample(uint64_t value) { Sample({}, value); }

  // A family of one sample without labels.
  void Single(std::string_view name, std::string_view type, std::string_view help, double value) {
    Family(name, type, help);
    Sample(value);
  }
  void Single(std::string_view name, std::string_view type, std::string_view help, uint64_t value) {
    Family(name, type, help);
    Sample(value);
  }

  const std::string& text() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void Name(Labels labels);
  std::string out_;
  std::string family_;
};

}  // namespace edi
