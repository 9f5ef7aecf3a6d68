// The subcommands of `edi-audit`. Each Add* registers one subcommand on the app; when it runs,
// it stores its process exit code in *exit_code (0 success, 1 failure, 2 unusable arguments).
#pragma once

#include <CLI/CLI.hpp>
#include <charconv>
#include <cstdint>
#include <string>

namespace edi {

// A whole number above zero (HER-Ids, event ids, limits). CLI11's PositiveNumber would take
// 2.5 and name a range of doubles in its message.
inline const CLI::Validator kPositiveInteger(
    [](std::string& s) -> std::string {
      int64_t v = 0;
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      if (ec != std::errc() || end != s.data() + s.size() || v <= 0) {
        return "'" + s + "' is not a whole number above 0";
      }
      return "";
    },
    "INT>0");

void AddReplayCommand(CLI::App& app, int* exit_code);
void AddFieldsCommand(CLI::App& app, int* exit_code);
void AddFindingsCommand(CLI::App& app, int* exit_code);
void AddRulesCommand(CLI::App& app, int* exit_code);
void AddRunCommand(CLI::App& app, int* exit_code);
void AddRecordCommand(CLI::App& app, int* exit_code);
void AddEventsCommand(CLI::App& app, int* exit_code);
void AddQuarantineCommand(CLI::App& app, int* exit_code);

}  // namespace edi
