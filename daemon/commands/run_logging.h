// `run`'s logging (run_logging.cpp).
#pragma once

#include <string>

namespace edi {

// The default logger: stderr at `level` (spdlog's names); syslog priorities for the journal.
void SetUpLogging(const std::string& level);

// Whether stderr is the journal's stream (systemd sets JOURNAL_STREAM to its device:inode).
bool StderrIsJournal();

// What an error line written before the logger is set up (a refused configuration, a bad
// argument) starts with: "<3>" for the journal, so that `journalctl -p err` finds it; "".
const char* ErrorLinePrefix();

}  // namespace edi
