"""The differential fuzzer: random templates and data on Go's text/template + sprig (the
oracle) and on bootstrap-bot's engine, every disagreement minimised and bucketed by cause.

    python -m tests.gotemplate.fuzz --cases 100000 --seed 1

1. draw a batch of cases (case i of seed s comes from its own random source: `--replay s:i`
   draws it again);
2. render each on both engines and judge the pair (compare.verdict);
3. minimise each disagreement not already explained by a bucket of its kind (one whose
   functions are among the case's): the smallest template and data for which the two
   engines still disagree the same way;
4. print the agreement over the scored cases and the buckets, largest first, each with its
   smallest case; write them all to --report.

Needs Debian's Go and sprig (`make fuzz` installs them). Exit status 1 when agreement is under
--target or anything crashed or hung.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.gotemplate.fuzz.compare import (
    DISAGREEMENTS,
    ERROR_TEXT,
    SAME,
    UNSCORED,
    PyResult,
    run_python,
    verdict,
)
from tests.gotemplate.fuzz.grammar import EXCLUDED, Grammar, Node, functions_in, size, smaller
from tests.gotemplate.fuzz.oracle import Oracle, Result

BATCH = 2000
#: disagreements minimised in all (one whose functions include those of a bucket of its kind
#: joins that bucket unminimised)
MINIMISE_AT_MOST = 300
#: candidates tried per minimising step, and steps per case
CANDIDATES = 400
STEPS = 60


@dataclass
class Drawn:
    label: str  # seed:index
    tree: Node
    data: Any
    missingkey: str

    def case(self) -> dict[str, Any]:
        return {"name": "fuzz", "template": self.tree.text(), "data": self.data,
                "missingkey": self.missingkey, "funcs": "sprig"}  # fmt: skip


@dataclass
class Found:
    kind: str
    functions: tuple[str, ...]
    drawn: Drawn
    go: Result
    py: PyResult
    count: int = 1
    labels: list[str] = field(default_factory=list)


def draw(grammar_functions: list[str], seed: int, index: int) -> Drawn:
    rng = random.Random(f"{seed}:{index}")
    grammar = Grammar(rng, grammar_functions)
    missingkey = "zero" if rng.random() < 0.3 else "error"
    return Drawn(f"{seed}:{index}", grammar.template(), grammar.data(), missingkey)


def judge(oracle: Oracle, drawn: list[Drawn]) -> list[tuple[str, Result, PyResult]]:
    cases = [d.case() for d in drawn]
    go = oracle.run(cases)
    py = [run_python(c) for c in cases]
    return [(verdict(g, p), g, p) for g, p in zip(go, py, strict=True)]


def minimise(oracle: Oracle, drawn: Drawn, kind: str) -> tuple[Drawn, Result, PyResult]:
    """The smallest variant of `drawn` found that still disagrees as `kind`."""
    best = drawn
    go, py = oracle.run([best.case()])[0], run_python(best.case())
    for _ in range(STEPS):
        candidates = [
            Drawn(best.label, tree, best.data, best.missingkey) for tree in smaller(best.tree)
        ]
        candidates += [
            Drawn(best.label, best.tree, data, best.missingkey) for data in _smaller_data(best.data)
        ]
        candidates = candidates[:CANDIDATES]
        found = None
        for start in range(0, len(candidates), 50):
            chunk = candidates[start : start + 50]
            for candidate, (said, g, p) in zip(chunk, judge(oracle, chunk), strict=True):
                if said == kind:
                    found = (candidate, g, p)
                    break
            if found:
                break
        if found is None:
            break
        best, go, py = found
    return best, go, py


def _smaller_data(data: Any) -> list[Any]:
    if not isinstance(data, dict):
        return []
    out: list[Any] = [{k: v for k, v in data.items() if k != key} for key in data]
    out += [{**data, key: "a"} for key, value in data.items() if value != "a"]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.gotemplate.fuzz")
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--target", type=float, default=99.9)
    parser.add_argument("--report", type=Path, default=Path("build/fuzz/report.json"))
    parser.add_argument("--replay", help="seed:index: print that case and both results")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        oracle = Oracle(Path(tmp))
        functions = oracle.functions()
        if args.replay:
            seed, index = (int(part) for part in args.replay.split(":"))
            drawn = draw(functions, seed, index)
            [(said, go, py)] = judge(oracle, [drawn])
            print(json.dumps({"case": drawn.case(), "verdict": said, "go": go.__dict__,
                              "python": py.__dict__}, indent=1, ensure_ascii=False))  # fmt: skip
            return 0
        return fuzz(oracle, functions, args)


def fuzz(oracle: Oracle, functions: list[str], args: argparse.Namespace) -> int:
    started = time.monotonic()
    kinds: Counter[str] = Counter()
    found: dict[tuple[str, tuple[str, ...]], Found] = {}
    minimised = 0
    print(
        f"{args.cases} cases from seed {args.seed}; {len(functions)} Go functions, "
        f"{len([f for f in functions if f in EXCLUDED])} excluded: "
        + ", ".join(sorted({why for name, why in EXCLUDED.items() if name in functions})),
        flush=True,
    )
    for start in range(0, args.cases, BATCH):
        drawn = [
            draw(functions, args.seed, i) for i in range(start, min(start + BATCH, args.cases))
        ]
        for d, (said, go, py) in zip(drawn, judge(oracle, drawn), strict=True):
            kinds[said] += 1
            if said not in DISAGREEMENTS:
                continue
            names = tuple(sorted(functions_in(d.tree)))
            known = [f for (k, fs), f in found.items() if k == said and set(fs) <= set(names)]
            if known:  # most likely the same cause as a case already minimised
                known[0].count += 1
                known[0].labels.append(d.label)
                continue
            if minimised >= MINIMISE_AT_MOST:
                continue
            small, go, py = minimise(oracle, d, said)
            minimised += 1
            key = (said, tuple(sorted(functions_in(small.tree))))
            if key in found:
                found[key].count += 1
                found[key].labels.append(d.label)
            else:
                found[key] = Found(said, key[1], small, go, py, labels=[d.label])
        done = min(start + BATCH, args.cases)
        print(f"  {done} cases, {_agreement(kinds):.3f}% agree, "
              f"{time.monotonic() - started:.0f} s", flush=True)  # fmt: skip
    return report(kinds, found, args)


def _scored(kinds: Counter[str]) -> int:
    return sum(count for kind, count in kinds.items() if kind not in UNSCORED)


def _agreement(kinds: Counter[str]) -> float:
    scored = _scored(kinds)
    return 100.0 * (kinds[SAME] + kinds[ERROR_TEXT]) / scored if scored else 100.0


def report(kinds: Counter[str], found: dict[Any, Found], args: argparse.Namespace) -> int:
    scored, agreement = _scored(kinds), _agreement(kinds)
    strict = 100.0 * kinds[SAME] / scored if scored else 100.0
    print(f"scored {scored} of {sum(kinds.values())} cases: {agreement:.3f}% agree "
          f"(target >= {args.target}), {strict:.3f}% with the same error text")  # fmt: skip
    for kind, count in kinds.most_common():
        print(f"  {count:7d}  {kind}")
    buckets = sorted(found.values(), key=lambda f: -f.count)
    print(f"{len(buckets)} buckets of disagreement:")
    for bucket in buckets:
        case = bucket.drawn.case()
        print(f"- {bucket.count} x {bucket.kind} [{', '.join(bucket.functions) or 'no function'}]"
              f" e.g. {bucket.labels[0]}, smallest (size {size(bucket.drawn.tree)}):")  # fmt: skip
        print(f"    template: {json.dumps(case['template'], ensure_ascii=False)}")
        print(f"    data:     {json.dumps(case['data'], ensure_ascii=False)[:300]}")
        print(f"    Go:       {_said(bucket.go.output, bucket.go.error)}")
        print(f"    Python:   {_said(bucket.py.output, bucket.py.error or bucket.py.crash)}")
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(json.dumps({
        "kinds": dict(kinds), "agreement": agreement, "strict": strict,
        "buckets": [{"kind": b.kind, "functions": b.functions, "count": b.count,
                     "labels": b.labels[:20], "case": b.drawn.case(), "go": b.go.__dict__,
                     "python": b.py.__dict__} for b in buckets],
    }, indent=1, ensure_ascii=False))  # fmt: skip
    bad = kinds["Python crashes"] + kinds["Python hangs"]
    return int(agreement < args.target or bad > 0)


def _said(output: str | None, error: str | None) -> str:
    if output is not None:
        return "renders " + json.dumps(output, ensure_ascii=False)[:300]
    return "fails: " + (error or "")[:300]


if __name__ == "__main__":
    sys.exit(main())
