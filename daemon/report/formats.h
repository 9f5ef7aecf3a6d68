// Internal to report/: one function per output format, dispatched by FormatFindings.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "detect/finding.h"

namespace edi {

// The evidence as a compact JSON object (see report.h for evidence that is not one).
std::string EvidenceJson(const std::string& evidence);

std::string FormatFindingsJson(std::span<const Finding> findings);
std::string FormatFindingsJsonl(std::span<const Finding> findings);
std::string FormatFindingsTable(std::span<const Finding> findings);
std::string FormatFindingsCsv(std::span<const Finding> findings);

}  // namespace edi
