"""Golden Markdown of what the bot says (Atlantis-style renderer tests): every reply sentence
and the texts of a check run a job could not finish, rendered from fixed inputs and compared
with `tests/fixtures/golden/*.md`. After a deliberate change of wording, regenerate them with
`BOOTSTRAP_BOT_UPDATE_GOLDEN=1 make test` and review the diff like any other change."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core import replies, reports
from bot.core.discovery import Landscape
from bot.core.retries import RetryPlan

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
