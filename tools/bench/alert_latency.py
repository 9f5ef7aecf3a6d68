#!/usr/bin/env python3
"""Produce-to-alert latency of `edi-audit run` at a steady produce rate (driven by alert-latency.sh).

    alert_latency.py keys [--key none|her|client] ACCESS_LOG OUT
        writes OUT: one "KEY<TAB>RECORD" line per access-log line, for `kcat -P -K<TAB>`
        (the record alone with --key none).
    alert_latency.py run --bootstrap B --input-topic T --alerts-topic A --data OUT --db DB
                         --rate R --seconds S [--warmup W] [--json FILE] ...
        produces the keyed lines at R records/s while consuming the alerts topic, waits until
        the daemon has stored everything, reads the input topic back and joins each finding's
        requestId to the produce time of the record that raised it.

Latency is `alert timestamp - input record timestamp`. Both are Kafka CreateTime, set by the
producing client (kcat for the input, the daemon's librdkafka producer for the alert) from the
clock of this one machine, so they are comparable. A second figure (`latency_received_ms`)
uses the time this script read the alert from `kcat -C`, i.e. what a consumer of the alerts
topic sees.

Records produced during the first --warmup seconds are produced at the same rate but their
findings are left out of the figures: the first batches pay for cold caches and the group join.
Standard library only.
"""

import argparse
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True

from latency_report import compare_truth, print_report, summary, windows  # noqa: E402

# The first HER-Id a record names: query `HerIds=`/`ReceiverHerIds=`, body `senderHerId`,
# `receiverHerId(s)`, `herId`. `herIdClaim` does not match (a letter follows "herId").
HER_ID = re.compile(rb'(?i)herids?["=:\[\s]*(\d{1,10})')
CLIENT_ID = re.compile(rb'"clientId"\s*:\s*"([^"]*)"')
REQUEST_ID = re.compile(r'"requestId"\s*:\s*"((?:[^"\\]|\\.)*)"')


def now_ms():
    return time.time() * 1000.0


def log(msg):
    sys.stderr.write("alert_latency: %s\n" % msg)
    sys.stderr.flush()


# --------------------------------------------------------------------------- keys
def cmd_keys(args):
    """Keys are computed before the paced run so that the pacer does no per-record work that
    would compete with the daemon for the two cores.

    her:    the first HER-Id the record names (the acting party, as producers are meant to key
            them); a call that names none (a download by message id, a ping) by its client.
    client: the client id, so that each client's calls stay in order on one partition.
    none:   no key; the producer's partitioner spreads the records."""
    n = 0
    with open(args.access_log, "rb") as src, open(args.out, "wb") as dst:
        for line in src:
            line = line.rstrip(b"\n")
            if not line:
                continue
            if args.key == "none":
                dst.write(line + b"\n")
                n += 1
                continue
            m = HER_ID.search(line) if args.key == "her" else None
            if m is None:
                m = CLIENT_ID.search(line)
            key = m.group(1) if m is not None else b"-"
            # kcat splits at the first tab, so a tab inside a (malformed) record stays in it.
            dst.write(key + b"\t" + line + b"\n")
            n += 1
    log("%d records (key: %s) in %s" % (n, args.key, args.out))


# --------------------------------------------------------------------------- helpers
class Children:
    """The kcat processes this script starts; their pids are also written to a file so that
    the calling shell script can end them if this script itself is killed."""

    def __init__(self, pid_file):
        self.procs = []
        self.pid_file = pid_file

    def start(self, argv, **kw):
        p = subprocess.Popen(argv, **kw)
        self.procs.append(p)
        if self.pid_file:
            with open(self.pid_file, "a") as f:
                f.write("%d\n" % p.pid)
        return p

    def stop_all(self):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


class AlertReader(threading.Thread):
    """Reads `kcat -C -u -f '%T\\t%s\\n'` of the alerts topic and stamps each line with the
    time it arrived here."""

    def __init__(self, proc):
        super().__init__(daemon=True)
        self.proc = proc
        self.lines = []  # (received ms, kafka timestamp ms, value)
        self.last_at = None

    def run(self):
        for raw in self.proc.stdout:
            t = now_ms()
            line = raw.decode("utf-8", "replace").rstrip("\n")
            ts, _, value = line.partition("\t")
            if not value:
                continue
            try:
                self.lines.append((t, int(ts), value))
            except ValueError:
                continue
            self.last_at = t


class Progress:
    """Records the daemon has stored so far, from its `source_positions` table (the last
    offset stored per partition; offsets start at 0), read-only beside the running daemon."""

    def __init__(self, db, topic):
        self.db = db
        self.prefix = "kafka:%s/" % topic
        self.conn = None

    def stored(self):
        try:
            if self.conn is None:
                if not os.path.exists(self.db):
                    return 0
                self.conn = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True, timeout=1.0)
            rows = self.conn.execute("SELECT source, position FROM source_positions").fetchall()
        except sqlite3.Error:
            self.conn = None  # the schema may not exist yet right after start
            return 0
        return sum(pos + 1 for src, pos in rows if src.startswith(self.prefix))


def daemon_alive(pid):
    if not pid:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped by the shell) still answers kill 0.
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


# --------------------------------------------------------------------------- run
def pace(args, producer, progress, total):
    """Writes the keyed lines to kcat's stdin in small timed chunks: every tick, as many lines
    as the rate allows up to now. A chunk that cannot be written in time (kcat or the broker
    falling behind) makes the next tick write more, so the average stays at the rate while
    the machine can keep up, and the achieved rate shows when it cannot."""
    tick = args.tick_ms / 1000.0
    out = producer.stdin
    written = 0
    lag_samples = []  # (seconds since start, records written, records stored by the daemon)
    start = time.monotonic()
    next_sample = start + 1.0
    with open(args.data, "rb") as src:
        while written < total:
            now = time.monotonic()
            due = min(total, int((now - start) * args.rate))
            if due > written:
                chunk = []
                for _ in range(due - written):
                    line = src.readline()
                    if not line:
                        break
                    chunk.append(line)
                if not chunk:
                    break
                out.write(b"".join(chunk))
                out.flush()
                written += len(chunk)
            if now >= next_sample:
                stored = progress.stored()
                lag_samples.append((round(now - start, 2), written, stored))
                next_sample += 1.0
                if not daemon_alive(args.daemon_pid):
                    raise RuntimeError("edi-audit exited during the paced run")
                if producer.poll() is not None:
                    raise RuntimeError("kcat -P exited during the paced run")
            sleep = tick - (time.monotonic() - now)
            if sleep > 0:
                time.sleep(sleep)
    elapsed = time.monotonic() - start
    out.close()
    return written, elapsed, lag_samples


def read_input_times(args):
    """(produce timestamp ms, requestId) of every record in the input topic, from the broker:
    the timestamp kcat -P gave each record when it produced it."""
    proc = subprocess.Popen(
        ["kcat", "-C", "-b", args.bootstrap, "-t", args.input_topic, "-o", "beginning", "-e",
         "-q", "-f", "%T\t%s\n"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    times = {}
    produced = []
    duplicates = 0
    for raw in proc.stdout:
        ts, _, value = raw.partition(b"\t")
        try:
            t = int(ts)
        except ValueError:
            continue
        produced.append(t)
        m = REQUEST_ID.search(value.decode("utf-8", "replace"))
        if m is None:
            continue
        rid = m.group(1)
        if rid in times:
            duplicates += 1  # the first one raises the finding; a repeat is a duplicate
            continue
        times[rid] = t
    if proc.wait() != 0:
        raise RuntimeError("kcat -C of the input topic failed")
    produced.sort()
    return times, produced, duplicates


def cmd_run(args):
    children = Children(args.pid_file)
    progress = Progress(args.db, args.input_topic)
    with open(args.data, "rb") as f:
        available = sum(1 for _ in f)
    total = min(available, int(args.rate * (args.seconds + args.warmup)))
    if total < int(args.rate * (args.seconds + args.warmup)):
        log("only %d records in %s; the run is shorter than asked" % (available, args.data))
    try:
        # The alerts consumer runs from the start, so that what it sees arrives live.
        alerts_proc = children.start(
            ["kcat", "-C", "-u", "-q", "-b", args.bootstrap, "-t", args.alerts_topic,
             "-o", "beginning", "-f", "%T\t%s\n"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        reader = AlertReader(alerts_proc)
        reader.start()
        # linger.ms small: a record's timestamp is taken when kcat hands it to librdkafka, and
        # the time it then waits in the producer's queue is part of the measured latency.
        producer = children.start(
            ["kcat", "-P", "-b", args.bootstrap, "-t", args.input_topic,
             "-X", "linger.ms=%d" % args.linger_ms] + ([] if args.key == "none" else ["-K\t"]),
            stdin=subprocess.PIPE, stderr=sys.stderr)

        log("producing %d records at %d records/s (%d s warm-up + %d s measured) ..."
            % (total, args.rate, args.warmup, args.seconds))
        written, pace_secs, lag_samples = pace(args, producer, progress, total)
        if producer.wait(timeout=120) != 0:
            raise RuntimeError("kcat -P failed")
        log("wrote %d records in %.2f s (%.0f records/s)" % (written, pace_secs,
                                                               written / pace_secs))

        # Caught up: every written record stored. Then the findings of the last batch are
        # produced by the daemon right after its commit; wait until the alerts go quiet.
        deadline = time.monotonic() + args.catchup_timeout
        caught_up_after = None
        t_end = time.monotonic()
        while True:
            stored = progress.stored()
            if stored >= written:
                caught_up_after = time.monotonic() - t_end
                break
            if time.monotonic() >= deadline:
                log("the daemon stored %d of %d records within %d s" % (stored, written,
                                                                         args.catchup_timeout))
                break
            if not daemon_alive(args.daemon_pid):
                raise RuntimeError("edi-audit exited before it had caught up")
            time.sleep(0.1)
        quiet_since = time.monotonic()
        seen = len(reader.lines)
        while time.monotonic() - quiet_since < args.settle_s:
            time.sleep(0.2)
            if len(reader.lines) != seen:
                seen = len(reader.lines)
                quiet_since = time.monotonic()
        final_lag = written - progress.stored()
    finally:
        children.stop_all()

    log("reading the input topic back for the produce times ...")
    input_times, produced, duplicate_ids = read_input_times(args)
    if len(produced) != written:
        log("the input topic holds %d records, %d were written" % (len(produced), written))
    first = produced[0]
    measure_from = first + args.warmup * 1000.0
    measured_produced = [t for t in produced if t >= measure_from]
    span = (measured_produced[-1] - measured_produced[0]) / 1000.0 if measured_produced else 0
    achieved = (len(measured_produced) - 1) / span if span > 0 else 0.0
    overall_span = (produced[-1] - produced[0]) / 1000.0
    overall_rate = (len(produced) - 1) / overall_span if overall_span > 0 else 0.0

    # One latency per finding: a finding redelivered (retries, restarts) counts once, at its
    # first appearance.
    findings = {}
    raised = []  # (rule, requestId, severity) of every finding, warm-up included
    bad = unmatched = 0
    rules = {}
    for received, ts, value in reader.lines:
        try:
            f = json.loads(value)
        except ValueError:
            bad += 1
            continue
        fid = f.get("id")
        if fid in findings:
            continue
        rid = f.get("requestId")
        raised.append((f.get("rule"), rid, f.get("severity")))
        if rid not in input_times:
            unmatched += 1
            findings[fid] = None
            continue
        findings[fid] = (input_times[rid], ts, received, f.get("rule"))
    created_rows, received_rows = [], []
    warmup_findings = 0
    for row in findings.values():
        if row is None:
            continue
        produced_at, alert_ts, received, rule = row
        if produced_at < measure_from:
            warmup_findings += 1
            continue
        created_rows.append((produced_at, alert_ts - produced_at))
        received_rows.append((produced_at, received - produced_at))
        rules[rule] = rules.get(rule, 0) + 1

    detection = compare_truth(args.truth, raised, written) if args.truth else None
    created = summary([l for _, l in created_rows])
    received = summary([l for _, l in received_rows])
    max_lag = max((w - s for _, w, s in lag_samples), default=0)
    result = {
        "target_rate": args.rate,
        "measured_seconds": args.seconds,
        "warmup_seconds": args.warmup,
        "settings": json.loads(args.settings) if args.settings else {},
        "records_produced": len(produced),
        "achieved_rate": round(achieved),
        "achieved_rate_incl_warmup": round(overall_rate),
        "pacer_seconds": round(pace_secs, 2),
        "daemon_max_lag_records": max_lag,
        "daemon_lag_at_end_of_produce": lag_samples[-1][1] - lag_samples[-1][2] if lag_samples else None,
        "daemon_caught_up_s_after_produce": round(caught_up_after, 2) if caught_up_after is not None else None,
        "daemon_lag_at_end": final_lag,
        "findings": created["count"],
        "findings_in_warmup": warmup_findings,
        "findings_unmatched": unmatched,
        "alerts_unparsable": bad,
        "duplicate_request_ids_in_input": duplicate_ids,
        "latency_ms": created,
        "latency_received_ms": received,
        "windows": windows(created_rows, measure_from, args.window_s),
        "lag_samples": [{"t_s": t, "written": w, "stored": s} for t, w, s in lag_samples],
        "findings_by_rule": dict(sorted(rules.items())),
        "detection": detection,
    }
    print_report(result)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
            f.write("\n")
    return 0 if created["count"] > 0 else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    k = sub.add_parser("keys")
    k.add_argument("--key", choices=("her", "client", "none"), default="her")
    k.add_argument("access_log")
    k.add_argument("out")
    r = sub.add_parser("run")
    r.add_argument("--bootstrap", required=True)
    r.add_argument("--input-topic", required=True)
    r.add_argument("--alerts-topic", required=True)
    r.add_argument("--data", required=True, help="lines from `keys`")
    r.add_argument("--key", choices=("her", "client", "none"), default="her",
                   help="as given to `keys`")
    r.add_argument("--truth", default="", help="the generator's ground-truth.jsonl")
    r.add_argument("--db", required=True, help="the daemon's SQLite database")
    r.add_argument("--rate", type=int, default=20000)
    r.add_argument("--seconds", type=int, default=30)
    r.add_argument("--warmup", type=int, default=3)
    r.add_argument("--tick-ms", type=float, default=5.0)
    r.add_argument("--linger-ms", type=int, default=5)
    r.add_argument("--window-s", type=int, default=5)
    r.add_argument("--settle-s", type=float, default=2.0)
    r.add_argument("--catchup-timeout", type=int, default=180)
    r.add_argument("--daemon-pid", type=int, default=0)
    r.add_argument("--pid-file", default="")
    r.add_argument("--settings", default="", help="JSON object copied into the result")
    r.add_argument("--json", default="")
    args = ap.parse_args()
    # SIGTERM from the calling script: leave through the finally blocks, which end the kcats.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.cmd == "keys":
        cmd_keys(args)
        return 0
    try:
        return cmd_run(args)
    except (RuntimeError, subprocess.SubprocessError, OSError) as e:
        log("failed: %s" % e)
        return 1


if __name__ == "__main__":
    sys.exit(main())
