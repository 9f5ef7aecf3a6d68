// edi-audit: audit and anomaly detection for Norsk helsenett's EDI 2.0 message API.
// main only wires the subcommands together; each lives in commands/.
#include <sqlite3.h>
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "commands/commands.h"

int main(int argc, char** argv) {
  // SQLite's memory statistics take a global lock on every allocation; nothing reads them.
  sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  CLI::App app{
      "edi-audit: who acted for which HER-Id in EDI 2.0, and what happened to every message"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "edi-audit " EDI_VERSION);
  int exit_code = 0;
  edi::AddReplayCommand(app, &exit_code);
  edi::AddFieldsCommand(app, &exit_code);
  edi::AddFindingsCommand(app, &exit_code);
  edi::AddEventsCommand(app, &exit_code);
  edi::AddRulesCommand(app, &exit_code);
  edi::AddRunCommand(app, &exit_code);
  edi::AddRecordCommand(app, &exit_code);
  edi::AddQuarantineCommand(app, &exit_code);
  // A word that is no command: say so, rather than CLI11's "A subcommand is required".
  std::string names;
  bool known = false;
  for (const CLI::App* sub : app.get_subcommands({})) {
    names += (names.empty() ? "" : ", ") + sub->get_name();
    known |= argc > 1 && sub->check_name(argv[1]);
  }
  if (argc == 1) {
    std::fprintf(stderr, "edi-audit: no command given (the commands: %s; see --help)\n",
                 names.c_str());
    return 2;
  }
  if (argc > 1 && argv[1][0] != '-' && !known) {
    std::fprintf(stderr, "edi-audit: unknown command '%s' (the commands: %s; see --help)\n",
                 argv[1], names.c_str());
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    // As every other refusal: the command first, then what is wrong.
    const std::string cmd = known ? std::string(" ") + argv[1] : std::string();
    std::fprintf(stderr, "edi-audit%s: %s (see edi-audit%s --help)\n", cmd.c_str(), e.what(),
                 cmd.c_str());
    return 2;
  }
  // Output that did not reach its file (a full disk, a closed pipe) is a failure, whichever
  // command wrote it: a forensic copy cut short must not look complete.
  if ((std::fflush(stdout) != 0 || std::ferror(stdout) != 0) && exit_code == 0) {
    std::fprintf(stderr, "edi-audit: cannot write the output\n");
    return 1;
  }
  return exit_code;
}
