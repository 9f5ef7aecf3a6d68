// `edi-audit replay`: JSON-lines files through the same pipeline the daemon runs.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <unordered_map>

#include "commands/commands.h"
#include "commands/replay_feed.h"
#include "commands/wiring.h"
#include "common/schema.h"
#include "common/time.h"
#include "config/config.h"
#include "detect/rules.h"
#include "pipeline/pipeline.h"
#include "report/report.h"
#include "report/text_table.h"

namespace edi {
namespace {

// SIGINT or SIGTERM asks the replay to stop once the batch being stored is stored: the
// summary then says what was, and a second signal ends the process at once (the handlers are
// reset when one runs), for a replay waiting on a standard input that sends nothing.
volatile std::sig_atomic_t g_stop_signal = 0;

extern "C" void OnReplayStopSignal(int signo) {
  g_stop_signal = signo;
  // The next one, of either kind, stops the process at once.
  struct sigaction dfl = {};
  dfl.sa_handler = SIG_DFL;
  ::sigaction(SIGINT, &dfl, nullptr);
  ::sigaction(SIGTERM, &dfl, nullptr);
  static const char kSaid[] =
      "edi-audit replay: stopping once the batch being stored is stored (again to stop at "
      "once)\n";
  [[maybe_unused]] const ssize_t n = ::write(STDERR_FILENO, kSaid, sizeof(kSaid) - 1);
}

void StopOnSignals() {
  struct sigaction sa = {};
  sa.sa_handler = OnReplayStopSignal;
  ::sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

struct ReplayOptions {
  std::string config_path;
  std::string registry_dir;
  std::string db_path;
  std::vector<std::string> inputs;
  std::vector<std::string> rule_files;
  size_t batch_size = 0;
  bool no_findings = false;
  bool quiet = false;
  bool merge = false;
};

class Progress {
 public:
  explicit Progress(bool enabled) : enabled_(enabled), start_(Clock::now()), last_(start_) {}
  void Update(const std::string& input, uint64_t records) {
    if (!enabled_) return;
    const auto now = Clock::now();
    if (now - last_ < std::chrono::seconds(2)) return;
    last_ = now;
    const double secs = std::chrono::duration<double>(now - start_).count();
    std::fprintf(stderr, "replay: %s: %llu records, %.0f records/s\n", input.c_str(),
                 static_cast<unsigned long long>(records), static_cast<double>(records) / secs);
  }
  double Elapsed() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

 private:
  using Clock = std::chrono::steady_clock;
  bool enabled_;
  Clock::time_point start_, last_;
};

// `finished`: the inputs were read to their end (else a failure or a signal stopped the replay,
// and the figures are what was stored until then).
void PrintSummary(const PipelineCounters& c, const StateCounters& st, size_t inputs, double secs,
                  bool finished) {
  const double rate = secs > 0 ? static_cast<double>(c.records) / secs : 0.0;
  if (finished) {
    std::printf("replayed %zu input%s in %.2f s (%.0f records/s)\n", inputs, inputs == 1 ? "" : "s",
                secs, rate);
  } else {
    std::printf(
        "replay stopped after %.2f s (%.0f records/s), before the end of its input; "
        "stored until then:\n",
        secs, rate);
  }
  std::printf("  %-28s %12llu\n", "records read", static_cast<unsigned long long>(c.records));
  std::printf("  %-28s %12llu\n", "stored", static_cast<unsigned long long>(c.stored));
  if (c.older_than_stored > 0) {
    std::printf("    %-26s %12llu\n", "older than stored events",
                static_cast<unsigned long long>(c.older_than_stored));
  }
  if (c.future_dated > 0) {
    std::printf("    %-26s %12llu\n", "dated over a day ahead",
                static_cast<unsigned long long>(c.future_dated));
  }
  std::printf("  %-28s %12llu\n", "duplicates (already stored)",
              static_cast<unsigned long long>(c.duplicates));
  std::printf("  %-28s %12llu\n", "quarantined", static_cast<unsigned long long>(c.quarantined));
  for (int i = 0; i < kQuarantineReasonCount; ++i) {
    if (c.quarantined_by_reason[i] == 0) continue;
    std::printf("    %-26s %12llu\n",
                std::string(QuarantineReasonName(static_cast<QuarantineReason>(i))).c_str(),
                static_cast<unsigned long long>(c.quarantined_by_reason[i]));
  }
  std::printf("  %-28s %12llu\n", "findings", static_cast<unsigned long long>(c.findings_new));
  for (int i = 4; i >= 0; --i) {
    if (c.findings_by_severity[i] == 0) continue;
    std::printf("    %-26s %12llu\n", std::string(SeverityName(static_cast<Severity>(i))).c_str(),
                static_cast<unsigned long long>(c.findings_by_severity[i]));
  }
  std::printf("  %-28s %12llu\n", "repeats folded into findings",
              static_cast<unsigned long long>(c.findings_repeats));
  if (c.findings_escalated > 0) {
    std::printf("    %-26s %12llu\n", "raising their severity",
                static_cast<unsigned long long>(c.findings_escalated));
  }
  std::printf("  %-28s %12llu\n", "calls with unknown custody",
              static_cast<unsigned long long>(st.custody_unknown));
  if (st.message_blocks_ignored > 0) {
    std::printf("  %-28s %12llu\n", "message blocks of another id",
                static_cast<unsigned long long>(st.message_blocks_ignored));
  }
  // A poll without HerIds, a send without its sender: the rules see no party for these.
  std::printf("  %-28s %12llu\n", "calls naming no party",
              static_cast<unsigned long long>(st.no_party));
  // Owner-based rules stay silent for these: worth knowing when few findings come.
  std::printf("  %-28s %12llu\n", "party checks with no owner",
              static_cast<unsigned long long>(st.no_owner));
  if (c.stored > 0) std::printf("  stored by action:\n");
  for (int i = 0; i < kActionCount; ++i) {
    if (c.stored_by_action[i] == 0) continue;
    std::printf("    %-26s %12llu\n", std::string(ActionName(static_cast<Action>(i))).c_str(),
                static_cast<unsigned long long>(c.stored_by_action[i]));
  }
}

int RunReplay(const ReplayOptions& opt) {
  Config config;
  if (!opt.config_path.empty()) {
    auto loaded = LoadConfig(opt.config_path);
    if (!loaded.ok()) {
      std::fprintf(stderr, "edi-audit replay: %s\n", loaded.status().message().c_str());
      return 2;
    }
    config = *loaded;
  }
  if (!opt.registry_dir.empty()) config.registry_dir = opt.registry_dir;
  if (!opt.db_path.empty()) config.database = opt.db_path;
  if (opt.batch_size > 0) config.store.batch_size = opt.batch_size;
  if (config.registry_dir.empty() || config.database.empty()) {
    std::fprintf(stderr,
                 "edi-audit replay: %s is required (give it on the command line or in --config)\n",
                 config.registry_dir.empty() ? "--registry DIR" : "--db FILE");
    return 2;
  }

  // Every input is looked at before anything is stored: a mistyped last file must not leave
  // the others stored with their findings never shown.
  if (std::count(opt.inputs.begin(), opt.inputs.end(), "-") > 1) {
    std::fprintf(stderr,
                 "edi-audit replay: '-' (standard input) is given more than once; nothing "
                 "replayed\n");
    return 2;
  }
  for (const std::string& input : opt.inputs) {
    if (input == "-") continue;
    std::error_code ec;
    const auto status = std::filesystem::status(input, ec);
    const std::string cause = ec ? ec.message() : std::string();  // e.g. permission denied
    std::string unreadable;
    const char* problem = !std::filesystem::exists(status)        ? "no such file"
                          : std::filesystem::is_directory(status) ? "is a directory"
                                                                  : nullptr;
    if (ec && ec != std::errc::no_such_file_or_directory) problem = cause.c_str();
    // Only a regular file is looked into: what is read from a pipe is gone.
    if (problem == nullptr && std::filesystem::is_regular_file(status)) {
      if (std::FILE* f = std::fopen(input.c_str(), "rb")) {
        // Compressed logs would only be quarantined line by line as invalid JSON.
        unsigned char magic[4] = {0, 0, 0, 0};
        const size_t n = std::fread(magic, 1, sizeof(magic), f);
        std::fclose(f);
        if (n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
          problem = "is gzip-compressed (decompress it: zcat FILE | edi-audit replay ... -)";
        } else if (n == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f &&
                   magic[3] == 0xfd) {
          problem = "is zstd-compressed (decompress it: zstdcat FILE | edi-audit replay ... -)";
        }
      } else {
        unreadable = std::string("cannot be read: ") + std::strerror(errno);
        problem = unreadable.c_str();
      }
    }
    if (problem != nullptr) {
      std::fprintf(stderr, "edi-audit replay: %s: %s; nothing replayed\n", input.c_str(), problem);
      return 2;
    }
  }
  // The registry, the rules and the database are unusable inputs like a missing file: exit 2,
  // nothing stored.
  auto registry = Registry::Load(config.registry_dir, SchemaDir());
  if (!registry.ok()) {
    std::fprintf(stderr, "edi-audit replay: registry: %s\n", registry.status().message().c_str());
    return 2;
  }
  if (!opt.rule_files.empty() && !config.rules.empty()) {
    // Said, as it replaces detections the configuration had (the shipped pack among them):
    // what this replay stores is later skipped as duplicates, its findings are final.
    std::string configured;
    for (const std::string& r : config.rules) configured += (configured.empty() ? "" : ", ") + r;
    std::fprintf(stderr,
                 "edi-audit replay: --rules replaces the configuration's rules (%s): only the "
                 "files given here are loaded; name the shipped pack too to keep it\n",
                 configured.c_str());
  }
  const auto rule_files = RuleFilesFrom(config, opt.rule_files);
  if (!rule_files.ok()) {
    std::fprintf(stderr, "edi-audit replay: rules: %s\n", rule_files.status().message().c_str());
    return 2;
  }
  RuleEngine rules(&FactsCatalog());
  // Files that enable no rule are refused: the events would be stored undetected, and a later
  // replay with rules skips them as duplicates.
  LoadResult loaded_rules = rules.Reload(*rule_files, /*require_enabled=*/true);
  for (const LoadIssue& issue : loaded_rules.issues) {
    std::fprintf(stderr, "edi-audit replay: %s\n", issue.ToString().c_str());
  }
  if (!loaded_rules.ok()) {
    std::fprintf(stderr, "edi-audit replay: the rule files do not load (%zu error%s)\n",
                 loaded_rules.error_count(), loaded_rules.error_count() == 1 ? "" : "s");
    return 2;
  }
  StoreOptions store_options;
  store_options.keep_raw_records = config.store.keep_raw_records;
  store_options.max_quarantine_bytes = config.store.max_quarantine_bytes;
  // Replay groups batches into larger transactions (below); a smaller page cache keeps its
  // peak memory where run's is (measured: 10M records, 478 MiB with 4 batches per transaction
  // and 32 MiB, 492 MiB with one batch and 64 MiB).
  store_options.cache_kib = 32 * 1024;
  auto store = Store::Open(config.database, store_options);
  if (!store.ok()) {
    std::fprintf(stderr, "edi-audit replay: %s\n", store.status().message().c_str());
    return 2;
  }
  DecoderOptions decoder_options;
  decoder_options.max_record_bytes = config.decode.max_record_bytes;
  decoder_options.max_parties_per_call = config.decode.max_parties_per_call;
  auto decoder = Decoder::Create(decoder_options);
  if (!decoder.ok()) {
    std::fprintf(stderr, "edi-audit replay: %s\n", decoder.status().message().c_str());
    return 1;
  }
  auto created = Pipeline::Create(PipelineOptionsFrom(config), std::move(*decoder), *registry,
                                  store->get(), &rules);
  if (!created.ok()) {
    std::fprintf(stderr, "edi-audit replay: %s\n", created.status().message().c_str());
    return 1;
  }
  Pipeline& pipeline = **created;
  std::vector<Finding> found;
  std::unordered_map<std::string, size_t> found_at;  // finding id -> its place in `found`

  Progress progress(!opt.quiet);
  auto feed_decoder = Decoder::Create(decoder_options);
  if (!feed_decoder.ok()) {
    std::fprintf(stderr, "edi-audit replay: %s\n", feed_decoder.status().message().c_str());
    return 1;
  }
  ReplayFeed feed(opt.inputs, config.store.batch_size, config.decode.max_record_bytes,
                  std::move(*feed_decoder), config.store.keep_raw_records, *registry, opt.merge);
  // What was stored before a failure stays stored: the summary and the findings say what.
  std::string failure;
  bool warned_older = false;
  bool warned_future = false;
  // Fewer, larger transactions than `run`'s (which commits Kafka offsets after each): the state
  // and the indexes written once per transaction rather than per batch. The batches stay as
  // large, so the records in memory do not grow.
  constexpr size_t kBatchesPerTransaction = 4;
  size_t in_transaction = 0;
  int stopped_by = 0;  // the signal that stopped the replay
  // Per input file, the furthest line read from it by earlier replays, and by this one: a file
  // read to its end with fewer lines was cut or rewritten since.
  std::unordered_map<std::string, std::pair<int64_t, int64_t>> lines_read;
  for (const std::string& input : opt.inputs) {
    // Only a file keeps its lines between two replays (not a pipe such as <(...), whose names
    // are used again).
    std::error_code ec;
    if (input == "-" || !std::filesystem::is_regular_file(input, ec)) continue;
    if (auto before = (*store)->GetSourcePosition(SourceName(input))) {
      lines_read[SourceName(input)] = {*before, 0};
    }
  }
  StopOnSignals();
  while (true) {
    std::unique_ptr<FeedBatch> b = feed.Next();
    const int stop_signal = g_stop_signal;
    const bool commit = ++in_transaction == kBatchesPerTransaction || b->last || !b->status.ok() ||
                        stop_signal != 0;
    if (commit) in_transaction = 0;
    if (Status s = pipeline.ProcessDecoded(b->records, b->decoded, &b->raw_block, commit);
        !s.ok()) {
      failure = "storing a batch failed: " + s.message();
      break;
    }
    if (!lines_read.empty()) {  // inputs read before (--merge mixes inputs in a batch)
      const std::string* source = nullptr;
      std::pair<int64_t, int64_t>* lines = nullptr;
      for (const RawRecord& r : b->records) {
        if (source == nullptr || r.where.source != *source) {
          source = &r.where.source;
          const auto it = lines_read.find(*source);
          lines = it == lines_read.end() ? nullptr : &it->second;
        }
        if (lines != nullptr) lines->second = std::max(lines->second, r.where.position);
      }
    }
    for (const Finding& f : pipeline.batch_findings()) {
      // A finding a later transaction escalated is listed once, as it is now.
      if (auto [it, added] = found_at.try_emplace(f.id, found.size()); added) {
        found.push_back(f);
      } else {
        found[it->second] = f;
      }
    }
    if (!warned_older && pipeline.first_older_than_stored()) {
      warned_older = true;
      const NotedRecord& o = *pipeline.first_older_than_stored();
      std::fprintf(stderr,
                   "edi-audit replay: warning: record %s (%s) is over an hour older "
                   "than events already stored (up to %s): the reconstruction (locks, custody, "
                   "owners) is already past it, so findings of such records can be wrong. "
                   "Replay logs oldest first (--merge reads several gateway nodes' logs side by "
                   "side), or older logs into a database of their own.\n",
                   LogText(o.request_id).c_str(), FormatRfc3339(o.time).c_str(),
                   FormatRfc3339(o.newest).c_str());
    }
    if (!warned_future && pipeline.first_future_dated()) {
      warned_future = true;
      const NotedRecord& f = *pipeline.first_future_dated();
      std::fprintf(stderr,
                   "edi-audit replay: warning: record %s is dated %s, over a day after this "
                   "machine's clock (a gateway's clock fault?). It is stored and judged with its "
                   "own time, but event time does not move on to it (locks, custody and "
                   "durations such as --since 7d go by the other records). `edi-audit events "
                   "--since %s` lists such records.\n",
                   LogText(f.request_id).c_str(), FormatRfc3339(f.time).c_str(),
                   FormatRfc3339(WallClockMillis() + kFutureSlack).c_str());
    }
    progress.Update(b->input, pipeline.counters().records);
    if (!b->status.ok()) {
      failure = b->status.message() + " (the records before it are stored)";
      break;
    }
    // Stopped also when the input ended meanwhile: a producer piping into the replay is often
    // stopped by the same signal, so its end is no sign the input was whole.
    if (b->last && stop_signal == 0) break;
    if (stop_signal != 0) {
      stopped_by = stop_signal;
      failure = std::string("stopped by ") + (stop_signal == SIGINT ? "SIGINT" : "SIGTERM") +
                ": the records read before are stored; the same command again goes on (what "
                "is stored is skipped as a duplicate)";
      break;
    }
    feed.Recycle(std::move(b));
  }
  if (failure.empty()) {
    for (const std::string& input : opt.inputs) {
      const auto it = lines_read.find(input == "-" ? "" : SourceName(input));
      if (it == lines_read.end() || it->second.second >= it->second.first) continue;
      std::fprintf(stderr,
                   "edi-audit replay: warning: %s has %lld lines, fewer than the %lld read from "
                   "it before: it was cut or rewritten since (what was stored from it stays)\n",
                   input.c_str(), static_cast<long long>(it->second.second),
                   static_cast<long long>(it->second.first));
    }
    if (Status s = (*store)->CompleteIndexes(); !s.ok()) {
      // Everything is stored; the next writer completes the index.
      std::fprintf(stderr, "edi-audit replay: warning: completing the party index: %s\n",
                   s.message().c_str());
    }
  }
  PrintSummary(pipeline.counters(), pipeline.state().counters(), opt.inputs.size(),
               progress.Elapsed(), failure.empty());
  if (!opt.no_findings && !found.empty()) {
    // Most severe first, then in time order.
    std::stable_sort(found.begin(), found.end(),
                     [](const Finding& a, const Finding& b) { return a.severity > b.severity; });
    const size_t kShown = 50;
    std::printf("\nnew findings, most severe first%s:\n",
                found.size() > kShown ? " (the first 50; edi-audit findings shows all)" : "");
    if (found.size() > kShown) found.resize(kShown);
    std::fputs(FormatFindings(found, ReportFormat::kTable).c_str(), stdout);
  }
  if (!failure.empty()) {
    std::fflush(stdout);
    std::fprintf(stderr, "edi-audit replay: %s\n", failure.c_str());
    if (stopped_by != 0) {
      // The reader may wait on a pipe that sends nothing more (a standard input): the
      // database is closed, and the process ends without waiting for the reader.
      created->reset();
      store->reset();
      std::fflush(nullptr);
      std::_Exit(128 + stopped_by);
    }
    return 1;
  }
  return 0;
}

}  // namespace

void AddReplayCommand(CLI::App& app, int* exit_code) {
  auto opt = std::make_shared<ReplayOptions>();
  CLI::App* cmd = app.add_subcommand(
      "replay",
      "Replay JSON-lines access logs through the full pipeline into the SQLite audit trail");
  cmd->add_option("--config", opt->config_path, "YAML configuration file")
      ->check(CLI::ExistingFile);
  cmd->add_option("--registry", opt->registry_dir,
                  "directory of reference snapshots (communication-parties.jsonl, ...)")
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--db", opt->db_path, "SQLite database to write (created if missing)");
  cmd->add_option("--batch-size", opt->batch_size,
                  "records per batch (default 5000; a transaction holds up to 4 batches)")
      ->transform(DecimalInteger(1, 1000000, "a whole number from 1 to 1000000"));
  cmd->add_option(
         "--rules", opt->rule_files,
         "rule files or directories of *.yaml and *.yml, loaded in order; they replace --config's "
         "rules (default: those, else the shipped edi-default.yaml)")
      ->check(CLI::ExistingPath);
  cmd->add_flag("-q,--quiet", opt->quiet, "no progress reports on stderr");
  cmd->add_flag("--no-findings", opt->no_findings, "do not print the new findings");
  cmd->add_flag("--merge", opt->merge,
                "read the inputs side by side, the earliest timestamp first (each input in "
                "event-time order, e.g. the logs of several gateway nodes), as run merges its "
                "partitions; without it each input is read whole, one after another");
  cmd->add_option("inputs", opt->inputs, "JSON-lines files to replay, in order ('-' = stdin)")
      ->required();
  cmd->footer(
      "Each record ends as stored, duplicate (the same record, by requestId, timestamp and bytes, "
      "is\nalready in the database) or quarantined (with a reason: edi-audit quarantine lists "
      "them). Replaying\nthe same file twice stores nothing new. Inputs are checked before "
      "anything is stored. Give logs\noldest first: records over an hour older than an event "
      "stored before them are warned about.\nOne writer at a time: a database that run or "
      "another replay has open is refused.\n"
      "--registry and --db are required, here or in --config; given here they override it, "
      "as\n--rules replaces its rules.\n"
      "SIGINT (Ctrl-C) or SIGTERM stops it once the batch being stored is stored; a second "
      "one at once.\n"
      "Exit status: 0 replayed; 1 a failure while replaying (the summary says what was stored "
      "before it);\n2 nothing was stored: bad arguments, or an input, the configuration, the "
      "registry, the rule files\nor the database cannot be used; 130 or 143 stopped by SIGINT or "
      "SIGTERM (the summary says what was\nstored).");
  cmd->callback([opt, exit_code]() { *exit_code = RunReplay(*opt); });
}

}  // namespace edi
