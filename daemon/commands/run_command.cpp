// `edi-audit run`: the daemon. Kafka in, exactly once into SQLite, new findings to the alerts
// topic after each commit, until SIGTERM or SIGINT drains it; SIGHUP reloads the rules and the
// reference snapshots. With http.listen it serves /metrics and /health (http/status_server.h);
// under systemd (Type=notify) it reports readiness, reloads, stopping and watchdog keep-alives.
//
// Signal handlers only set flags; the loop below looks at them between polls (at most
// kPollSlice apart) and does the work on its own thread. A second SIGTERM/SIGINT during the
// drain ends the process at once (the handlers are one-shot): nothing is lost, the records
// not yet stored are read again at the next start.
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <algorithm>
#include <csignal>
#include <cstdio>

#include "commands/commands.h"
#include "commands/run_daemon.h"
#include "commands/run_logging.h"
#include "commands/wiring.h"
#include "common/schema.h"
#include "config/config.h"
#include "detect/rules.h"
#include "http/status_server.h"
#include "pipeline/pipeline.h"
#include "report/report.h"
#include "sinks/kafka_alert_sink.h"
#include "source/kafka_source.h"
#include "state/facts.h"
#include "store/store_path.h"

namespace edi {
namespace {

constexpr auto kPollSlice = std::chrono::milliseconds(200);
constexpr auto kStatsInterval = std::chrono::seconds(60);
constexpr auto kIdleStatsInterval = std::chrono::hours(1);
constexpr auto kAlertsFlushTimeout = std::chrono::seconds(10);

volatile std::sig_atomic_t g_stop_signal = 0;
volatile std::sig_atomic_t g_reload = 0;

extern "C" void OnStopSignal(int sig) { g_stop_signal = sig; }
extern "C" void OnReloadSignal(int) { g_reload = 1; }

void InstallSignalHandlers() {
  struct sigaction stop = {};
  stop.sa_handler = OnStopSignal;
  stop.sa_flags = SA_RESETHAND;  // a second signal ends the process
  sigemptyset(&stop.sa_mask);
  sigaction(SIGTERM, &stop, nullptr);
  sigaction(SIGINT, &stop, nullptr);
  struct sigaction reload = {};
  reload.sa_handler = OnReloadSignal;
  reload.sa_flags = SA_RESTART;
  sigemptyset(&reload.sa_mask);
  sigaction(SIGHUP, &reload, nullptr);
  // A client that hangs up in the middle of a /metrics response must not end the daemon.
  // cpp-httplib's server ignores SIGPIPE itself when it is created; the daemon does not rely
  // on that.
  struct sigaction ignore = {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  sigaction(SIGPIPE, &ignore, nullptr);
}

std::vector<KafkaProperty> ToKafka(const std::vector<Config::KafkaProperty>& in) {
  std::vector<KafkaProperty> out;
  for (const auto& p : in) out.push_back({p.name, p.value, p.where});
  return out;
}

// Keys `run` cannot do without; the rest have defaults.
Status CheckRequired(const Daemon& d) {
  const Config& c = d.config;
  const char* missing = c.database.empty()        ? "database"
                        : c.registry_dir.empty()  ? "registry"
                        : c.kafka.brokers.empty() ? "kafka.brokers"
                        : c.kafka.topics.empty()  ? "kafka.topics"
                                                  : nullptr;
  if (missing == nullptr) return Status::OK();
  return Status::InvalidArgument(d.config_path + ": key '" + missing +
                                 "' is required by `edi-audit run`");
}

Status LoadRuleFiles(RuleEngine* rules, const Config& c) {
  const auto expanded = RuleFilesFrom(c, {});
  if (!expanded.ok()) return expanded.status();
  const std::vector<std::string>& files = *expanded;
  // Rule files that load but enable no rule would leave the daemon blind: refused.
  LoadResult loaded = rules->Reload(files, /*require_enabled=*/true);
  for (const LoadIssue& issue : loaded.issues) {
    if (issue.is_error()) {
      spdlog::error("rules: {}", issue.ToString());
    } else {
      spdlog::warn("rules: {}", issue.ToString());
    }
  }
  if (!loaded.ok()) {
    return Status::InvalidArgument("the rule files do not load (" +
                                   std::to_string(loaded.error_count()) +
                                   (loaded.error_count() == 1 ? " error)" : " errors)"));
  }
  spdlog::info("rules: {} enabled of {} from {}", loaded.rules->enabled_count(),
               loaded.rules->rules().size(), fmt::join(files, ", "));
  return Status::OK();
}

KafkaAlertSinkOptions AlertOptions(const Config& c) {
  KafkaAlertSinkOptions o;
  o.brokers = c.kafka.brokers;
  o.topic = c.kafka.alerts_topic;
  o.properties = ToKafka(c.kafka.producer);
  o.serialize = [](const Finding& f) { return FindingToJson(f); };
  return o;
}

KafkaSourceOptions SourceOptions(const Config& c) {
  KafkaSourceOptions o;
  o.brokers = c.kafka.brokers;
  o.topics = c.kafka.topics;
  o.group_id = c.kafka.group_id;
  o.properties = ToKafka(c.kafka.consumer);
  o.batch_size = c.store.batch_size;
  o.batch_max_wait = std::chrono::milliseconds(c.run.batch_max_ms);
  o.reorder_wait = std::chrono::milliseconds(c.run.reorder_ms);
  o.max_record_bytes = c.decode.max_record_bytes;
  return o;
}

Status OpenAlerts(Daemon* d) {
  if (d->config.kafka.alerts_topic.empty()) return Status::OK();
  KafkaAlertSinkOptions o = AlertOptions(d->config);
  o.on_delivered = [d](const std::vector<std::string>& ids) {
    Status s = d->store->Begin();
    if (s.ok()) s = d->pipeline->findings().MarkDelivered(ids);
    if (s.ok()) s = d->store->Commit();
    if (!s.ok()) {
      d->store->Rollback();
      spdlog::warn(
          "alerts: marking {} findings delivered failed (they are sent again after a "
          "restart): {}",
          ids.size(), s.message());
    }
  };
  auto sink = KafkaAlertSink::Create(o);
  if (!sink.ok()) return sink.status();
  d->alerts = std::move(*sink);
  spdlog::info("alerts: producing findings to {}", o.topic);
  return Status::OK();
}

// Offers the database's undelivered findings to the sink: at startup (what the last run did
// not deliver), and again once a backlog the sink turned away has drained.
void OfferUndelivered(Daemon* d, bool startup) {
  if (d->alerts == nullptr) return;
  const uint64_t deferred = d->alerts->counters().deferred;
  if (!startup && (deferred == d->deferred_seen || d->alerts->in_flight() > 0)) return;
  d->deferred_seen = deferred;
  std::vector<Finding> undelivered;
  if (Status s = d->pipeline->findings().LoadUndelivered(&undelivered); !s.ok()) {
    spdlog::warn("alerts: cannot read undelivered findings: {}", s.message());
    return;
  }
  if (!undelivered.empty()) {
    spdlog::info("alerts: {} undelivered findings from the database offered again",
                 undelivered.size());
    d->alerts->Deliver(undelivered);
  }
}

Status Open(Daemon* d) {
  const Config& c = d->config;
  auto registry = Registry::Load(c.registry_dir, SchemaDir());
  // Unusable snapshots are a configuration problem (exit 2): restarting does not mend them.
  if (!registry.ok()) {
    return Status::InvalidArgument("registry: " + registry.status().message());
  }
  // The rules, the librdkafka properties and the address to listen on before the database:
  // a configuration that cannot be used leaves no database file behind.
  d->rules = std::make_unique<RuleEngine>(&FactsCatalog());
  if (Status s = LoadRuleFiles(d->rules.get(), c); !s.ok()) return s;
  if (Status s = KafkaSource::CheckOptions(SourceOptions(c)); !s.ok()) return s;
  if (!c.kafka.alerts_topic.empty()) {
    if (Status s = KafkaAlertSink::CheckOptions(AlertOptions(c)); !s.ok()) return s;
  }
  // Bound before joining the consumer group: an address in use fails the start without a
  // rebalance. /metrics answers 503 "starting" until the loop publishes.
  if (!c.http.listen.empty()) {
    StatusServerOptions h;
    h.listen = c.http.listen;
    auto http = StatusServer::Start(h);
    if (!http.ok()) return http.status();
    d->http = std::move(*http);
    // The port bound, which port 0 leaves to the system.
    spdlog::info("http: serving /metrics and /health on {}:{}",
                 c.http.listen.substr(0, c.http.listen.rfind(':')), d->http->port());
  }
  StoreOptions store_options;
  store_options.keep_raw_records = c.store.keep_raw_records;
  store_options.max_quarantine_bytes = c.store.max_quarantine_bytes;
  // Kafka is told a batch is stored once it is committed: it must be on disk by then.
  store_options.durable_commits = true;
  auto store = Store::Open(c.database, store_options);
  if (!store.ok()) return store.status();
  d->store = std::move(*store);
  DecoderOptions decoder_options;
  decoder_options.max_record_bytes = c.decode.max_record_bytes;
  decoder_options.max_parties_per_call = c.decode.max_parties_per_call;
  auto decoder = Decoder::Create(decoder_options);
  if (!decoder.ok()) return decoder.status();
  auto pipeline = Pipeline::Create(PipelineOptionsFrom(c), std::move(*decoder), *registry,
                                   d->store.get(), d->rules.get());
  if (!pipeline.ok()) return pipeline.status();
  d->pipeline = std::move(*pipeline);
  // Decoding needs no state: half of each batch is decoded on a second core.
  if (auto second = Decoder::Create(decoder_options); second.ok()) {
    d->pipeline->EnableParallelDecode(std::move(*second));
  }
  if (Status s = OpenAlerts(d); !s.ok()) return s;
  d->batch_store = std::make_unique<PipelineBatchStore>(d->pipeline.get(), d->store.get(),
                                                        d->alerts.get(), &d->outcomes);
  auto source = KafkaSource::Create(SourceOptions(c), d->batch_store.get());
  if (!source.ok()) return source.status();
  d->source = std::move(*source);
  return Status::OK();
}

// systemd's watchdog, when the unit has WatchdogSec=: a keep-alive at half its interval.
class Watchdog {
 public:
  Watchdog() {
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) > 0) interval_ = std::chrono::microseconds(usec / 2);
  }
  void Ping() {
    if (interval_.count() == 0) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < interval_) return;
    last_ = now;
    sd_notify(0, "WATCHDOG=1");
  }

 private:
  std::chrono::microseconds interval_{0};
  std::chrono::steady_clock::time_point last_{};
};

// SIGHUP: each part is loaded in full before it replaces the one in use; a part that fails
// keeps the old one.
void Reload(Daemon* d) {
  spdlog::info("SIGHUP: reloading the reference snapshots and the rule files");
  sd_notify(0, "RELOADING=1");
  auto registry = Registry::Load(d->config.registry_dir, SchemaDir());
  if (registry.ok()) {
    d->pipeline->set_registry(*registry);
    ++d->registry_reloads;
    d->registry_reload_failing = false;
    spdlog::info("registry: reloaded from {}: {} communication parties, {} organisations",
                 d->config.registry_dir, (*registry)->party_count(), (*registry)->org_count());
  } else {
    ++d->registry_reload_failures;
    d->registry_reload_failing = true;
    spdlog::error("registry: reload failed, keeping the snapshots in use: {}",
                  registry.status().message());
  }
  const Status s = LoadRuleFiles(d->rules.get(), d->config);
  d->rules_reload_failing = !s.ok();
  if (s.ok()) {
    spdlog::info("rules: reloaded");  // LoadRuleFiles logged how many rules from which files
  } else {
    spdlog::error("rules: reload failed, keeping the rules in use: {}", s.message());
  }
  sd_notify(0, "READY=1");
}

int RunLoop(Daemon* d) {
  int exit_code = 0;
  OfferUndelivered(d, true);
  PublishStatus(d);
  sd_notify(0, "READY=1\nSTATUS=consuming");
  Watchdog watchdog;
  auto last_stats = std::chrono::steady_clock::now(), last_logged_stats = last_stats;
  std::string logged_stats;  // the counters the last progress lines gave
  while (g_stop_signal == 0) {
    if (Status s = d->source->Poll(kPollSlice); !s.ok()) {
      spdlog::critical("{}; stopping", s.message());
      exit_code = 1;
      break;
    }
    watchdog.Ping();
    PublishStatus(d);
    if (g_reload != 0) {
      g_reload = 0;
      Reload(d);
    }
    if (d->alerts != nullptr) {
      d->alerts->Poll();
      OfferUndelivered(d, false);
    }
    // Every minute while something changes; an idle daemon says so once an hour.
    if (const auto now = std::chrono::steady_clock::now(); now - last_stats >= kStatsInterval) {
      last_stats = now;
      if (now - last_logged_stats >= kIdleStatsInterval) logged_stats.clear();
      if (LogStats(*d, "progress", &logged_stats)) last_logged_stats = now;
    }
  }
  sd_notify(0, "STOPPING=1");
  if (g_stop_signal != 0) {
    spdlog::info("{}: draining (storing the batch in hand, committing offsets)",
                 g_stop_signal == SIGINT ? "SIGINT" : "SIGTERM");
  }
  if (Status s = d->source->Close(); !s.ok()) {
    spdlog::error("{}", s.message());
    exit_code = 1;
  } else if (Status c = d->store->CompleteIndexes(); !c.ok()) {
    spdlog::warn("completing the party index at shutdown: {} (the next start completes it)",
                 c.message());
  }
  if (d->alerts != nullptr) {
    if (size_t left = d->alerts->Flush(kAlertsFlushTimeout); left > 0) {
      spdlog::warn(
          "alerts: {} findings not delivered before shutdown; they are sent after the "
          "next start",
          left);
    }
  }
  LogStats(*d, "stopped");
  return exit_code;
}

// run --check: what a start would refuse of the configuration, the snapshots, the rules, the
// librdkafka properties and the database path, found without starting: nothing is made, no
// broker is asked, http.listen is not bound (the daemon may be listening there).
int CheckConfiguration(const Daemon& d) {
  const Config& c = d.config;
  auto refuse = [](const std::string& message) {
    std::fprintf(stderr, "%sedi-audit run: %s\n", ErrorLinePrefix(), message.c_str());
    return 2;
  };
  auto registry = Registry::Load(c.registry_dir, SchemaDir());
  if (!registry.ok()) return refuse("registry: " + registry.status().message());
  RuleEngine rules(&FactsCatalog());
  if (Status s = LoadRuleFiles(&rules, c); !s.ok()) return refuse(s.message());
  if (Status s = KafkaSource::CheckOptions(SourceOptions(c)); !s.ok()) return refuse(s.message());
  if (!c.kafka.alerts_topic.empty()) {
    if (Status s = KafkaAlertSink::CheckOptions(AlertOptions(c)); !s.ok()) {
      return refuse(s.message());
    }
  }
  std::string database;
  if (Status s = CheckDatabasePath(c.database, &database); !s.ok()) return refuse(s.message());
  const auto& all = rules.current()->rules();
  const auto enabled =
      std::count_if(all.begin(), all.end(), [](const RuleInfo& r) { return r.enabled; });
  std::printf(
      "%s: usable\n  database  %s (%s)\n  registry  %s (%zu parties, %zu organisations)\n  rules   "
      "  "
      "%zd enabled of %zu\n  kafka     %s, topics %s, group %s%s\n  http      %s\n",
      d.config_path.c_str(), c.database.c_str(), database.c_str(), c.registry_dir.c_str(),
      (*registry)->party_count(), (*registry)->org_count(), static_cast<ssize_t>(enabled),
      all.size(), c.kafka.brokers.c_str(),
      fmt::format("{}", fmt::join(c.kafka.topics, ",")).c_str(), c.kafka.group_id.c_str(),
      c.kafka.alerts_topic.empty() ? ", no alerts topic"
                                   : (", alerts to " + c.kafka.alerts_topic).c_str(),
      c.http.listen.empty() ? "none" : (c.http.listen + " (not bound by --check)").c_str());
  return 0;
}

int RunDaemon(const std::string& config_path, bool check_only) {
  // First of all: a supervisor's SIGTERM during startup must end in a clean exit, not a kill.
  InstallSignalHandlers();
  Daemon d;
  d.config_path = config_path;
  auto loaded = LoadConfig(config_path);
  if (!loaded.ok()) {
    std::fprintf(stderr, "%sedi-audit run: %s\n", ErrorLinePrefix(),
                 loaded.status().message().c_str());
    return 2;
  }
  d.config = std::move(*loaded);
  if (Status s = CheckRequired(d); !s.ok()) {
    std::fprintf(stderr, "%sedi-audit run: %s\n", ErrorLinePrefix(), s.message().c_str());
    return 2;
  }
  SetUpLogging(d.config.log_level);
  if (check_only) return CheckConfiguration(d);
  if (Status s = Open(&d); !s.ok()) {
    spdlog::critical("edi-audit run: {}", s.message());
    return s.code() == Status::Code::kInvalidArgument ? 2 : 1;
  }
  spdlog::info(
      "edi-audit run: database {}, registry {}, batches of up to {} records / {} ms, "
      "partitions merged in event time (wait up to {} ms)",
      d.config.database, d.config.registry_dir, d.config.store.batch_size,
      d.config.run.batch_max_ms, d.config.run.reorder_ms);
  return RunLoop(&d);
}

}  // namespace

void AddRunCommand(CLI::App& app, int* exit_code) {
  auto config_path = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(
      "run", "Run the daemon: consume access logs from Kafka into the SQLite audit trail");
  cmd->add_option("--config", *config_path, "YAML configuration file")
      ->required()
      ->check(CLI::ExistingFile);
  auto check_only = std::make_shared<bool>(false);
  cmd->add_flag("--check", *check_only,
                "check the configuration, the snapshots, the rule files, the librdkafka "
                "properties and the database path, print what a start would use, and exit: "
                "nothing is made, no broker is asked, http.listen is not bound");
  cmd->footer(
      "Signals: SIGTERM/SIGINT store the batch in hand, commit offsets and exit 0; SIGHUP "
      "reloads\nthe rule files and reference snapshots (the old ones stay when the new ones do "
      "not load).\nThe configuration must name database, registry, kafka.brokers and "
      "kafka.topics. With http.listen\n(HOST:PORT) it serves GET /metrics (Prometheus) and GET "
      "/health. Under systemd (Type=notify) it\nreports readiness, reloads and stopping, and "
      "sends watchdog keep-alives.\nExit status: 0 stopped by a signal; 1 stopped by a failure "
      "(database, Kafka, http.listen), or by a\nsignal when the batch in hand could not be "
      "stored (it is read again at the next start); 2 the\nconfiguration, registry or rule "
      "files, or the database (a directory, in a directory missing or\nnot writable, a file "
      "this user may not read and write), cannot be used.\nWith --check: 0 a start would "
      "use them, 2 it would refuse them (the reason on stderr).");
  cmd->callback([config_path, check_only, exit_code]() {
    *exit_code = RunDaemon(*config_path, *check_only);
  });
}

}  // namespace edi
