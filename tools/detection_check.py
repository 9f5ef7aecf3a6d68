#!/usr/bin/env python3
"""Detection check: replays a generated traffic directory through edi-audit and compares the
findings it raised with the generator's ground truth, per rule: expected / found / missed /
unexpected.

    tools/detection_check.py --bin build/release/edi-audit DIR [--db FILE] [--json OUT]

DIR is what tools/gen/edi_gen.py wrote (registry/, access-log.jsonl, ground-truth.jsonl,
world.json). A finding matches a ground-truth line on (rule, requestId, herId); a match whose
client, severity or message differ from the line's counts as wrong (column "wrong"). Findings of
clients that world.json marks with `postureFindings` for a rule (v2 clients whose herid claim is
"0") are benign posture, counted but not compared. Quarantined records are compared with the
ground truth's "quarantine" lines by line number.

Exit status 0 when every expected finding was found as the ground truth has it and no
unexpected finding has severity high or critical; 1 otherwise; 2 on unusable arguments.
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
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dir", help="a directory written by tools/gen/edi_gen.py")
    ap.add_argument("--bin", default="build/release/edi-audit", help="the edi-audit binary")
    ap.add_argument("--db", help="SQLite file to write (default: a temporary one)")
    ap.add_argument("--json", help="also write the per-rule table as JSON here")
    args = ap.parse_args()
    for name in ("registry", "access-log.jsonl", "ground-truth.jsonl", "world.json"):
        if not os.path.exists(os.path.join(args.dir, name)):
            print(f"detection_check: {args.dir} has no {name}", file=sys.stderr)
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

    truth = load_jsonl(os.path.join(args.dir, "ground-truth.jsonl"))
    world = json.load(open(os.path.join(args.dir, "world.json"), encoding="utf-8"))
    posture = {(c["clientId"], rule) for c in world["clients"] for rule in c.get("postureFindings", [])}

    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    names = ["info", "low", "medium", "high", "critical"]
    found = [
        {"rule": r, "requestId": q, "herId": h, "clientId": c, "severity": names[s],
         "messageId": m}
        for r, q, h, c, s, m in con.execute(
            "SELECT rule, request_id, her_id, client_id, severity, message_id FROM findings")
    ]
    quarantined = {p for (p,) in con.execute("SELECT position FROM quarantine")}

    expected = collections.defaultdict(dict)  # rule -> (requestId, herId) -> ground-truth line
    expected_quarantine = set()
    for t in truth:
        if t["rule"] == "quarantine":
            expected_quarantine.add(t["line"])
        else:
            expected[t["rule"]][(t["requestId"], t["herId"])] = t
    got = collections.defaultdict(set)
    unexpected = collections.defaultdict(list)
    wrong = collections.defaultdict(list)  # found on its key, but not as the ground truth has it
    benign = collections.Counter()
    for f in found:
        key = (f["requestId"], f["herId"])
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
    for rule in sorted(set(expected) | set(got)):
        exp = set(expected[rule])
        rows.append({
            "rule": rule, "expected": len(exp), "found": len(exp & got[rule]),
            "missed": len(exp - got[rule]), "wrong": len(wrong[rule]),
            "unexpected": len(unexpected[rule]),
            "unexpected_high": sum(f["severity"] in ("high", "critical") for f in unexpected[rule]),
            "benign_posture": benign[rule],
        })
    rows.append({
        "rule": "quarantine", "expected": len(expected_quarantine),
        "found": len(expected_quarantine & quarantined),
        "missed": len(expected_quarantine - quarantined), "wrong": 0,
        "unexpected": len(quarantined - expected_quarantine), "unexpected_high": 0,
        "benign_posture": 0,
    })
    cols = ["rule", "expected", "found", "missed", "wrong", "unexpected", "unexpected_high",
            "benign_posture"]
    print(f"{cols[0]:<36}" + "".join(f"{c:>16}" for c in cols[1:]))
    for r in rows:
        print(f"{r['rule']:<36}" + "".join(f"{r[c]:>16}" for c in cols[1:]))
    for rule, fs in sorted(unexpected.items()):
        for f in fs[:3]:
            print(f"  unexpected {rule} ({f['severity']}): request {f['requestId']} "
                  f"client {f['clientId']} HER-Id {f['herId']}")
    for rule, ws in sorted(wrong.items()):
        for f, t, differs in ws[:3]:
            print(f"  wrong {rule}: request {f['requestId']} HER-Id {f['herId']}: " +
                  ", ".join(f"{k} {f[k]} (expected {t[k]})" for k in differs))
    missed = sum(r["missed"] for r in rows)
    wrong_count = sum(r["wrong"] for r in rows)
    high = sum(r["unexpected_high"] for r in rows)
    print(f"missed {missed}, wrong {wrong_count}, unexpected high/critical {high}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(rows, f, indent=2)
    return 0 if missed == 0 and wrong_count == 0 and high == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
