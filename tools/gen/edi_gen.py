#!/usr/bin/env python3
"""Synthetic EDI 2.0 access-log traffic for edi-audit, with injected incidents and ground truth.

    python3 tools/gen/edi_gen.py --seed 1 --records 1000000 --days 14 --out /tmp/edi
    python3 tools/gen/edi_gen.py --selftest

Writes OUT/registry/*.jsonl (reference snapshots, shared/EVENTS.md), OUT/access-log.jsonl,
OUT/ground-truth.jsonl (every finding the injected incidents should raise) and OUT/world.json
(the clients and what the model made of them). The same arguments give byte-identical output.
The model, its guarantees and the ground-truth format are described in tools/gen/README.md.
Standard library only; the access log is written as a stream and memory stays bounded by the
world size and the number of injected incidents, not by --records.
"""

import argparse
import collections
import hashlib
import json
import math
import os
import random
import shutil
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from incidents import Incidents  # noqa: E402
from model import LEARNING, MS_D, QUARANTINE, RULES, fmt_time, parse_time  # noqa: E402
from traffic import Traffic  # noqa: E402
from world import World  # noqa: E402


class Generator(World, Traffic, Incidents):
    """One run: builds the world, writes the snapshots, then the log and its ground truth.
    Everything random comes from one random.Random(seed), drawn in a fixed order."""

    def __init__(self, seed, records, days, out, municipalities=None, incidents_every=1000,
                 start="2026-05-04T00:00:00.000Z", quiet=False):
        self.rng = random.Random(seed)
        self.seed = seed
        self.N = records
        self.days = days
        self.out = out
        self.every = max(20, incidents_every)
        # enough parties that every incident can use a client/party pair of its own
        self.K = municipalities or max(2, int(math.log10(max(records, 10))) - 2,
                                       min(60, -(-records // (self.every * 60))))
        self.start = parse_time(start)
        self.end = self.start + int(days * MS_D)
        self.quiet = quiet
        self.used_orgnr = set()
        self.next_her = 8100000
        self.orgs = []
        self.parties = {}
        self.by_top = {}          # top orgnr -> parties
        self.clients = []
        self.tenants_by_top = {}  # top orgnr -> [(client, block)]
        self.locks = {}           # her -> Lock
        self.declared = {}        # her -> client
        self.snap_reservations = []
        self.stale_plan = []      # (her, holder, since, lock made in the log, denied_at or None)

    # ------------------------------------------------------------------ driver
    def generate(self):
        os.makedirs(self.out, exist_ok=True)
        t0 = time.time()
        self.build_world()
        self.write_registry()
        self.run()
        stats = dict(sorted(self.stats.items()))
        self.write_world(stats)
        el = time.time() - t0
        if not self.quiet:
            sys.stderr.write("edi_gen: %d records, %s .. %s, %d parties, %d clients, %.1f s "
                             "(%.0f records/s)\n" % (self.count, fmt_time(self.first_t or self.start),
                                                     fmt_time(self.t), len(self.parties),
                                                     len(self.clients), el, self.count / max(el, 1e-9)))
            missing = [r for r in RULES + [QUARANTINE] if r not in self.inc_stats]
            sys.stderr.write("edi_gen: incidents %s\n" % json.dumps(dict(sorted(self.inc_stats.items()))))
            if self.days <= LEARNING / MS_D and "edi.new-client-for-party" in missing:
                # Not a shortfall: the rule waits out a 7-day learning period.
                missing.remove("edi.new-client-for-party")
                sys.stderr.write("edi_gen: edi.new-client-for-party is not injected: its learning "
                                 "period is 7 days, longer than --days\n")
            if missing:
                sys.stderr.write("edi_gen: no incident of %s (too few records, a world too small "
                                 "for the incident rate, or --days <= 7 for "
                                 "new-client-for-party)\n" % ", ".join(missing))
        return self.count


# ---------------------------------------------------------------------- self-test
def file_digest(out):
    h = hashlib.sha256()
    for root, _, files in sorted(os.walk(out)):
        for f in sorted(files):
            with open(os.path.join(root, f), "rb") as fh:
                h.update(f.encode() + b"\0" + fh.read())
    return h.hexdigest()


def _check_message_block(rec, n, sends, apprecs, seen, problems):
    """The record's `message` block, if any, against the path's message id and the send or
    apprec that created the message (when the log has it); notes sends and apprecs."""
    from paths import canonical_uuid, path_segments
    segs = path_segments(rec["path"])
    mid = canonical_uuid(segs[1]) if len(segs) > 1 and segs[0].lower() == "messages" else None
    created = (rec.get("response") or {}).get("id")
    if rec["method"] == "POST" and 200 <= rec["status"] < 300 and created:
        req = rec.get("request") or {}
        if len(segs) == 1:
            sends[created] = (req.get("senderHerId"), req.get("receiverHerIds"))
        elif mid is not None:  # an apprec: from its sender (body or path) to the message's sender
            her = req.get("appRecSenderHerId") or int(segs[-1])
            apprecs[created] = (her, sends[mid][0] if mid in sends else None)
    m = rec.get("message")
    if m is None:
        return
    seen["message block"] += 1
    missing = [k for k in ("id", "senderHerId", "receiverHerIds", "businessDocumentId", "isAppRec")
               if k not in m]
    if missing:
        problems.append("line %d: message block lacks %s" % (n, ", ".join(missing)))
        return
    if m["id"] != mid:
        problems.append("line %d: message block id %s, path names %s" % (n, m["id"], mid))
    elif mid in sends:
        if (m["senderHerId"], m["receiverHerIds"]) != sends[mid] or m["isAppRec"]:
            problems.append("line %d: message block %r differs from the send %r" % (
                n, m, sends[mid]))
    elif mid in apprecs:
        her, to = apprecs[mid]
        if m["senderHerId"] != her or not m["isAppRec"] or (to and m["receiverHerIds"] != [to]):
            problems.append("line %d: message block %r differs from the apprec %r" % (
                n, m, apprecs[mid]))
    else:
        seen["message block of a message sent before the log"] += 1
        if len(set(m["receiverHerIds"])) > 1:
            seen["...to several receivers"] += 1


def _check_generated(out, records, problems, seen=None):
    """Appends to `problems` what is wrong with the directory `out` (asked for `records`
    records), and counts in `seen` what the message blocks show; returns its ground truth."""
    from record_check import check_record
    truth = [json.loads(l) for l in open(os.path.join(out, "ground-truth.jsonl"), encoding="utf-8")]
    quarantined = {g["line"] for g in truth if g["rule"] == QUARANTINE}
    rids, last_ts, n = set(), "", 0
    sends, apprecs = {}, {}
    seen = seen if seen is not None else collections.Counter()
    with open(os.path.join(out, "access-log.jsonl"), encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            errs = check_record(line)
            if n in quarantined:
                if not errs:
                    problems.append("line %d is listed for quarantine but is valid" % n)
                continue
            if errs:
                problems.append("line %d: %s" % (n, "; ".join(errs)))
                continue
            rec = json.loads(line)
            if rec["requestId"] in rids:
                problems.append("line %d: requestId %s repeated" % (n, rec["requestId"]))
            rids.add(rec["requestId"])
            if rec["timestamp"] < last_ts:
                problems.append("line %d: timestamp goes back" % n)
            last_ts = rec["timestamp"]
            _check_message_block(rec, n, sends, apprecs, seen, problems)
    if n != records:
        problems.append("%d records written, %d asked for" % (n, records))
    for g in truth:
        if g["rule"] != QUARANTINE and g["requestId"] not in rids:
            problems.append("ground truth names unknown requestId %s" % g["requestId"])
    return truth


def _disguises(d):
    """The kinds of disguised paths and queries (paths.py) in a generated access log."""
    found = set()
    with open(os.path.join(d, "access-log.jsonl"), encoding="utf-8") as f:
        for line in f:
            if '"path":' not in line:
                continue
            try:
                rec = json.loads(line)
                path, query = str(rec.get("path", "")), str(rec.get("query", ""))
            except (ValueError, AttributeError):
                continue
            segs = path.split("/")
            if "%" in path:
                found.add("percent-encoded")
            if "." in segs or ".." in segs:
                found.add("dot segment")
            if len(segs) > 2 and len(segs[2]) == 32:
                found.add("id without dashes")
            if len(segs) > 2 and segs[2].startswith("{"):
                found.add("id in braces")
            if "[" in query:
                found.add("indexed query key")
            if "=%2B" in query or "=0" in query or "=%20" in query:
                found.add("HER-Id with a sign or zeros")
    return found


def selftest():
    problems = []
    tmp = tempfile.mkdtemp(prefix="edi_gen_selftest_")
    try:
        a, b = os.path.join(tmp, "a"), os.path.join(tmp, "b")
        args = dict(seed=7, records=5000, days=10, municipalities=2, incidents_every=40, quiet=True)
        Generator(out=a, **args).generate()
        Generator(out=b, **args).generate()
        if file_digest(a) != file_digest(b):
            problems.append("two runs with the same arguments differ")
        seen = collections.Counter()
        truth = _check_generated(a, 5000, problems, seen)
        incidents = {g["rule"] for g in truth if g["kind"] == "incident"}
        for r in RULES + [QUARANTINE]:
            if r not in incidents:
                problems.append("no incident of %s" % r)
        reg = os.path.join(a, "registry")
        for name, req in (("communication-parties", ("herId", "name", "type", "parentHerId",
                                                     "parentOrganizationNumber", "active")),
                          ("organizations", ("organisasjonsnummer", "navn", "kind")),
                          ("clients", ("clientId",)), ("reservations", ("herId", "clientId", "since")),
                          ("owners", ("herId", "clientId"))):
            with open(os.path.join(reg, name + ".jsonl"), encoding="utf-8") as f:
                for i, line in enumerate(f, 1):
                    r = json.loads(line)
                    miss = [k for k in req if k not in r]
                    if miss:
                        problems.append("%s.jsonl:%d lacks %s" % (name, i, ", ".join(miss)))
        # More seeds, so that every kind of malformed record is drawn and checked to be one.
        kinds = {g["reason"] for g in truth if g["rule"] == QUARANTINE}
        disguises = _disguises(a)
        for seed in (1, 3, 4, 5):
            d = os.path.join(tmp, "s%d" % seed)
            Generator(out=d, seed=seed, records=20000, days=10, municipalities=2,
                      incidents_every=40, quiet=True).generate()
            more = _check_generated(d, 20000, problems, seen)
            kinds |= {g["reason"] for g in more if g["rule"] == QUARANTINE}
            disguises |= _disguises(d)
            shutil.rmtree(d, ignore_errors=True)
        for kind in ("percent-encoded", "dot segment", "id without dashes", "id in braces",
                     "indexed query key", "HER-Id with a sign or zeros"):
            if kind not in disguises:
                problems.append("no incident path or query %s in five seeds" % kind)
        for what in ("message block", "message block of a message sent before the log"):
            if not seen[what]:
                problems.append("no %s in five seeds" % what)
        for reason in ("invalid_json", "schema", "bad_timestamp", "malformed_her_id",
                       "malformed_herid_claim", "malformed_message_id", "malformed_orgnr"):
            if reason not in kinds:
                problems.append("no malformed record quarantined as %s in five seeds" % reason)
        summary = ("%d records, %d ground-truth lines, %d incident rules; 4 more seeds checked; "
                   "%d message blocks, %d of messages sent before the log") % (
            5000, len(truth), len(incidents), seen["message block"],
            seen["message block of a message sent before the log"])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for p in problems[:50]:
        print("selftest: " + p)
    if problems:
        print("selftest: FAILED (%d problems)" % len(problems))
        return 1
    print("selftest: ok (%s)" % summary)
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="edi_gen.py",
        description="Generate synthetic EDI 2.0 access-log traffic with injected incidents and "
                    "their ground truth (see tools/gen/README.md).")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1); same arguments, "
                    "same bytes")
    ap.add_argument("--records", type=int, default=100000, help="access-log records to write, "
                    "malformed ones included (default 100000)")
    ap.add_argument("--days", type=float, default=14, help="event-time span in days (default 14)")
    ap.add_argument("--out", help="output directory (created; existing files are overwritten)")
    ap.add_argument("--municipalities", type=int, default=None,
                    help="municipalities in the world (default: grows with --records)")
    ap.add_argument("--incidents-every", type=int, default=1000,
                    help="on average one injected incident per this many records (default 1000, "
                         "minimum 20)")
    ap.add_argument("--start", default="2026-05-04T00:00:00.000Z",
                    help="event time the log starts at (default 2026-05-04T00:00:00.000Z)")
    ap.add_argument("--selftest", action="store_true",
                    help="generate 5000 records twice (the same bytes?) and 20000 for four more "
                         "seeds into a temporary directory and check them against the field rules "
                         "of EVENTS.md and the ground truth; exit 0 when all is well")
    a = ap.parse_args(argv)
    if a.selftest:
        return selftest()
    if not a.out:
        ap.error("--out is required")
    if a.records < 1:
        ap.error("--records must be at least 1")
    if not (math.isfinite(a.days) and 0 < a.days <= 3650):
        ap.error("--days must be a number of days above 0 and at most 3650, e.g. 14 or 0.5")
    if a.municipalities is not None and a.municipalities < 1:
        ap.error("--municipalities must be at least 1 (leave it out to let it grow with "
                 "--records)")
    if a.incidents_every < 20:
        ap.error("--incidents-every must be at least 20 (incidents need benign traffic around "
                 "them)")
    try:
        start = parse_time(a.start)
    except ValueError:
        ap.error("--start %r: give a UTC time as YYYY-MM-DDTHH:MM:SS[.mmm]Z, e.g. "
                 "2026-05-04T00:00:00.000Z" % a.start)
    # Registry dates lie up to a year before the start; the times written have four-digit years.
    if not 1971 <= int(a.start[:4]) <= 9000:
        ap.error("--start %r: give a time in the years 1971 to 9000" % a.start)
    end = start + int(a.days * MS_D)
    if end > time.time() * 1000 + MS_D:
        print("edi_gen.py: warning: the log runs to %s, over a day after this machine's clock: "
              "edi-audit takes such records for a gateway's clock fault (stored, but event time "
              "does not move on to them), so its findings will not match the ground truth; give "
              "an earlier --start" % fmt_time(end), file=sys.stderr)
    try:
        Generator(a.seed, a.records, a.days, a.out, a.municipalities, a.incidents_every,
                  a.start).generate()
    except OSError as e:
        print("edi_gen.py: cannot write %s: %s" % (e.filename or a.out, e.strerror or e),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
