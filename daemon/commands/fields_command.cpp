// `edi-audit fields`: the named facts rule conditions can use, with types and meanings.
#include <cstdio>

#include "commands/commands.h"
#include "state/facts.h"

namespace edi {

void AddFieldsCommand(CLI::App& app, int* exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "fields", "List the fields rule conditions are written over, with types and meanings");
  auto prefix = std::make_shared<std::string>();
  cmd->add_option("prefix", *prefix, "only fields starting with this, e.g. 'msg.'");
  cmd->footer("Exit status: 0 listed, 1 no field starts with the prefix.");
  cmd->callback([prefix, exit_code]() {
    size_t width = 0;
    for (const FieldDef& d : FactsCatalog().defs()) width = std::max(width, d.name.size());
    size_t shown = 0;
    for (const FieldDef& d : FactsCatalog().defs()) {
      if (d.name.rfind(*prefix, 0) != 0) continue;
      std::printf("%-*s  %-6s  %s\n", static_cast<int>(width), d.name.c_str(),
                  std::string(FieldTypeName(d.type)).c_str(), d.meaning.c_str());
      ++shown;
    }
    if (shown == 0) {
      std::fprintf(stderr,
                   "edi-audit fields: no field starts with '%s' (they start with cfg., client., "
                   "evt., msg. or party.; run without a prefix for all)\n",
                   prefix->c_str());
    }
    *exit_code = shown == 0 ? 1 : 0;
  });
}

}  // namespace edi
