#include "source/event_time_merge.h"

#include <algorithm>

namespace edi {

std::optional<EventTime> PeekEventTime(std::string_view record) {
  // The first "timestamp" key at nesting depth 1 (the contract's nested objects have none, but
  // unknown extra fields may), skipping the contents of strings.
  constexpr std::string_view kKey = "\"timestamp\"";
  int depth = 0;
  for (size_t i = 0; i < record.size(); ++i) {
    const char c = record[i];
    if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      --depth;
    } else if (c == '"') {
      if (depth == 1 && record.compare(i, kKey.size(), kKey) == 0) {
        size_t j = i + kKey.size();
        while (j < record.size() && (record[j] == ' ' || record[j] == '\t')) ++j;
        if (j >= record.size() || record[j] != ':') return std::nullopt;
        ++j;
        while (j < record.size() && (record[j] == ' ' || record[j] == '\t')) ++j;
        if (j >= record.size() || record[j] != '"') return std::nullopt;
        const size_t end = record.find('"', j + 1);
        if (end == std::string_view::npos) return std::nullopt;
        return ParseRfc3339(record.substr(j + 1, end - j - 1));
      }
      // Skip the string, escapes included.
      for (++i; i < record.size() && record[i] != '"'; ++i) {
        if (record[i] == '\\') ++i;
      }
    }
  }
  return std::nullopt;
}

void EventTimeMerge::AddPartition(const std::string& source) { partitions_.try_emplace(source); }

size_t EventTimeMerge::RemovePartition(const std::string& source) {
  auto it = partitions_.find(source);
  if (it == partitions_.end()) return 0;
  const size_t dropped = it->second.queue.size();
  held_ -= dropped;
  partitions_.erase(it);
  return dropped;
}

size_t EventTimeMerge::held(std::string_view source) const {
  auto it = partitions_.find(source);
  return it == partitions_.end() ? 0 : it->second.queue.size();
}

void EventTimeMerge::Add(RawRecord r, Clock::time_point now) {
  Partition& p = partitions_[r.where.source];
  const std::optional<EventTime> t = PeekEventTime(r.bytes);
  // Kafka order within the partition is kept: a record never goes before one read earlier.
  const EventTime time = t ? std::max(*t, p.latest) : p.latest;
  p.latest = time;
  p.queue.push_back({std::move(r), time, now});
  ++held_;
}

EventTimeMerge::Partition* EventTimeMerge::Earliest() {
  Partition* best = nullptr;
  for (auto& [source, p] : partitions_) {
    if (!p.queue.empty() && (best == nullptr || p.queue.front().time < best->queue.front().time)) {
      best = &p;
    }
  }
  return best;
}

bool EventTimeMerge::MayGo(const Partition& from, Clock::time_point now, bool caught_up,
                           bool* early) const {
  *early = false;
  const Held& head = from.queue.front();
  if (wait_.count() == 0) return true;
  if (std::all_of(partitions_.begin(), partitions_.end(), [&](const auto& entry) {
        return &entry.second == &from || entry.second.latest >= head.time;
      })) {
    return true;
  }
  // Past the deadline of the record read longest ago, the earliest ones go until it has gone:
  // the order of event time is kept even then.
  *early = held_ > max_held_ || (caught_up && now >= *NextDeadline());
  return *early;
}

void EventTimeMerge::Pop(Partition* p, std::vector<RawRecord>* out) {
  out->push_back(std::move(p->queue.front().record));
  p->queue.pop_front();
  --held_;
}

void EventTimeMerge::Release(Clock::time_point now, bool caught_up, size_t limit,
                             std::vector<RawRecord>* out) {
  for (size_t n = 0; n < limit; ++n) {
    Partition* p = Earliest();
    bool early = false;
    if (p == nullptr || !MayGo(*p, now, caught_up, &early)) return;
    if (early) ++released_early_;
    Pop(p, out);
    // A partition emptied just now may have more to read: nothing goes for having waited
    // before it has been looked at again.
    if (p->queue.empty()) caught_up = false;
  }
}

void EventTimeMerge::ReleaseAll(std::vector<RawRecord>* out) {
  while (Partition* p = Earliest()) Pop(p, out);
}

std::optional<EventTimeMerge::Clock::time_point> EventTimeMerge::NextDeadline() const {
  std::optional<Clock::time_point> first;
  for (const auto& [source, p] : partitions_) {
    if (!p.queue.empty()) {
      // Within a partition records are read in order: the head was read first.
      const Clock::time_point due = p.queue.front().read + wait_;
      if (!first || due < *first) first = due;
    }
  }
  return first;
}

}  // namespace edi
