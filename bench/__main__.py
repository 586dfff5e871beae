"""`make bench`: every benchmark, each printing ratios against a baseline from the same run."""

from __future__ import annotations

import sys

from bench import (
    branches,
    config_read,
    hostile_input,
    ocm_resolve,
    push_burst,
    render_landscape,
    replicas,
    scale,
    template_render,
    transfer,
    upgrade_latency,
    webhook_throughput,
)

if __name__ == "__main__":
    failed = 0
    for benchmark in (
        config_read,
        template_render,
        ocm_resolve,
        render_landscape,
        webhook_throughput,
        upgrade_latency,
        transfer,
        scale,
        branches,
        replicas,
        push_burst,
        hostile_input,
    ):
        failed |= benchmark.main()
        print()
    sys.exit(failed)
