#!/usr/bin/env python3
"""Prints the medians of scripts/codec-anchors.sh and fixgate's ratios to its anchors, per pass.
usage: codec-anchors-table.py OUTDIR"""
import json
import pathlib
import sys

out = pathlib.Path(sys.argv[1])
# (suite, bench) -> {pass: median_ns}
medians = {}
for path in sorted(out.glob("*-pass*.jsonl")):
    run = int(path.stem.rsplit("pass", 1)[1])
    for line in path.read_text().splitlines():
        if line.startswith("{"):
            r = json.loads(line)
            medians.setdefault((r["suite"], r["bench"]), {})[run] = (r["median_ns"], r["min_ns"], r["max_ns"])
runs = sorted({p for v in medians.values() for p in v})

print("| suite | bench | " + " | ".join(f"pass {p} median (min-max) ns" for p in runs) + " |")
print("|---|---|" + "---:|" * len(runs))
for (suite, bench), v in medians.items():
    cells = [f"{v[p][0]:.0f} ({v[p][1]:.0f}-{v[p][2]:.0f})" if p in v else "n/a" for p in runs]
    print(f"| {suite} | {bench} | " + " | ".join(cells) + " |")

# fixgate bench -> the anchors it is compared with.
pairs = [
    ("decode_nos", "quickfix", "parse_nos_nodd_chk"),
    ("decode_nos", "fefix", "decode_nos"),
    ("decode_nos_read3", "quickfix", "parse_nos_nodd_read3"),
    ("decode_nos_read3", "fefix", "decode_nos_read3"),
    ("decode_er", "quickfix", "parse_er_nodd_chk"),
    ("decode_er", "fefix", "decode_er"),
    ("decode_er_read3", "fefix", "decode_er_read3"),
    ("encode_er_str", "quickfix", "build_serialize_er_str"),
    ("encode_er_str", "fefix", "encode_er_str"),
    ("decode_validate_nos", "quickfix", "parse_nos_dd_validate"),
    ("decode_validate_nos_remembered", "quickfix", "parse_nos_dd_validate"),
    ("decode_validate_er", "quickfix", "parse_er_dd_validate"),
    ("decode_validate_er_remembered", "quickfix", "parse_er_dd_validate"),
]
print()
print("| fixgate bench | anchor | " + " | ".join(f"ratio pass {p}" for p in runs) + " |")
print("|---|---|" + "---:|" * len(runs))
for ours, suite, theirs in pairs:
    a, b = medians.get(("fixgate", ours), {}), medians.get((suite, theirs), {})
    cells = [f"{a[p][0] / b[p][0]:.3f}" if p in a and p in b else "n/a" for p in runs]
    print(f"| {ours} | {suite} {theirs} | " + " | ".join(cells) + " |")
