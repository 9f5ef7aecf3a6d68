#include "commands/query_args.h"

#include <cctype>
#include <cstdio>

#include "decode/decoder.h"

namespace edi {

std::optional<TimeArg> ParseTimeArg(const std::string& text) {
  if (auto t = ParseRfc3339(text)) return TimeArg{t, std::nullopt};
  if (text.size() == 10) {  // YYYY-MM-DD: midnight UTC
    if (auto t = ParseRfc3339(text + "T00:00:00Z")) return TimeArg{t, std::nullopt};
  }
  if (auto d = ParseDuration(text)) return TimeArg{std::nullopt, d};
  return std::nullopt;
}

int ResolveTimeArgs(const char* command, const std::string& since_text,
                    const std::string& until_text,
                    const std::function<bool(std::optional<EventTime>*)>& newest,
                    std::optional<EventTime>* since, std::optional<EventTime>* until) {
  std::optional<TimeArg> s, u;
  for (auto [text, name, arg] :
       {std::tuple{&since_text, "--since", &s}, std::tuple{&until_text, "--until", &u}}) {
    if (text->empty()) continue;
    *arg = ParseTimeArg(*text);
    if (!*arg) {
      std::fprintf(stderr,
                   "edi-audit %s: %s '%s' is neither an RFC 3339 time, a date nor a duration "
                   "such as 7d (up to 100000d)\n",
                   command, name, text->c_str());
      return 2;
    }
  }
  if ((s && s->back) || (u && u->back)) {
    std::optional<EventTime> anchor;
    if (!newest(&anchor)) return 1;
    // An empty database has no newest time, and nothing for the filter to select.
    if (s && s->back) s->absolute = anchor.value_or(0) - *s->back;
    if (u && u->back) u->absolute = anchor.value_or(0) - *u->back;
  }
  *since = s ? s->absolute : std::nullopt;
  *until = u ? u->absolute : std::nullopt;
  if (*since && *until && **since >= **until) {
    std::fprintf(stderr,
                 "edi-audit %s: --since %s is not before --until %s: nothing lies between\n",
                 command, FormatRfc3339(**since).c_str(), FormatRfc3339(**until).c_str());
    return 2;
  }
  return 0;
}

bool MessageIdArg(const char* command, const std::string& text, std::string* out) {
  out->clear();
  for (const char c : text)
    out->push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (out->empty() || IsUuid(*out)) return true;
  std::fprintf(stderr, "edi-audit %s: --message '%s' is not a message id (a UUID)\n", command,
               text.c_str());
  return false;
}

}  // namespace edi
