"""Go's own text/template and sprig, as the fuzzer asks them: the oracle of generate.py, fed
cases in batches and answering a line per case. When a case kills it (a Go runtime fatal
error such as running out of memory, or running too long), that case is reported as Go's
crash and the oracle is asked the rest again.
"""

from __future__ import annotations

import json
import resource
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.gotemplate.generate import build_oracle

#: seconds one batch may take (Go renders a thousand cases in well under one): past it, the
#: case it was on counts as Go's crash and the rest are asked again
BATCH_SECONDS = 60.0
MEMORY_BYTES = 4 << 30


@dataclass(frozen=True)
class Result:
    output: str | None
    error: str | None
    crashed: bool = False  # the oracle died or hung on this case alone


class Oracle:
    def __init__(self, workdir: Path) -> None:
        self.binary = build_oracle(workdir)

    def functions(self) -> list[str]:
        """The names of every function Go's templates have here (builtins, sprig, the Go
        tool's own)."""
        done = subprocess.run(
            [str(self.binary), "-funcs"], capture_output=True, text=True, check=True
        )
        names: list[str] = json.loads(done.stdout)
        return sorted(set(names))

    def run(self, cases: list[dict[str, Any]]) -> list[Result]:
        """Go's result for each case, in order."""
        results: list[Result] = []
        while len(results) < len(cases):
            rest = cases[len(results) :]
            answered, why = self._lines(rest)
            results += answered
            if len(answered) < len(rest):  # the next case killed the oracle
                results.append(Result(None, f"oracle crashed: {why}", crashed=True))
        return results

    def _lines(self, cases: list[dict[str, Any]]) -> tuple[list[Result], str]:
        """The results the oracle wrote before it ended, and why it ended early if it did."""
        try:
            done = subprocess.run(
                [str(self.binary), "-lines"],
                input=json.dumps(cases),
                capture_output=True,
                text=True,
                timeout=BATCH_SECONDS,
                check=False,
                preexec_fn=_bounded_memory,
            )
            stdout, why = done.stdout, done.stderr[-300:]
        except subprocess.TimeoutExpired as expired:
            out = expired.stdout or b""
            stdout = out.decode() if isinstance(out, bytes) else out
            why = f"took over {BATCH_SECONDS:g} s"
        answers = [json.loads(line) for line in stdout.splitlines() if line.endswith("}")]
        return [Result(a["output"], a["error"]) for a in answers], why


def _bounded_memory() -> None:
    """The oracle may take MEMORY_BYTES: a case that would allocate more (a sprig function
    asked to build gigabytes) then kills it at once, instead of the machine paging."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
