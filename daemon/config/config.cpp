#include "config/config.h"

#include <yaml-cpp/yaml.h>
#include <algorithm>

#include <cctype>
#include <functional>
#include <map>
#include <optional>

#include "common/schema.h"
#include "common/yaml_document.h"
#include "state/ownership.h"

namespace edi {
namespace {

std::string Where(const std::string& name, const YAML::Node& n) {
  return name + ":" + std::to_string(n.Mark().line + 1);
}

// Walks a mapping, dispatching each key to a handler; unknown keys are errors.
using Handler = std::function<Status(const YAML::Node&, const std::string& key)>;

Status Walk(const YAML::Node& map, const std::string& name, const std::string& prefix,
            const std::map<std::string, Handler>& handlers) {
  if (!map.IsMap()) {
    if (prefix.empty()) {
      return Status::InvalidArgument(Where(name, map) +
                                     ": the configuration must be a mapping of keys to values");
    }
    return Status::InvalidArgument(Where(name, map) + ": '" + prefix + "' must be a mapping");
  }
  for (const auto& kv : map) {
    const std::string key = kv.first.as<std::string>();
    const std::string full = prefix.empty() ? key : prefix + "." + key;
    auto it = handlers.find(key);
    if (it == handlers.end()) {
      std::string known;
      for (const auto& [k, h] : handlers) known += (known.empty() ? "" : ", ") + k;
      return Status::InvalidArgument(Where(name, kv.first) + ": unknown key '" + full +
                                     "' (known here: " + known + ")");
    }
    if (Status s = it->second(kv.second, full); !s.ok()) return s;
  }
  return Status::OK();
}

Handler Size(size_t* out, const std::string& name, size_t min, size_t max) {
  return [=](const YAML::Node& n, const std::string& key) {
    size_t v = 0;
    if (!n.IsScalar() || !YAML::convert<size_t>::decode(n, v) || v < min || v > max) {
      return Status::InvalidArgument(Where(name, n) + ": key '" + key +
                                     "' must be an integer from " + std::to_string(min) + " to " +
                                     std::to_string(max));
    }
    *out = v;
    return Status::OK();
  };
}

Handler Bool(bool* out, const std::string& name) {
  return [=](const YAML::Node& n, const std::string& key) {
    bool v = false;
    if (!n.IsScalar() || !YAML::convert<bool>::decode(n, v)) {
      return Status::InvalidArgument(Where(name, n) + ": key '" + key + "' must be true or false");
    }
    *out = v;
    return Status::OK();
  };
}

Handler OneOf(std::string* out, const std::string& name, std::vector<std::string> allowed) {
  return [=](const YAML::Node& n, const std::string& key) {
    if (n.IsScalar()) {
      for (const auto& a : allowed) {
        if (n.Scalar() == a) {
          *out = a;
          return Status::OK();
        }
      }
    }
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    return Status::InvalidArgument(Where(name, n) + ": key '" + key + "' must be one of " + list);
  };
}

Handler NonEmpty(std::string* out, const std::string& name) {
  return [out, name](const YAML::Node& n, const std::string& key) {
    if (!n.IsScalar() || n.Scalar().empty()) {
      return Status::InvalidArgument(Where(name, n) + ": key '" + key +
                                     "' must be a non-empty string");
    }
    *out = n.Scalar();
    return Status::OK();
  };
}

// A list of non-empty strings; a single string is a list of one.
Handler StringList(std::vector<std::string>* out, const std::string& name,
                   const std::function<std::string(const std::string&)>& check = nullptr) {
  return [=](const YAML::Node& n, const std::string& key) {
    std::vector<YAML::Node> items;
    if (n.IsScalar()) {
      items.push_back(n);
    } else if (n.IsSequence()) {
      for (const auto& item : n) items.push_back(item);
    } else {
      return Status::InvalidArgument(Where(name, n) + ": key '" + key +
                                     "' must be a list of strings");
    }
    out->clear();
    for (const YAML::Node& item : items) {
      if (!item.IsScalar() || item.Scalar().empty()) {
        return Status::InvalidArgument(Where(name, item) + ": key '" + key +
                                       "' must be a list of non-empty strings");
      }
      if (check) {
        if (std::string why = check(item.Scalar()); !why.empty()) {
          return Status::InvalidArgument(Where(name, item) + ": key '" + key + "': " + why);
        }
      }
      if (std::find(out->begin(), out->end(), item.Scalar()) != out->end()) {
        return Status::InvalidArgument(Where(name, item) + ": key '" + key + "': '" +
                                       item.Scalar() + "' is listed twice");
      }
      out->push_back(item.Scalar());
    }
    return Status::OK();
  };
}

// Kafka's rule for topic names; a typo here would otherwise only show as a consumer error.
std::string CheckTopic(const std::string& t) {
  if (t.size() > 249 || t == "." || t == "..") return "'" + t + "' is not a valid topic name";
  for (char c : t) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      return "'" + t + "' is not a valid topic name (letters, digits, '.', '_' and '-' only)";
    }
  }
  return "";
}

Handler Topic(std::string* out, const std::string& name) {
  return [=](const YAML::Node& n, const std::string& key) {
    if (Status s = NonEmpty(out, name)(n, key); !s.ok()) return s;
    if (std::string why = CheckTopic(*out); !why.empty()) {
      return Status::InvalidArgument(Where(name, n) + ": key '" + key + "': " + why);
    }
    return Status::OK();
  };
}

// "host:port" (an IPv6 host in brackets); port 0 asks the system for a free one.
Handler HostPort(std::string* out, const std::string& name) {
  return [=](const YAML::Node& n, const std::string& key) {
    const std::string v = n.IsScalar() ? n.Scalar() : std::string();
    const size_t colon = v.rfind(':');
    bool ok =
        colon != std::string::npos && colon > 0 && colon + 1 < v.size() && colon + 6 >= v.size();
    for (size_t i = colon + 1; ok && i < v.size(); ++i) ok = std::isdigit(v[i]) != 0;
    if (ok && std::stoul(v.substr(colon + 1)) > 65535) {
      return Status::InvalidArgument(Where(name, n) + ": key '" + key + "': port " +
                                     v.substr(colon + 1) + " is out of range (0 to 65535)");
    }
    // getaddrinfo takes '*' for a host name and yields the loopback address: not what it
    // seems to say.
    if (ok && v.substr(0, colon) == "*") {
      return Status::InvalidArgument(Where(name, n) + ": key '" + key + "': '*' is no address (" +
                                     "0.0.0.0 listens on every IPv4 address, [::] on every IPv6 "
                                     "one)");
    }
    if (!ok) {
      return Status::InvalidArgument(Where(name, n) + ": key '" + key +
                                     "' must be HOST:PORT, e.g. 127.0.0.1:9464");
    }
    *out = v;
    return Status::OK();
  };
}

// librdkafka properties, passed through as text; librdkafka checks them at startup, and the
// lines recorded here let its complaint name the line.
Handler Properties(std::vector<Config::KafkaProperty>* out, const std::string& name) {
  return [=](const YAML::Node& n, const std::string& key) {
    if (!n.IsMap()) {
      return Status::InvalidArgument(Where(name, n) + ": key '" + key +
                                     "' must be a mapping of librdkafka properties");
    }
    out->clear();
    for (const auto& kv : n) {
      const std::string prop = kv.first.as<std::string>();
      if (!kv.second.IsScalar()) {
        return Status::InvalidArgument(Where(name, kv.second) + ": key '" + key + "." + prop +
                                       "' must be a single value (write nested librdkafka "
                                       "names with dots, e.g. 'ssl.ca.location')");
      }
      out->push_back({prop, kv.second.Scalar(), Where(name, kv.first)});
    }
    return Status::OK();
  };
}

// `min`: the shortest accepted, with the reason given when shorter (none: just above zero).
Handler Duration(EventTime* out, const std::string& name, EventTime min = 1,
                 const char* why_min = nullptr) {
  return [=](const YAML::Node& n, const std::string& key) {
    std::optional<EventTime> d;
    if (n.IsScalar()) d = ParseDuration(n.Scalar());
    if (!d || *d <= 0) {
      return Status::InvalidArgument(
          Where(name, n) + ": key '" + key +
          "' must be a duration such as 30d, 12h, 10m, 45s or 500ms (up to 100000d)");
    }
    if (*d < min) {
      return Status::InvalidArgument(Where(name, n) + ": key '" + key + "' must be at least " +
                                     (min % kMillisPerHour == 0
                                          ? std::to_string(min / kMillisPerHour) + "h"
                                          : std::to_string(min) + "ms") +
                                     (why_min ? std::string(" (") + why_min + ")" : ""));
    }
    *out = *d;
    return Status::OK();
  };
}

Handler Share(double* out, const std::string& name) {
  return [=](const YAML::Node& n, const std::string& key) {
    double v = -1;
    // Written so that NaN, which compares false with everything, fails too.
    if (!n.IsScalar() || !YAML::convert<double>::decode(n, v) || !(v > 0 && v <= 1)) {
      return Status::InvalidArgument(Where(name, n) + ": key '" + key +
                                     "' must be a share above 0 and at most 1, e.g. 0.8");
    }
    *out = v;
    return Status::OK();
  };
}

Handler Section(const std::string& name, std::map<std::string, Handler> handlers) {
  return [=](const YAML::Node& n, const std::string& key) { return Walk(n, name, key, handlers); };
}

}  // namespace

Result<Config> ParseConfig(const std::string& text, const std::string& name) {
  Config c;
  YAML::Node root;
  try {
    root = LoadOneYamlDocument(text);
    RefuseQuotedScalarsAcrossLines(root, text);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(name + ":" + std::to_string(e.mark.line + 1) + ":" +
                                   std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  if (root.IsNull()) return c;
  const std::map<std::string, Handler> handlers = {
      {"registry", NonEmpty(&c.registry_dir, name)},
      {"database", NonEmpty(&c.database, name)},
      {"log_level", OneOf(&c.log_level, name, {"trace", "debug", "info", "warn", "error"})},
      {"decode",
       Section(name,
               {{"max_record_bytes", Size(&c.decode.max_record_bytes, name, 1024, 64u << 20)},
                {"max_parties_per_call", Size(&c.decode.max_parties_per_call, name, 1, 1000000)}})},
      {"store", Section(name, {{"batch_size", Size(&c.store.batch_size, name, 1, 1000000)},
                               {"keep_raw_records", Bool(&c.store.keep_raw_records, name)},
                               {"max_quarantine_bytes",
                                Size(&c.store.max_quarantine_bytes, name, 0, 64u << 20)}})},
      {"rules", StringList(&c.rules, name)},
      {"state",
       Section(name, {{"learn_window", Duration(&c.state.learn_window, name, kOwnerCountPeriod,
                                                "owner actions are counted per 6 hours")},
                      {"learn_min_actions", Size(&c.state.learn_min_actions, name, 1, 1000000)},
                      {"learn_min_share", Share(&c.state.learn_min_share, name)},
                      {"learning_period", Duration(&c.state.learning_period, name)},
                      {"sweep_window", Duration(&c.state.sweep_window, name)},
                      {"shared_window", Duration(&c.state.shared_window, name)},
                      {"stale_lock_after", Duration(&c.state.stale_lock_after, name)},
                      {"ttl", Duration(&c.state.ttl, name)}})},
      {"findings", Section(name, {{"repeat_window", Duration(&c.findings.repeat_window, name)}})},
      {"kafka", Section(name, {{"brokers", NonEmpty(&c.kafka.brokers, name)},
                               {"topics", StringList(&c.kafka.topics, name, CheckTopic)},
                               {"group_id", NonEmpty(&c.kafka.group_id, name)},
                               {"alerts_topic", Topic(&c.kafka.alerts_topic, name)},
                               {"consumer", Properties(&c.kafka.consumer, name)},
                               {"producer", Properties(&c.kafka.producer, name)}})},
      {"run", Section(name, {{"batch_max_ms", Size(&c.run.batch_max_ms, name, 1, 600000)},
                             {"reorder_ms", Size(&c.run.reorder_ms, name, 0, 60000)},
                             {"kafka_unreachable_ms",
                              Size(&c.run.kafka_unreachable_ms, name, 1000, 86400000)}})},
      {"http", Section(name, {{"listen", HostPort(&c.http.listen, name)}})},
  };
  try {
    if (Status s = Walk(root, name, "", handlers); !s.ok()) return s;
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(name + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  // The daemon would read its own findings back as access-log records.
  if (!c.kafka.alerts_topic.empty() && std::find(c.kafka.topics.begin(), c.kafka.topics.end(),
                                                 c.kafka.alerts_topic) != c.kafka.topics.end()) {
    return Status::InvalidArgument(name + ": kafka.alerts_topic '" + c.kafka.alerts_topic +
                                   "' is also in kafka.topics: the findings would be read back "
                                   "as access-log records");
  }
  return c;
}

Result<Config> LoadConfig(const std::string& path) {
  std::string text;
  if (Status s = ReadFile(path, &text); !s.ok()) return s;
  return ParseConfig(text, path);
}

}  // namespace edi
