#!/usr/bin/env python3
"""Tabulates the scale_bench results that bench/plot.sh collected.

usage: bench/plot_table.py DIR > DIR/scale.tsv

Reads DIR/<family>-<size>.json and prints one tab-separated row per family
and size: family, policies, decision_ns (one thread), p50_ns, p99_ns,
compile_s, program_mib (RSS growth while the program is alive), peak_mib,
decode_ns (AuthZEN JSON), join_ns (SetAndJoin minus SetAttributes),
dag_nodes. Repeated runs are reduced to their median.
"""

import glob
import json
import os
import re
import sys


def median_of(entries, name, key):
    """Returns the median aggregate of `key`, or the single value."""
    for entry in entries:
        if entry.get("run_name") == name and entry.get("aggregate_name") == "median":
            return float(entry[key])
    for entry in entries:
        if entry["name"] == name:
            return float(entry[key])
    return float("nan")


def main():
    directory = sys.argv[1]
    rows = []
    for path in glob.glob(os.path.join(directory, "*.json")):
        match = re.match(r"(.+)-(\d+)\.json$", os.path.basename(path))
        if not match:
            continue
        family, size = match.group(1), int(match.group(2))
        with open(path) as f:
            entries = json.load(f)["benchmarks"]
        suffix = "%s/%d" % (family, size)
        evaluate = "BM_Evaluate/%s/threads:1" % suffix
        latency = "BM_Latency/%s" % suffix
        compile_name = "BM_Compile/%s/iterations:1/manual_time" % suffix
        join = (median_of(entries, "BM_SetAndJoin/" + suffix, "cpu_time") -
                median_of(entries, "BM_SetAttributes/" + suffix, "cpu_time"))
        rows.append((family, size,
                     median_of(entries, evaluate, "decision_ns"),
                     median_of(entries, latency, "p50_ns"),
                     median_of(entries, latency, "p99_ns"),
                     median_of(entries, compile_name, "compile_s"),
                     median_of(entries, compile_name, "rss_delta_mb"),
                     median_of(entries, compile_name, "peak_rss_mb"),
                     median_of(entries, "BM_DecodeJson/" + suffix, "cpu_time"),
                     join,
                     median_of(entries, compile_name, "dag_nodes")))
    rows.sort()
    print("#family\tpolicies\tdecision_ns\tp50_ns\tp99_ns\tcompile_s\t"
          "program_mib\tpeak_mib\tdecode_ns\tjoin_ns\tdag_nodes")
    for row in rows:
        print("\t".join([row[0], str(row[1])] + ["%.4g" % v for v in row[2:]]))


if __name__ == "__main__":
    main()
