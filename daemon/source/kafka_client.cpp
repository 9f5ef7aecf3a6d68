#include "source/kafka_client.h"

#include <charconv>

#include <spdlog/spdlog.h>

namespace edi {
namespace {

// librdkafka logs with syslog levels (0 emergency .. 7 debug), from its own threads; the
// default spdlog logger is thread-safe.
void LogToSpdlog(const rd_kafka_t* rk, int level, const char* facility, const char* message) {
  spdlog::level::level_enum l = spdlog::level::debug;
  if (std::string_view(facility) == "FAIL") {
    // Connection failures also reach the error callback, which logs and counts them once.
    l = spdlog::level::debug;
  } else if (level <= 3) {
    l = spdlog::level::err;
  } else if (level == 4) {
    l = spdlog::level::warn;
  } else if (level == 5) {
    l = spdlog::level::info;
  }
  spdlog::log(l, "librdkafka {} {}: {}", rk != nullptr ? rd_kafka_name(rk) : "-", facility,
              message);
}

}  // namespace

namespace {

// "WHERE: kafka.<role>.NAME: <what>"
Status PropertyError(std::string_view role, const KafkaProperty& p, const std::string& what) {
  std::string msg = p.where.empty() ? std::string() : p.where + ": ";
  msg += "kafka." + std::string(role) + "." + p.name + ": " + what;
  return Status::InvalidArgument(msg);
}

}  // namespace

Status SetKafkaProperty(rd_kafka_conf_t* conf, std::string_view role, const KafkaProperty& p) {
  char err[512] = "";
  if (rd_kafka_conf_set(conf, p.name.c_str(), p.value.c_str(), err, sizeof(err)) ==
      RD_KAFKA_CONF_OK) {
    return Status::OK();
  }
  return PropertyError(role, p, err);
}

Result<KafkaConf> MakeKafkaConf(std::string_view role, const std::vector<KafkaProperty>& fixed,
                                const std::vector<KafkaProperty>& properties,
                                const std::set<std::string, std::less<>>& managed,
                                std::span<const KafkaPropertyRange> ranges) {
  KafkaConf conf(rd_kafka_conf_new());
  rd_kafka_conf_set_log_cb(conf.get(), LogToSpdlog);
  for (const KafkaProperty& p : fixed) {
    if (Status s = SetKafkaProperty(conf.get(), role, p); !s.ok()) return s;
  }
  for (const KafkaProperty& p : properties) {
    if (managed.contains(p.name)) {
      std::string msg =
          "edi-audit sets this property itself (exactly-once delivery depends on it); remove it "
          "from the configuration";
      // Two of them have keys of their own.
      if (p.name == "group.id") msg += " (the consumer group is kafka.group_id)";
      if (p.name == "bootstrap.servers" || p.name == "metadata.broker.list") {
        msg += " (the brokers are kafka.brokers)";
      }
      return PropertyError(role, p, msg);
    }
    for (const KafkaPropertyRange& r : ranges) {
      if (p.name != r.name) continue;
      int64_t v = 0;
      const char* end = p.value.data() + p.value.size();
      const auto [at, ec] = std::from_chars(p.value.data(), end, v);
      if (ec != std::errc() || at != end || v < r.min || v > r.max) {
        return PropertyError(role, p,
                             "'" + p.value + "' is not a whole number from " +
                                 std::to_string(r.min) + " to " + std::to_string(r.max) + " (" +
                                 std::string(r.meaning) + ")");
      }
    }
    if (Status s = SetKafkaProperty(conf.get(), role, p); !s.ok()) return s;
  }
  return conf;
}

std::string KafkaSourceName(std::string_view topic, int32_t partition) {
  std::string s = "kafka:";
  s += topic;
  s += '/';
  s += std::to_string(partition);
  return s;
}

bool IsTransientKafkaError(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__RESOLVE:
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION:
    case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS:
      return true;
    default:
      return false;
  }
}

}  // namespace edi
