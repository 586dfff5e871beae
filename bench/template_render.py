"""Rendering the real openMCP templates: renders per second, against parsing their output.

The baseline is PyYAML's safe_load of the rendered files, work of the same size that the
renderer's callers do anyway; rendering must stay well below it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bench.measure import best_time, report
from bot.gotemplate import render_bootstrapper_file
from tests.gotemplate.cases import BOOTSTRAPPER_VALUES

TEMPLATES = Path(__file__).parents[1] / "tests/fixtures/bootstrapper/manage-deployment-repo-01"
TARGETS = {"time": 0.25}


def sources() -> list[tuple[str, str]]:
    files = sorted((TEMPLATES / "templates").rglob("*.yaml"))
    return [(str(p), p.read_text()) for p in files if p.name not in ("Chart.yaml", "values.yaml")]


def main() -> int:
    templates = sources()
    data: dict[str, Any] = {"Values": BOOTSTRAPPER_VALUES}
    outputs = [render_bootstrapper_file(text, data, name=name) for name, text in templates]

    def render_all() -> None:
        for name, text in templates:
            render_bootstrapper_file(text, data, name=name)

    def parse_all() -> None:
        for output in outputs:
            list(yaml.safe_load_all(output))

    rendering, parsing = best_time(render_all, 5), best_time(parse_all, 5)
    size = sum(len(t) for _, t in templates)
    print(f"{len(templates) / rendering:.1f} template renders per second "
          f"({len(templates)} files, {size} bytes of templates)")  # fmt: skip
    title = "rendering the real templates vs yaml.safe_load of their output:"
    return report(title, {"time": (rendering, parsing)}, TARGETS)


if __name__ == "__main__":
    raise SystemExit(main())
