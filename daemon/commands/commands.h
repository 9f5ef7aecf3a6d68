// The subcommands of `edi-audit`. Each Add* registers one subcommand on the app; when it runs,
// it stores its process exit code in *exit_code (0 success, 1 failure, 2 unusable arguments).
#pragma once

#include <CLI/CLI.hpp>
#include <charconv>
#include <cstdint>
#include <string>

namespace edi {

// A whole number above zero (HER-Ids, event ids, limits), always decimal: attached with
// ->transform(), it hands CLI11 the number without leading zeros, which CLI11 would read as
// octal (HER-Id 036714346 would become 8100070). CLI11's PositiveNumber would take 2.5 and
// name a range of doubles in its message.
inline CLI::Validator DecimalInteger(int64_t min, int64_t max, std::string what) {
  return CLI::Validator(
      [min, max, what](std::string& s) -> std::string {
        int64_t v = 0;
        auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        const bool digits_only =
            !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
        if (digits_only && (ec == std::errc::result_out_of_range || v > max)) {
          return "'" + s + "' is too large: at most " + std::to_string(max);
        }
        if (ec != std::errc() || end != s.data() + s.size() || v < min || v > max) {
          return "'" + s + "' is not " + what;
        }
        s = std::to_string(v);
        return "";
      },
      min == 1 && max == INT64_MAX
          ? "INT>0"
          : "INT in [" + std::to_string(min) + " - " + std::to_string(max) + "]");
}

inline const CLI::Validator kPositiveInteger =
    DecimalInteger(1, INT64_MAX, "a whole number above 0");

// A filter's text: an empty one (an unset shell variable, say) is refused rather than read as
// "no filter", which would answer with everything.
inline const CLI::Validator kNonEmpty(
    [](std::string& s) -> std::string {
      return s.empty() ? "is empty: give a value or leave the option out" : "";
    },
    "");

void AddReplayCommand(CLI::App& app, int* exit_code);
void AddFieldsCommand(CLI::App& app, int* exit_code);
void AddFindingsCommand(CLI::App& app, int* exit_code);
void AddRulesCommand(CLI::App& app, int* exit_code);
void AddRunCommand(CLI::App& app, int* exit_code);
void AddRecordCommand(CLI::App& app, int* exit_code);
void AddEventsCommand(CLI::App& app, int* exit_code);
void AddQuarantineCommand(CLI::App& app, int* exit_code);

}  // namespace edi
