"""Reading bootstrap configs: speed and memory against PyYAML in the same run.

The baseline is PyYAML's pure-Python `yaml.safe_load` of the same text: reading a config the way
the Go tool does (yaml.v2 resolution, positions, the JSON round trip, validation) is allowed to
cost a small multiple of plain YAML parsing, never an order of magnitude.
"""

from __future__ import annotations

import yaml

from bench.measure import best_time, peak_memory, report
from bot.core.config import load_bootstrap_config

TARGETS = {"time": 2.0, "memory": 2.0}  # at most this many times the baseline


def landscape_config(providers: int) -> str:
    entries = "".join(
        f"    - name: provider-{i}\n      config:\n        verbosity: info\n"
        f'        replicas: {i}\n        labels: {{team: t{i}, tier: "gold"}}\n'
        for i in range(providers)
    )
    return (
        "component:\n  location: ctf//github.com/openmcp-project/openmcp:v0.19.1\n"
        "environment: dev\nrepository:\n  url: https://github.com/o/r.git\n  pushBranch: main\n"
        "openmcpOperator:\n  config:\n    someKey: someValue\n"
        f"providers:\n  clusterProviders:\n{entries}"
        "templateInput:\n  a: 1\n  b: [x, y, z]\n"
    )


def main() -> int:
    text = landscape_config(500)

    def ours() -> object:
        return load_bootstrap_config(text)

    def baseline() -> object:
        return yaml.load(text, Loader=yaml.SafeLoader)

    ours()  # warm up imports and caches
    results = {
        "time": (best_time(ours), best_time(baseline)),
        "memory": (peak_memory(ours), peak_memory(baseline)),
    }
    title = f"bootstrap config with 500 providers ({len(text)} bytes), vs yaml.safe_load:"
    return report(title, results, TARGETS)
