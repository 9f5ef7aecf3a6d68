"""The figures of the produce-to-alert latency benchmark (tools/bench/alert_latency.py): nearest-rank
percentiles, per-window summaries, the comparison with the generator's ground truth, and the
printed report. Standard library only."""

import json
import sys


def percentile(sorted_values, q):
    """Nearest rank: the smallest value with at least q of the values at or below it."""
    if not sorted_values:
        return None
    k = max(0, min(len(sorted_values) - 1, int(-(-q * len(sorted_values) // 1)) - 1))
    return sorted_values[k]


def summary(values):
    v = sorted(values)
    if not v:
        return {"count": 0}
    return {
        "count": len(v),
        "min_ms": round(v[0], 1),
        "p50_ms": round(percentile(v, 0.50), 1),
        "p90_ms": round(percentile(v, 0.90), 1),
        "p99_ms": round(percentile(v, 0.99), 1),
        "max_ms": round(v[-1], 1),
        "mean_ms": round(sum(v) / len(v), 1),
    }


def windows(rows, first_ms, width_s):
    """p50/p99 per window of produce time: a latency that grows from window to window means
    the daemon is falling behind the rate."""
    by = {}
    for produced_at, latency in rows:
        by.setdefault(int((produced_at - first_ms) / 1000.0 // width_s), []).append(latency)
    out = []
    for k in sorted(by):
        s = summary(by[k])
        out.append({"from_s": k * width_s, "to_s": (k + 1) * width_s, "count": s["count"],
                    "p50_ms": s["p50_ms"], "p99_ms": s["p99_ms"], "max_ms": s["max_ms"]})
    return out


def compare_truth(path, raised, produced_lines):
    """The findings beside the generator's ground truth for the records produced: a check that
    the figures are about the findings the traffic should raise. Records of one party, or of
    one client, can be reordered across partitions, which makes rules that depend on the order
    of calls by different keys miss or add findings; the posture finding
    edi.herid-claim-whole-org is raised by benign traffic and is not in the ground truth."""
    expected = set()
    with open(path) as f:
        for line in f:
            t = json.loads(line)
            if t["rule"] == "quarantine" or t.get("line", 0) > produced_lines:
                continue
            expected.add((t["rule"], t["requestId"]))
    got = {(rule, rid) for rule, rid, _ in raised}
    extra_by_rule = {}
    extra_high = 0
    for rule, rid, severity in raised:
        if (rule, rid) in expected:
            continue
        extra_by_rule[rule] = extra_by_rule.get(rule, 0) + 1
        if severity in ("high", "critical"):
            extra_high += 1
    missed_by_rule = {}
    for rule, rid in expected - got:
        missed_by_rule[rule] = missed_by_rule.get(rule, 0) + 1
    return {
        "expected": len(expected),
        "found": len(expected & got),
        "missed": len(expected - got),
        "unexpected": sum(extra_by_rule.values()),
        "unexpected_high_or_critical": extra_high,
        "missed_by_rule": dict(sorted(missed_by_rule.items())),
        "unexpected_by_rule": dict(sorted(extra_by_rule.items())),
    }


def print_report(r):
    """The summary lines come last, so that a caller keeping only the tail of the output (as
    tools/bench/bench.py does with six lines) keeps the figures."""
    s = r["settings"]
    print()
    print("produce-to-alert latency, %s records/s target, %s s measured after %s s warm-up"
          % (r["target_rate"], r["measured_seconds"], r["warmup_seconds"]))
    if s:
        print("  daemon: " + ", ".join("%s=%s" % kv for kv in s.items()))
    d = r.get("detection")
    if d:
        print("  against the ground truth: %d of %d expected findings raised, %d missed; %d "
              "others (%d high/critical)" % (d["found"], d["expected"], d["missed"],
                                            d["unexpected"], d["unexpected_high_or_critical"]))
    if r["windows"]:
        print("  per %d s of produce time (p50 / p99 / max ms): %s" % (
            r["windows"][0]["to_s"] - r["windows"][0]["from_s"],
            "  ".join("%.0f/%.0f/%.0f" % (w["p50_ms"], w["p99_ms"], w["max_ms"])
                      for w in r["windows"])))
    print("  produced %d records; achieved rate %d records/s (%d with warm-up)"
          % (r["records_produced"], r["achieved_rate"], r["achieved_rate_incl_warmup"]))
    caught = r["daemon_caught_up_s_after_produce"]
    print("  daemon lag: max %d records while producing, %s at the end; caught up %s%s"
          % (r["daemon_max_lag_records"], r["daemon_lag_at_end_of_produce"],
             "%.2f s later" % caught if caught is not None else "NOT within the timeout",
             "" if caught is not None and caught < 2 else " (it does NOT keep up with the rate)"))
    print("  findings %d (plus %d from warm-up records; %d not joined to an input record)"
          % (r["findings"], r["findings_in_warmup"], r["findings_unmatched"]))
    print("  %-42s %8s %8s %8s %8s %8s" % ("latency (ms)", "p50", "p90", "p99", "max", "mean"))
    for name, key in (("alert timestamp - record timestamp", "latency_ms"),
                      ("alert read by kcat -C - record timestamp", "latency_received_ms")):
        x = r[key]
        if x["count"]:
            print("  %-42s %8.1f %8.1f %8.1f %8.1f %8.1f"
                  % (name, x["p50_ms"], x["p90_ms"], x["p99_ms"], x["max_ms"], x["mean_ms"]))
    sys.stdout.flush()
