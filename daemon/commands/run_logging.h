// `run`'s logging (run_logging.cpp).
#pragma once

#include <string>

namespace edi {

// The default logger: stderr at `level` (spdlog's names); syslog priorities for the journal.
void SetUpLogging(const std::string& level);

}  // namespace edi
