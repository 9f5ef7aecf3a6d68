#!/usr/bin/env python3
"""The edi-audit benchmark: measures what the product does on this machine and prints a table,
and writes the same figures as JSON. Not part of the tests (figures, not assertions).

    tools/bench/bench.py [--records 1000000] [--large 10000000] [--skip-large] [--skip-kafka]
                         [--out bench.json]

Figures:
  replay throughput from a file into SQLite (decode, state, rules, store), records/s;
  the raw limits on the same data in the same run: RapidJSON parse only, parse + schema
  check (as the decoder does it; and with RapidJSON's validator alone), and the ratio of the
  full pipeline to each;
  peak RSS of replay at --records and --large records; bytes on disk per stored event;
  reconstruction state bytes per tracked message and per party (1M messages);
  rule evaluation cost per event with the full default pack;
  Kafka end to end until caught up beside `kcat -C` raw consume of the same topic, and the
  ratio (tools/bench/kafka-throughput.sh);
  produce-to-alert latency p50/p99 at a steady 20,000 records/s (tools/bench/alert-latency.sh),
  when that script is present.
Generated data is cached under ~/.cache/edi-audit/bench (tools/gen/edi_gen.py, seed 1).
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CACHE = os.path.expanduser("~/.cache/edi-audit/bench")


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw)


def generate(records):
    out = os.path.join(CACHE, f"gen-{records}")
    if not os.path.exists(os.path.join(out, "done")):
        print(f"bench: generating {records} records into {out}", file=sys.stderr)
        sh([sys.executable, os.path.join(ROOT, "tools/gen/edi_gen.py"), "--seed", "1",
            "--records", str(records), "--days", "14", "--out", out])
        open(os.path.join(out, "done"), "w").close()
    return out


def replay(binary, data, db):
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    start = time.monotonic()
    r = subprocess.run(["/usr/bin/time", "-f", "maxrss_kb=%M", binary, "replay", "-q",
                        "--no-findings", "--registry", os.path.join(data, "registry"), "--db", db,
                        os.path.join(data, "access-log.jsonl")],
                       text=True, capture_output=True, check=True)
    secs = time.monotonic() - start
    records = int(re.search(r"records read\s+(\d+)", r.stdout).group(1))
    stored = int(re.search(r"stored\s+(\d+)", r.stdout).group(1))
    rss = int(re.search(r"maxrss_kb=(\d+)", r.stderr).group(1))
    size = sum(os.path.getsize(db + s) for s in ("", "-wal") if os.path.exists(db + s))
    return {"records": records, "stored": stored, "seconds": round(secs, 2),
            "records_per_s": round(records / secs), "peak_rss_mib": round(rss / 1024, 1),
            "db_bytes": size, "bytes_per_event": round(size / max(stored, 1))}


def table_figures(text):
    """Rows of 'label   number' from a tool's table output."""
    out = {}
    for line in text.splitlines():
        m = re.match(r"^(\S.*?)\s{2,}([\d.]+)", line)
        if m:
            out[m.group(1).strip()] = float(m.group(2))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=1000000)
    ap.add_argument("--large", type=int, default=10000000)
    ap.add_argument("--skip-large", action="store_true")
    ap.add_argument("--skip-kafka", action="store_true")
    ap.add_argument("--out", default="bench.json")
    args = ap.parse_args()

    sh([os.path.join(ROOT, "tools/setup.sh")])
    sh([os.path.join(ROOT, "tools/build.sh"), "release", "edi-audit", "decode_bench",
        "state_bench", "rules_bench"])
    build = os.path.join(ROOT, "build/release")
    binary = os.path.join(build, "edi-audit")
    os.makedirs(CACHE, exist_ok=True)
    result = {"machine": {"cores": os.cpu_count()}}

    data = generate(args.records)
    result["replay"] = replay(binary, data, os.path.join(CACHE, "bench.db"))
    dec = table_figures(sh([os.path.join(build, "tools/bench/decode_bench"),
                            os.path.join(data, "access-log.jsonl"), "300000"]).stdout)
    result["limits"] = {
        "parse_only_records_per_s": dec.get("RapidJSON parse only"),
        "parse_schema_records_per_s": dec.get("parse + schema check"),
        "parse_rapidjson_validator_records_per_s": dec.get("parse + RapidJSON schema validator"),
        "decode_records_per_s": dec.get("full decode (routes, parties)"),
    }
    rate = result["replay"]["records_per_s"]
    result["limits"]["pipeline_vs_parse"] = round(rate / result["limits"]["parse_only_records_per_s"], 3)
    result["limits"]["pipeline_vs_parse_schema"] = round(
        rate / result["limits"]["parse_schema_records_per_s"], 3)
    st = table_figures(sh([os.path.join(build, "tools/bench/state_bench")]).stdout)
    result["state"] = {"bytes_per_message": st.get("bytes per tracked message (all state)"),
                       "bytes_per_party": st.get("bytes per party (stats + pairs)")}
    rb = sh([os.path.join(build, "tests/rules_bench")]).stdout
    result["rules_bench"] = rb.strip().splitlines()[-6:]

    if not args.skip_large:
        large = generate(args.large)
        result["replay_large"] = replay(binary, large, os.path.join(CACHE, "bench-large.db"))
    if not args.skip_kafka:
        k = subprocess.run([os.path.join(ROOT, "tools/bench/kafka-throughput.sh"), "--binary",
                            binary], text=True, capture_output=True)
        result["kafka"] = {"exit": k.returncode, "output": k.stdout.strip().splitlines()[-8:]}
        lat = os.path.join(ROOT, "tools/bench/alert-latency.sh")
        if os.path.exists(lat):
            l = subprocess.run([lat, "--binary", binary], text=True, capture_output=True)
            result["latency"] = {"exit": l.returncode, "output": l.stdout.strip().splitlines()[-6:]}

    r = result["replay"]
    rows = [
        ("replay into SQLite, records/s", r["records_per_s"], "target >= 250000"),
        ("  RapidJSON parse only, records/s", result["limits"]["parse_only_records_per_s"], ""),
        ("  parse + schema check, records/s", result["limits"]["parse_schema_records_per_s"], ""),
        ("  parse + RapidJSON's validator, records/s",
         result["limits"]["parse_rapidjson_validator_records_per_s"], ""),
        ("  pipeline / parse only", result["limits"]["pipeline_vs_parse"], ""),
        ("  pipeline / parse + schema", result["limits"]["pipeline_vs_parse_schema"], ""),
        (f"peak RSS at {r['records']} records, MiB", r["peak_rss_mib"], ""),
        ("bytes on disk per stored event", r["bytes_per_event"], ""),
        ("state bytes per tracked message", result["state"]["bytes_per_message"], ""),
        ("state bytes per party", result["state"]["bytes_per_party"], ""),
    ]
    if "replay_large" in result:
        rl = result["replay_large"]
        rows.append((f"peak RSS at {rl['records']} records, MiB", rl["peak_rss_mib"],
                     "target < 512"))
        rows.append((f"replay of {rl['records']} records, records/s", rl["records_per_s"], ""))
    print(f"{'measure':<44}{'value':>14}  note")
    for name, value, note in rows:
        print(f"{name:<44}{value:>14}  {note}")
    for key in ("kafka", "latency"):
        if key in result:
            print(f"\n{key}:")
            for line in result[key]["output"]:
                print("  " + line)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2)
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    sys.exit(main())
