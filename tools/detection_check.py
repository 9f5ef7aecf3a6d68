#!/usr/bin/env python3
"""Detection check: replays a generated traffic directory through edi-audit and compares the
findings it raised with the generator's ground truth, per rule: expected / found / missed /
wrong / duplicate / unexpected.

    tools/detection_check.py [--bin EDI_AUDIT] DIR [--db NEW_FILE] [--json OUT]
                             [--require-every-rule]

DIR is what tools/gen/edi_gen.py wrote (registry/, access-log.jsonl, ground-truth.jsonl,
world.json). A finding matches a ground-truth line on (rule, requestId, herId); a match whose
client, severity or message differ from the line's counts as wrong. A second finding on one
key counts as a duplicate. Findings of clients that world.json marks with `postureFindings` for
a rule (v2 clients whose herid claim is "0") are benign posture, counted but not compared.
Quarantined records are compared with the ground truth's "quarantine" lines by line number,
and their reasons with the lines' reasons.

Exit status: 0 when every expected finding and quarantined record was found as the ground truth
has it, with no duplicate and nothing unexpected (of any severity; the column unexpected_high
counts those of severity high or critical); 1 otherwise; 2 on unusable arguments or inputs (a
directory the generator did not write, a binary that is not edi-audit, an output path that
cannot be written), found before the replay where they can be. Replay's warnings are shown. With
--require-every-rule, an enabled rule of the binary's pack with no expected finding is a
failure too (the data does not test it).
"""

import argparse
import collections
import json
import os
import sqlite3
import subprocess
import sys
import tempfile


def load_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog="\n\n".join(__doc__.split("\n\n")[2:]),
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir", help="a directory written by tools/gen/edi_gen.py")
    ap.add_argument("--bin", default=os.path.join(root, "build/release/edi-audit"),
                    help="the edi-audit binary (default: %(default)s)")
    ap.add_argument("--db", help="SQLite file to create (default: a temporary one); "
                                 "it must not exist yet")
    ap.add_argument("--json", help="also write the per-rule table as JSON here")
    ap.add_argument("--require-every-rule", action="store_true",
                    help="fail when an enabled rule has no expected finding in the data")
    args = ap.parse_args()
    for name in ("registry", "access-log.jsonl", "ground-truth.jsonl", "world.json"):
        if not os.path.exists(os.path.join(args.dir, name)):
            print(f"detection_check: {args.dir} has no {name}", file=sys.stderr)
            return 2
    if not (os.path.isfile(args.bin) and os.access(args.bin, os.X_OK)):
        print(f"detection_check: {args.bin}: no executable there (build it with tools/build.sh, "
              "or name it with --bin)", file=sys.stderr)
        return 2
    if args.db and os.path.exists(args.db):
        print(f"detection_check: {args.db} exists; the check replays into a new database "
              "(another run's findings would be compared too)", file=sys.stderr)
        return 2
    # The files it writes are checked before the replay, not found unwritable after it.
    for option, path in (("--db", args.db), ("--json", args.json)):
        if not path:
            continue
        parent = os.path.dirname(os.path.abspath(path))
        if os.path.isdir(path):
            print(f"detection_check: {option} {path}: is a directory", file=sys.stderr)
            return 2
        if not os.path.isdir(parent) or not os.access(parent, os.W_OK | os.X_OK):
            print(f"detection_check: {option} {path}: {parent} is no directory this user may "
                  "write in", file=sys.stderr)
            return 2
    try:
        truth = load_jsonl(os.path.join(args.dir, "ground-truth.jsonl"))
        with open(os.path.join(args.dir, "world.json"), encoding="utf-8") as f:
            world = json.load(f)
        posture = {(c["clientId"], rule)
                   for c in world["clients"] for rule in c.get("postureFindings", [])}
        for t in truth:
            needs = "line" if t["rule"] == "quarantine" else "requestId"
            if needs not in t:
                raise KeyError(f"a ground-truth line without {needs}")
    except (OSError, ValueError, KeyError, TypeError) as e:
        print(f"detection_check: {args.dir} is not what tools/gen/edi_gen.py writes "
              f"({type(e).__name__}: {e})", file=sys.stderr)
        return 2
    tmp = tempfile.TemporaryDirectory()
    db = args.db or os.path.join(tmp.name, "check.db")
    replay = subprocess.run(
        [args.bin, "replay", "-q", "--no-findings", "--registry",
         os.path.join(args.dir, "registry"), "--db", db, os.path.join(args.dir, "access-log.jsonl")],
        capture_output=True, text=True)
    if replay.returncode != 0:
        print(replay.stdout + replay.stderr, file=sys.stderr)
        return 1
    # Replay's warnings (records dated over a day after this machine's clock, records older than
    # those stored) explain findings that differ from the ground truth: shown, not swallowed.
    for line in replay.stderr.splitlines():
        if "warning:" in line:
            print(line, file=sys.stderr)
    try:
        ok = sqlite3.connect(f"file:{db}?mode=ro", uri=True).execute(
            "SELECT count(*) FROM findings").fetchone() is not None
    except sqlite3.Error as e:
        ok = False
        print(f"detection_check: {args.bin} replayed into {db}, which holds no findings table "
              f"({e}): is it edi-audit?", file=sys.stderr)
    if not ok:
        return 2
    enabled_rules = []
    if args.require_every_rule:
        listed = subprocess.run([args.bin, "rules", "list"], capture_output=True, text=True)
        if listed.returncode != 0:
            print(listed.stdout + listed.stderr, file=sys.stderr)
            return 1
        for line in listed.stdout.splitlines()[1:]:
            cols = line.split()
            if len(cols) >= 3 and cols[2] == "yes":
                enabled_rules.append(cols[0])
        if not enabled_rules:
            print("detection_check: `edi-audit rules list` named no enabled rule:\n" +
                  listed.stdout, file=sys.stderr)
            return 1


    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    names = ["info", "low", "medium", "high", "critical"]
    found = [
        {"rule": r, "requestId": q, "herId": h, "clientId": c, "severity": names[s],
         "messageId": m}
        for r, q, h, c, s, m in con.execute(
            "SELECT rule, request_id, her_id, client_id, severity, message_id FROM findings")
    ]
    quarantined = collections.defaultdict(list)  # line -> reasons
    for p, reason in con.execute("SELECT position, reason FROM quarantine"):
        quarantined[p].append(reason)

    expected = collections.defaultdict(dict)  # rule -> (requestId, herId) -> ground-truth line
    expected_quarantine = {}  # line -> reason
    for t in truth:
        if t["rule"] == "quarantine":
            expected_quarantine[t["line"]] = t["reason"]
        else:
            expected[t["rule"]][(t["requestId"], t["herId"])] = t
    got = collections.defaultdict(set)
    unexpected = collections.defaultdict(list)
    wrong = collections.defaultdict(list)  # found on its key, but not as the ground truth has it
    duplicate = collections.defaultdict(list)  # a further finding on a key already found
    benign = collections.Counter()
    for f in found:
        key = (f["requestId"], f["herId"])
        if key in got[f["rule"]]:
            duplicate[f["rule"]].append(f)
            continue
        got[f["rule"]].add(key)
        t = expected[f["rule"]].get(key)
        if t is not None:
            differs = [k for k in ("clientId", "severity", "messageId") if f[k] != t[k]]
            if differs:
                wrong[f["rule"]].append((f, t, differs))
            continue
        if (f["clientId"], f["rule"]) in posture:
            benign[f["rule"]] += 1
        else:
            unexpected[f["rule"]].append(f)

    rows = []
    for rule in sorted(set(expected) | set(got) | set(enabled_rules)):
        exp = set(expected[rule])
        rows.append({
            "rule": rule, "expected": len(exp), "found": len(exp & got[rule]),
            "missed": len(exp - got[rule]), "wrong": len(wrong[rule]),
            "duplicate": len(duplicate[rule]), "unexpected": len(unexpected[rule]),
            "unexpected_high": sum(f["severity"] in ("high", "critical") for f in unexpected[rule]),
            "benign_posture": benign[rule],
        })
    wrong_reason = [(line, expected_quarantine[line], reasons)
                    for line, reasons in sorted(quarantined.items())
                    if line in expected_quarantine and expected_quarantine[line] not in reasons]
    rows.append({
        "rule": "quarantine", "expected": len(expected_quarantine),
        "found": len(expected_quarantine.keys() & quarantined.keys()),
        "missed": len(expected_quarantine.keys() - quarantined.keys()), "wrong": len(wrong_reason),
        "duplicate": sum(len(r) - 1 for r in quarantined.values()),
        "unexpected": len(quarantined.keys() - expected_quarantine.keys()), "unexpected_high": 0,
        "benign_posture": 0,
    })
    cols = ["rule", "expected", "found", "missed", "wrong", "duplicate", "unexpected",
            "unexpected_high", "benign_posture"]
    print(f"{cols[0]:<36}" + "".join(f"{c:>16}" for c in cols[1:]))
    for r in rows:
        print(f"{r['rule']:<36}" + "".join(f"{r[c]:>16}" for c in cols[1:]))
    for rule in sorted(expected):
        for key in sorted(set(expected[rule]) - got[rule])[:3]:
            t = expected[rule][key]
            print(f"  missed {rule} ({t['severity']}): request {t['requestId']} "
                  f"client {t['clientId']} HER-Id {t['herId']}"
                  + (f" message {t['messageId']}" if t.get("messageId") else ""))
    for line in sorted(expected_quarantine.keys() - quarantined.keys())[:3]:
        print(f"  missed quarantine: line {line} (expected {expected_quarantine[line]})")
    for line, want, reasons in wrong_reason[:3]:
        print(f"  wrong quarantine: line {line} as {', '.join(reasons)} (expected {want})")
    for line in sorted(quarantined.keys() - expected_quarantine.keys())[:3]:
        print(f"  unexpected quarantine: line {line} ({', '.join(quarantined[line])})")
    for rule, fs in sorted(duplicate.items()):
        for f in fs[:3]:
            print(f"  duplicate {rule}: request {f['requestId']} HER-Id {f['herId']}")
    for rule, fs in sorted(unexpected.items()):
        for f in fs[:3]:
            print(f"  unexpected {rule} ({f['severity']}): request {f['requestId']} "
                  f"client {f['clientId']} HER-Id {f['herId']}")
    for rule, ws in sorted(wrong.items()):
        for f, t, differs in ws[:3]:
            print(f"  wrong {rule}: request {f['requestId']} HER-Id {f['herId']}: " +
                  ", ".join(f"{k} {f[k]} (expected {t[k]})" for k in differs))
    total = {c: sum(r[c] for r in rows)
             for c in ("missed", "wrong", "duplicate", "unexpected", "unexpected_high")}
    untested = [r["rule"] for r in rows if r["expected"] == 0 and r["rule"] in enabled_rules]
    print(f"missed {total['missed']}, wrong {total['wrong']}, duplicate {total['duplicate']}, "
          f"unexpected {total['unexpected']} (high/critical {total['unexpected_high']})")
    if untested:
        print("rules the data has no incident of: " + ", ".join(untested))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(rows, f, indent=2)
    failed = total["missed"] + total["wrong"] + total["duplicate"] + total["unexpected"]
    return 0 if failed == 0 and not untested else 1


if __name__ == "__main__":
    sys.exit(main())
