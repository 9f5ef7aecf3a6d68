// `run`'s log: stderr, with the time and level; under systemd (stderr is the journal's stream)
// each line starts with its syslog priority instead, and the journal keeps the time.
#include "commands/run_logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

namespace edi {
namespace {

// "<3>" etc.: the syslog priority of a line, which journald reads from a line's start
// (SyslogLevelPrefix=, on by default): `journalctl -p err` then finds the errors.
class SyslogPriorityFlag : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    // By spdlog's levels: trace, debug, info, warn, err, critical, off.
    static constexpr char kPriority[] = {'7', '7', '6', '4', '3', '2', '6'};
    const auto level = static_cast<size_t>(msg.level);
    const char p = level < sizeof kPriority ? kPriority[level] : '6';
    const char text[3] = {'<', p, '>'};
    dest.append(text, text + 3);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<SyslogPriorityFlag>();
  }
};

}  // namespace

bool StderrIsJournal() {
  const char* env = std::getenv("JOURNAL_STREAM");
  unsigned long long dev = 0, ino = 0;
  struct stat st = {};
  return env != nullptr && std::sscanf(env, "%llu:%llu", &dev, &ino) == 2 &&
         ::fstat(STDERR_FILENO, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
}

const char* ErrorLinePrefix() { return StderrIsJournal() ? "<3>" : ""; }

void SetUpLogging(const std::string& level) {
  auto logger = spdlog::stderr_logger_mt("edi-audit");
  if (StderrIsJournal()) {
    // The journal has its own timestamps; the priority goes first.
    auto formatter = std::make_unique<spdlog::pattern_formatter>();
    formatter->add_flag<SyslogPriorityFlag>('*').set_pattern("%*%l %v");
    logger->set_formatter(std::move(formatter));
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %l %v");  // local time, with its offset
  }
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(level));
}

}  // namespace edi
