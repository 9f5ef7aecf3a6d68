#include "source/event_time_merge.h"

#include <algorithm>
#include <utility>

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

void EventTimeMerge::AddPartition(const std::string& source) {
  partitions_.try_emplace(source).first->second.empty_since = Clock::now();
}

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

void EventTimeMerge::SetFetch(std::string_view source, Fetch fetch) {
  if (auto it = partitions_.find(source); it != partitions_.end()) it->second.fetch = fetch;
}

void EventTimeMerge::Add(RawRecord r, Clock::time_point arrived) {
  Partition& p = partitions_[r.where.source];
  p.fetch = Fetch::kUnknown;
  const std::optional<EventTime> t = PeekEventTime(r.bytes);
  // Kafka order within the partition is kept: a record never goes before one read earlier.
  const EventTime time = t ? std::max(*t, p.latest) : p.latest;
  p.latest = time;
  p.queue.push_back({std::move(r), time, arrived});
  ++held_;
}

EventTimeMerge::Partition* EventTimeMerge::Earliest() {
  return const_cast<Partition*>(std::as_const(*this).Earliest());
}

const EventTimeMerge::Partition* EventTimeMerge::Earliest() const {
  const Partition* best = nullptr;
  for (const auto& [source, p] : partitions_) {
    if (!p.queue.empty() && (best == nullptr || p.queue.front().time < best->queue.front().time)) {
      best = &p;
    }
  }
  return best;
}

bool EventTimeMerge::Blocks(const Partition& other, const Partition& from) const {
  const EventTime head = from.queue.front().time;
  return &other != &from && other.latest < head;
}

bool EventTimeMerge::Lagging(const Partition& from) const {
  return std::any_of(partitions_.begin(), partitions_.end(), [&](const auto& entry) {
    return entry.second.fetch == Fetch::kBehind && Blocks(entry.second, from);
  });
}

std::optional<EventTimeMerge::Clock::time_point> EventTimeMerge::Due(const Partition& from) const {
  const auto wait = Lagging(from) ? 10 * wait_ : wait_;
  // A held record has waited long enough since it arrived (a partition's head arrived first,
  // as far as anyone can tell)...
  std::optional<Clock::time_point> due;
  for (const auto& [source, p] : partitions_) {
    if (!p.queue.empty() && (!due || p.queue.front().arrived + wait < *due)) {
      due = p.queue.front().arrived + wait;
    }
  }
  if (!due) return std::nullopt;
  // ... and every partition that holds `from` up has had nothing for as long (one that holds it
  // up has nothing here: its records would be earlier).
  for (const auto& [source, p] : partitions_) {
    if (Blocks(p, from)) due = std::max(*due, p.empty_since + wait);
  }
  return due;
}

EventTimeMerge::Go EventTimeMerge::MayGo(const Partition& from, Clock::time_point now,
                                         bool caught_up) const {
  if (wait_.count() == 0) return Go::kInOrder;
  if (std::none_of(partitions_.begin(), partitions_.end(),
                   [&](const auto& entry) { return Blocks(entry.second, from); })) {
    return Go::kInOrder;
  }
  if (held_ > max_held_) return Go::kEarly;
  // Past the deadline the earliest records go, in event-time order, until one of the partitions
  // holding them up runs empty here.
  if (!caught_up || now < *Due(from)) return Go::kNo;
  return Lagging(from) ? Go::kEarly : Go::kPastQuiet;
}

void EventTimeMerge::Pop(Partition* p, Clock::time_point now, std::vector<RawRecord>* out) {
  out->push_back(std::move(p->queue.front().record));
  p->queue.pop_front();
  --held_;
  if (p->queue.empty()) p->empty_since = now;
}

void EventTimeMerge::Release(Clock::time_point now, bool caught_up, size_t limit,
                             std::vector<RawRecord>* out) {
  for (size_t n = 0; n < limit; ++n) {
    Partition* p = Earliest();
    const Go go = p == nullptr ? Go::kNo : MayGo(*p, now, caught_up);
    if (go == Go::kNo) return;
    if (go == Go::kEarly) ++released_early_;
    if (go == Go::kPastQuiet) ++released_past_quiet_;
    Pop(p, now, out);
    // A partition emptied just now may have more to read: nothing goes for having waited
    // before it has been looked at again.
    if (p->queue.empty()) caught_up = false;
  }
}

std::optional<EventTimeMerge::Clock::time_point> EventTimeMerge::NextDeadline() const {
  const Partition* first = Earliest();
  if (first == nullptr) return std::nullopt;
  return Due(*first);
}

}  // namespace edi
