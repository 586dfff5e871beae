"""Golden Markdown of what the bot says (Atlantis-style renderer tests): every reply, comment,
pull request body and check run text, rendered from fixed inputs and compared with
`tests/fixtures/golden/*.md`. After a deliberate change of wording, regenerate them with
`BOOTSTRAP_BOT_UPDATE_GOLDEN=1 make test` and review the diff like any other change.
`test_markdown_structure` renders each with GitHub's own Markdown (cmark-gfm)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import cmarkgfm  # type: ignore[import-untyped]
import pytest
from cmarkgfm.cmark import Options  # type: ignore[import-untyped]

from bot.core import replies, reports
from bot.core.discovery import Landscape
from bot.core.retries import RetryPlan
from tests.unit import golden_inputs as given

GOLDEN = Path(__file__).parents[1] / "fixtures" / "golden"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
URL = "https://github.com/example-org/landscape/pull/7"
DEV, PROD = Landscape("dev"), Landscape("prod", ".bootstrap/prod.yaml")

RETRY_AT = datetime(2026, 12, 2, 10, 42, tzinfo=UTC)
TEXTS: dict[str, Callable[[], str]] = {
    "reply-body": lambda: replies.reply_body(
        "walt",
        [
            replies.Answer("/bootstrap render", replies.branch_up_to_date("dev", COMMIT), True),
            replies.Answer("/bootstrap ignore", replies.IGNORE_WHICH, False),
        ],
    ),
    "help": lambda: replies.help_text("write", [DEV], [PROD]),
    "not-a-landscape": lambda: replies.not_a_landscape("`main`", [DEV, PROD]),
    "which-landscape": lambda: replies.which_landscape([DEV, PROD]),
    "denied": lambda: replies.denied("apply", PROD, "write", "admin"),
    "internal-error": lambda: replies.internal_error("4f2a9c01be77"),
    "peer-unavailable": lambda: replies.peer_unavailable("GitHub answered 502"),
    "branch-missing": lambda: replies.branch_missing("dev"),
    "ref-missing": lambda: replies.ref_missing("refs/pull/7/head"),
    "forks-ignored": lambda: replies.FORKS_IGNORED,
    "rendered-pull": lambda: replies.rendered_pull(COMMIT, "fedcba9876543210", True, "Up to date"),
    "branch-stale": lambda: replies.branch_stale("dev", COMMIT, URL),
    "proposal-taken-over": lambda: replies.proposal_taken_over("bootstrap-bot/render/dev"),
    "branch-does-not-render": lambda: replies.branch_does_not_render(
        "dev", COMMIT, "- `.bootstrap/config.yaml:3:1`: unknown field"
    ),
    "upgrade-proposed": lambda: replies.upgrade_proposed("created", "v0.0.2", "dev", URL),
    "upgrade-proposed-already": lambda: replies.upgrade_proposed_already(URL, "v0.0.2"),
    "no-cluster-named": lambda: replies.no_cluster_named("dev", ".bootstrap/config.yaml"),
    "nothing-to-ignore": lambda: replies.nothing_to_ignore_in("dev", "v0.0.2", ".bootstrap/x.yaml"),
    "ignored-and-closed": lambda: replies.ignored("v0.0.2", "dev", (URL, "v0.0.2")),
    "check-run-failure": lambda: "\n\n".join(reports.failure_texts("`a.yaml:3:1`: bad")),
    "check-run-waiting": lambda: "\n\n".join(
        reports.waiting_texts("registry.test: HTTP 503", RetryPlan(2, RETRY_AT))
    ),
    "check-run-bug": lambda: "\n\n".join(reports.bug_texts("4f2a9c01be77")),
    **given.TEXTS,
}


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_text_matches_its_golden_markdown(name: str):
    text = TEXTS[name]().rstrip("\n") + "\n"
    golden = GOLDEN / f"{name}.md"
    if os.environ.get("BOOTSTRAP_BOT_UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text)
    assert golden.exists(), f"no golden file {golden.name}: run with BOOTSTRAP_BOT_UPDATE_GOLDEN=1"
    assert text == golden.read_text()


def test_every_golden_file_belongs_to_a_text():
    assert sorted(p.stem for p in GOLDEN.glob("*.md")) == sorted(TEXTS)


#: GitHub refuses a pull request body, a comment or a check run summary above this
GITHUB_TEXT_LIMIT = 65_536
_PIPE = re.compile(r"(?<!\\)\|")


class _Rendered(HTMLParser):
    """What GitHub's renderer made of a text: each table's header cells, the <details>."""

    def __init__(self) -> None:
        super().__init__()
        self.headers: list[list[str]] = []
        self.details = 0
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.headers.append([])
        elif tag == "th":
            self._cell = []
        elif tag == "details":
            self.details += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "th" and self._cell is not None:
            self.headers[-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "details":
            self.details -= 1

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _source_tables(text: str) -> list[list[int]]:
    """The cell count of each row of each table in the Markdown source."""
    tables: list[list[int]] = []
    previous = ""
    for line in text.splitlines():
        row = line.strip()
        if row.startswith("|") and re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", row):
            tables.append([_cells(previous), _cells(row)])
        elif row.startswith("|") and tables and previous.strip().startswith("|"):
            tables[-1].append(_cells(row))
        previous = line
    return tables


def _cells(row: str) -> int:
    return len(_PIPE.split(row.strip().removeprefix("|").removesuffix("|")))


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_markdown_structure(name: str):
    """Rendered as GitHub renders it: every table parses with named columns and rows as wide
    as their header, every <details> is closed, and the text fits GitHub's limit."""
    text = TEXTS[name]()
    assert len(text) <= GITHUB_TEXT_LIMIT
    html = cmarkgfm.github_flavored_markdown_to_html(text, options=Options.CMARK_OPT_UNSAFE)
    rendered = _Rendered()
    rendered.feed(html)
    source = _source_tables(text)
    assert len(rendered.headers) == len(source), "a table GitHub does not render as one"
    for header in rendered.headers:
        assert header and all(header), f"a table with an empty column header: {header}"
    for rows in source:
        assert len(set(rows)) == 1, f"rows of different widths: {rows}"
    assert rendered.details == 0 and html.count("<details>") == html.count("</details>")


def test_the_structure_check_sees_broken_markdown():
    """The check above fails on what it is for (a check that cannot fail proves nothing)."""
    assert _source_tables("| a | b |\n|---|---|\n| 1 | 2 | 3 |") == [[2, 2, 3]]
    rendered = _Rendered()
    rendered.feed(cmarkgfm.github_flavored_markdown_to_html("| | b |\n|---|---|\n| 1 | 2 |"))
    assert rendered.headers == [["", "b"]]
    opened = _Rendered()
    opened.feed(
        cmarkgfm.github_flavored_markdown_to_html(
            "<details><summary>x</summary>\n\nhi\n", options=Options.CMARK_OPT_UNSAFE
        )
    )
    assert opened.details == 1
