#!/usr/bin/python3
"""Pools the per-round molt/standalone ratios of several throughput runs (the CSVs the throughput benchmark writes):
each round's ratio compares two runs made back to back, so pooling rounds from several runs narrows the noise.

    /usr/bin/python3 bench/Kv.Benchmarks/pool_ratios.py bench/Kv.Benchmarks/results/throughput-run1.csv bench/Kv.Benchmarks/results/throughput.csv
"""

import csv
import statistics
import sys

rps = {}
for run, path in enumerate(sys.argv[1:]):
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            rps[(run, int(row["round"]), row["server"], row["pipeline"], row["test"])] = float(row["rps"])

rounds = sorted({(run, rnd) for (run, rnd, *_) in rps})
versions = sorted({s.split()[1] for (_, _, s, _, _) in rps if s.startswith("kv ")})
print("release  pipeline  test  rounds  median molt/standalone  geometric mean  min … max")
every = []
for version in versions:
    for pipeline in ("none", "-P 16"):
        for test in ("GET", "SET"):
            ratios = [rps[(run, rnd, f"kv {version} under molt", pipeline, test)] / rps[(run, rnd, f"kv {version} standalone", pipeline, test)]
                      for run, rnd in rounds]
            every += ratios
            print(f"{version:7}  {pipeline:8}  {test:4}  {len(ratios):6}  {statistics.median(ratios):22.2f}  {statistics.geometric_mean(ratios):14.2f}  "
                  f"{min(ratios):.2f} … {max(ratios):.2f}")
print(f"all      {len(every)} ratios: median {statistics.median(every):.2f}, geometric mean {statistics.geometric_mean(every):.2f}")
