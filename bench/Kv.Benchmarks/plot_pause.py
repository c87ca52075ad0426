#!/usr/bin/python3
"""Plots the pause benchmark of the kv example: keys held (log x) against milliseconds, the host's pause and the
longest wait a client saw, median of the runs, one line pair per update measured.

    /usr/bin/python3 bench/Kv.Benchmarks/plot_pause.py [bench/Kv.Benchmarks/results/pause.csv] [docs/kv-pause.png]
"""

import csv
import statistics
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")  # No display: write the file only.
import matplotlib.pyplot as plt

source = sys.argv[1] if len(sys.argv) > 1 else "bench/Kv.Benchmarks/results/pause.csv"
target = sys.argv[2] if len(sys.argv) > 2 else "docs/kv-pause.png"

runs = defaultdict(lambda: defaultdict(list))  # (from, to) -> keys -> rows
with open(source, newline="") as f:
    for row in csv.DictReader(f):
        runs[(int(row["from"]), int(row["to"]))][int(row["keys"])].append(row)

fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
colors = ["tab:blue", "tab:orange", "tab:green", "tab:red"]
for (pair, by_keys), color in zip(sorted(runs.items()), colors):
    keys = sorted(by_keys)
    def median(column):
        return [statistics.median(float(r[column]) for r in by_keys[k]) for k in keys]
    label = f"v{pair[0]} \u2192 v{pair[1]}"
    ax.plot(keys, median("pause_ms"), marker="o", color=color, label=f"{label}: host pause (UpdateResult.PauseTime)")
    ax.plot(keys, median("client_max_pause_window_ms"), marker="s", linestyle="--", color=color,
            label=f"{label}: client-observed max latency")
    ax.plot(keys, median("client_max_baseline_ms"), marker="x", linestyle=":", color=color, alpha=0.6,
            label=f"{label}: client max latency, no update (baseline)")
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_xlabel("keys held")
ax.set_ylabel("milliseconds (median of runs)")
ax.set_title("kv: pause of a live update under load (2 shared cores)")
ax.grid(True, which="both", alpha=0.3)
ax.legend(fontsize=7)
fig.tight_layout()
fig.savefig(target)
print(f"wrote {target}")
