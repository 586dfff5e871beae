"""The Python engine against Go's own text/template, case by case (golden.json, from Go)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.gotemplate import TemplateError, render

GOLDEN = json.loads((Path(__file__).parent / "golden.json").read_text())
CASES: list[dict[str, Any]] = GOLDEN["cases"]


def run(c: dict[str, Any]) -> tuple[str | None, str | None]:
    try:
        return render(c["template"], c["data"], name=c["name"], missingkey=c["missingkey"]), None
    except TemplateError as err:
        return None, str(err)


@pytest.mark.parametrize("c", CASES, ids=[c["name"] for c in CASES])
def test_matches_go(c):
    output, error = run(c)
    if c["error"] is None:
        assert error is None, f"Go rendered {c['output']!r}"
        assert output == c["output"]
    else:
        assert output is None, f"Go failed with {c['error']!r}"
        assert error == c["error"]
