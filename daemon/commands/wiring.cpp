#include "commands/wiring.h"

#include "common/schema.h"

namespace edi {

PipelineOptions PipelineOptionsFrom(const Config& config) {
  PipelineOptions o;
  o.state.learn_window = config.state.learn_window;
  o.state.learn_min_actions = static_cast<uint32_t>(config.state.learn_min_actions);
  o.state.learn_min_share = config.state.learn_min_share;
  o.state.learning_period = config.state.learning_period;
  o.state.sweep_window = config.state.sweep_window;
  o.state.shared_window = config.state.shared_window;
  o.state.stale_lock_after = config.state.stale_lock_after;
  o.state.ttl = config.state.ttl;
  o.findings.window = config.findings.repeat_window;
  return o;
}

std::vector<std::string> RuleFilesFrom(const Config& config,
                                       const std::vector<std::string>& explicit_files) {
  if (!explicit_files.empty()) return explicit_files;
  if (!config.rules.empty()) return config.rules;
  return {DefaultRuleFile()};
}

}  // namespace edi
