#include "commands/wiring.h"

#include <algorithm>
#include <filesystem>

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

Result<std::vector<std::string>> RuleFilesFrom(const Config& config,
                                               const std::vector<std::string>& explicit_files) {
  if (!explicit_files.empty()) return ExpandRuleList(explicit_files, "the rules given");
  if (!config.rules.empty()) return ExpandRuleList(config.rules, "the configured rules");
  return std::vector<std::string>{DefaultRuleFile()};
}

Result<std::vector<std::string>> ExpandRuleList(const std::vector<std::string>& paths,
                                                const std::string& what) {
  // One path given: a directory holding no rule file is named as such.
  if (paths.size() == 1) return ExpandRulePaths(paths, false);
  auto files = ExpandRulePaths(paths, false, /*empty_dirs_ok=*/true);
  if (files.ok() && files->empty()) {
    std::string named;
    for (const std::string& p : paths) named += (named.empty() ? "" : ", ") + p;
    return Status::InvalidArgument(what + " (" + named + ") hold no *.yaml or *.yml files");
  }
  return files;
}

Result<std::vector<std::string>> ExpandRulePaths(const std::vector<std::string>& paths,
                                                 bool skip_private, bool empty_dirs_ok) {
  namespace fs = std::filesystem;
  if (paths.empty()) return std::vector<std::string>{DefaultRuleFile()};
  std::vector<std::string> out;
  for (const std::string& a : paths) {
    std::error_code ec;
    if (!fs::is_directory(a, ec)) {
      out.push_back(a);  // a missing file is reported by whoever reads it
      continue;
    }
    std::vector<std::string> in_dir;
    for (const auto& e : fs::directory_iterator(a, ec)) {
      const std::string name = e.path().filename().string();
      const std::string ext = e.path().extension().string();
      if (!e.is_regular_file() || (ext != ".yaml" && ext != ".yml")) continue;
      if (skip_private && name[0] == '_') continue;
      in_dir.push_back(e.path().string());
    }
    if (ec) return Status::IOError(a + ": " + ec.message());
    if (in_dir.empty() && !empty_dirs_ok) {
      return Status::InvalidArgument(a + ": no *.yaml or *.yml files in this directory" +
                                     (skip_private ? " (other than those starting with '_')" : ""));
    }
    std::sort(in_dir.begin(), in_dir.end());
    out.insert(out.end(), in_dir.begin(), in_dir.end());
  }
  return out;
}

}  // namespace edi
