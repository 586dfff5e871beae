"""The Python engine against Go's own text/template, case by case (golden.json, from Go)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.gotemplate import TemplateError, render

GOLDEN = json.loads((Path(__file__).parent / "golden.json").read_text())
# Cases where both fail but the text comes from a parser we do not port word for word.
ERROR_TEXT_DIFFERS = {
    "fromyaml-2": "yaml.v2's syntax error wording (PyYAML words it differently)",
}
# Cases where bootstrap-bot deliberately differs from the Go tool (docs/differences.md): the
# output it gives instead.
DELIBERATE = {
    # A registry port is not a tag.
    "parseimage-4": "map[digest: image:host:5000/img tag:latest] host:5000/img|latest|",
}
CASES: list[dict[str, Any]] = GOLDEN["cases"]


def run(c: dict[str, Any]) -> tuple[str | None, str | None]:
    try:
        output = render(
            c["template"],
            c["data"],
            name=c["name"],
            missingkey=c["missingkey"],
            sprig=c["funcs"] != "builtin",
        )
        return output, None
    except TemplateError as err:
        return None, str(err)


@pytest.mark.parametrize("c", CASES, ids=[c["name"] for c in CASES])
def test_matches_go(c):
    output, error = run(c)
    if c["name"] in DELIBERATE:
        assert output != c["output"] and output == DELIBERATE[c["name"]]
    elif c["error"] is None:
        assert error is None, f"Go rendered {c['output']!r}"
        assert output == c["output"]
    else:
        assert output is None, f"Go failed with {c['error']!r}"
        if c["name"] not in ERROR_TEXT_DIFFERS:
            assert error == c["error"]
