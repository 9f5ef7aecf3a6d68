// Shared wiring of the commands that run the pipeline (replay, run, rules test): configuration
// to stage options, and the rule files to load.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "config/config.h"
#include "pipeline/pipeline.h"

namespace edi {

PipelineOptions PipelineOptionsFrom(const Config& config);

// `explicit_files` if given, else the configuration's `rules`, else the shipped default pack;
// directories among them expanded (ExpandRulePaths).
Result<std::vector<std::string>> RuleFilesFrom(const Config& config,
                                               const std::vector<std::string>& explicit_files);

// The files of the given rule files and directories (a directory's *.yaml and *.yml in name order,
// without those starting with '_' when `skip_private`); the default pack when none are given.
// A directory without such files is an error naming it (it stands for files that are not
// there), unless `empty_dirs_ok`: a configuration's drop-in directory may be empty.
Result<std::vector<std::string>> ExpandRulePaths(const std::vector<std::string>& paths,
                                                 bool skip_private, bool empty_dirs_ok = false);

// A list of rule files and directories as run, replay and `rules check` read it: a directory
// may be empty (a rules.d without local files) as long as the list holds some file; an empty
// directory alone, or a list holding none, is an error naming it (`what` names the list).
Result<std::vector<std::string>> ExpandRuleList(const std::vector<std::string>& paths,
                                                const std::string& what);

}  // namespace edi
