// The subcommands of `edi-audit`. Each Add* registers one subcommand on the app; when it runs,
// it stores its process exit code in *exit_code (0 success, 1 failure, 2 unusable arguments).
#pragma once

#include <CLI/CLI.hpp>

namespace edi {

void AddReplayCommand(CLI::App& app, int* exit_code);
void AddFieldsCommand(CLI::App& app, int* exit_code);
void AddFindingsCommand(CLI::App& app, int* exit_code);
void AddRulesCommand(CLI::App& app, int* exit_code);
void AddRunCommand(CLI::App& app, int* exit_code);
void AddRecordCommand(CLI::App& app, int* exit_code);

}  // namespace edi
