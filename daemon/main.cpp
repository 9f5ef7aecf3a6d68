// edi-audit: audit and anomaly detection for Norsk helsenett's EDI 2.0 message API.
// main only wires the subcommands together; each lives in commands/.
#include <sqlite3.h>
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "commands/commands.h"
#include "commands/run_logging.h"

namespace {

// "replay, fields, ...": the subcommands of `app`.
std::string SubcommandNames(CLI::App& app) {
  std::string names;
  for (const CLI::App* sub : app.get_subcommands({})) {
    names += (names.empty() ? "" : ", ") + sub->get_name();
  }
  return names;
}

// `s` without dashes and underscores, in lower case: "--Her_Id" -> "herid".
std::string Folded(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c != '-' && c != '_') out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1] ? 1 : 0)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

// The first long option among argv[from..] that `cmd` does not have, with the options of it
// that look alike ("--her-id" for "--herid"); "" when there is none.
std::string UnknownOption(CLI::App& cmd, int from, int argc, char** argv, std::string* alike) {
  for (int k = from; k < argc; ++k) {
    const std::string_view arg = argv[k];
    if (arg == "--") break;
    if (arg.size() < 3 || arg.substr(0, 2) != "--") continue;
    const std::string name(arg.substr(0, arg.find('=')));
    if (name == "--help" || name == "--version" || cmd.get_option_no_throw(name) != nullptr) {
      continue;
    }
    const std::string folded = Folded(name);
    for (const CLI::Option* o : cmd.get_options()) {
      for (const std::string& l : o->get_lnames()) {
        if (l == "help" || EditDistance(folded, Folded(l)) > 2) continue;
        *alike += (alike->empty() ? "--" : ", --") + l;
      }
    }
    return name;
  }
  return {};
}

// CLI11's wording for an option given twice ("--db: At Most 1 required but received 2") or
// without its value ("--limit: 1 required UINT:INT>0 missing") in plain words; others as
// they are.
std::string PlainParseError(const std::string& what) {
  const size_t colon = what.find(": ");
  if (colon == std::string::npos) return what;
  const std::string name = what.substr(0, colon), rest = what.substr(colon + 2);
  if (const std::string at_most = "At Most 1 required but received "; rest.rfind(at_most, 0) == 0) {
    return name + " is given " + rest.substr(at_most.size()) + " times; give it once";
  }
  if (rest.rfind("1 required ", 0) == 0 && rest.size() > 8 &&
      rest.compare(rest.size() - 8, 8, " missing") == 0) {
    return name + " needs a value";
  }
  return what;
}

}  // namespace

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
  // The command words given (`rules check`), as far as they name commands. A word that names
  // none where a command is wanted is said to be so, rather than CLI11's "A subcommand is
  // required".
  // Under systemd an error line carries its priority, as the logger's lines do.
  const char* prefix = edi::ErrorLinePrefix();
  std::string path;  // " rules check"
  CLI::App* at = &app;
  int i = 1;
  for (; i < argc && argv[i][0] != '-'; ++i) {
    if (at->get_subcommands({}).empty()) break;  // a positional argument of the command
    CLI::App* next = nullptr;
    for (CLI::App* sub : at->get_subcommands({})) {
      if (sub->check_name(argv[i])) next = sub;
    }
    if (next == nullptr) {
      std::fprintf(stderr,
                   "%sedi-audit%s: unknown command '%s' (the commands: %s; see edi-audit%s "
                   "--help)\n",
                   prefix, path.c_str(), argv[i], SubcommandNames(*at).c_str(), path.c_str());
      return 2;
    }
    path += " " + next->get_name();
    at = next;
  }
  bool help = false;
  for (int k = 1; k < argc; ++k) {
    help |= std::strcmp(argv[k], "-h") == 0 || std::strcmp(argv[k], "--help") == 0 ||
            std::strcmp(argv[k], "--version") == 0;
  }
  // Options given where a command is wanted: CLI11 names what it cannot place.
  if (!help && !at->get_subcommands({}).empty() && i == argc) {
    std::fprintf(stderr,
                 "%sedi-audit%s: no command given (the commands: %s; see edi-audit%s --help)\n",
                 prefix, path.c_str(), SubcommandNames(*at).c_str(), path.c_str());
    return 2;
  }
  // An option the command does not have is named with the ones that look like it; CLI11 would
  // say "The following arguments were not expected: 1 --herid".
  if (std::string alike, unknown = UnknownOption(*at, i, argc, argv, &alike); !unknown.empty()) {
    std::fprintf(stderr, "%sedi-audit%s: unknown option '%s'%s (see edi-audit%s --help)\n", prefix,
                 path.c_str(), unknown.c_str(),
                 alike.empty() ? "" : ("; did you mean " + alike + "?").c_str(), path.c_str());
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    // As every other refusal: the command first, then what is wrong.
    std::fprintf(stderr, "%sedi-audit%s: %s (see edi-audit%s --help)\n", prefix, path.c_str(),
                 PlainParseError(e.what()).c_str(), path.c_str());
    return 2;
  }
  // Output that did not reach its file (a full disk, a closed pipe) is a failure, whichever
  // command wrote it: a forensic copy cut short must not look complete.
  if ((std::fflush(stdout) != 0 || std::ferror(stdout) != 0) && exit_code == 0) {
    std::fprintf(stderr, "%sedi-audit: cannot write the output\n", prefix);
    return 1;
  }
  return exit_code;
}
