"""One case on both engines, and what their two results say: the same, a deliberate
difference (a limit of ours, DESIGN's refusal of what a pull request could abuse), or a
disagreement of a kind."""

from __future__ import annotations

import re
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Any

from bot.gotemplate import TemplateError, render
from tests.gotemplate.fuzz.oracle import Result

#: seconds one case may take in the Python engine before it counts as a hang
HANG_SECONDS = 10.0

#: our limits' own messages (docs/differences.md): a case refused by one is not scored
LIMITS = (
    "a template may build at most",
    "template run exceeded",
    "template output exceeds",
    "nesting too deep",
    "recursion too deep",
)

SAME = "same"
ERROR_TEXT = "both fail, in other words"
DISAGREEMENTS = (
    "outputs differ",
    "Go fails, Python renders",
    "Python fails, Go renders",
    "Python crashes",
    "Python hangs",
)
GO_VERSION = "Go 1.22's range over an integer (the oracle's Go is older)"
UNSCORED = ("refused by a limit of ours", "Go crashes", GO_VERSION)
#: Go's refusal to range over an integer, which Go 1.22 allows (the Go tool's Go does)
_RANGE_OVER_INT = re.compile(r"range can't iterate over -?[0-9]+$")


class _Hang(BaseException):
    """Raised into a case that ran past HANG_SECONDS (a BaseException, so no handler of the
    engine can swallow it)."""


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    def expire(signum: int, frame: FrameType | None) -> None:
        raise _Hang

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass(frozen=True)
class PyResult:
    output: str | None
    error: str | None
    crash: str | None = None  # an exception other than TemplateError, as `Type: message`
    hung: bool = False


def run_python(case: dict[str, Any]) -> PyResult:
    try:
        with _deadline(HANG_SECONDS):
            output = render(case["template"], case["data"], name=case["name"],
                            missingkey=case["missingkey"])  # fmt: skip
        return PyResult(output, None)
    except TemplateError as err:
        return PyResult(None, str(err))
    except _Hang:
        return PyResult(None, None, hung=True)
    except Exception as err:  # what the fuzzer is for: any other exception is a crash
        return PyResult(None, None, crash=f"{type(err).__name__}: {err}"[:500])


def verdict(go: Result, py: PyResult) -> str:
    if py.crash is not None:
        return "Python crashes"
    if py.hung:
        return "Python hangs"
    if go.crashed:
        return "Go crashes"
    if go.error is not None and _RANGE_OVER_INT.search(go.error):
        return GO_VERSION
    if py.error is not None and any(limit in py.error for limit in LIMITS):
        return "refused by a limit of ours"
    if go.error is None and py.error is None:
        return SAME if go.output == py.output else "outputs differ"
    if go.error is not None and py.error is not None:
        return SAME if go.error == py.error else ERROR_TEXT
    return "Go fails, Python renders" if go.error is not None else "Python fails, Go renders"
