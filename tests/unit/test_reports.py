"""What a render tells people: check run conclusion, title, summary and annotations."""

from __future__ import annotations

from bot.adapters.github.models import MAX_ANNOTATIONS, Annotation, CheckRunOutput, fitted
from bot.core.changes import ChangeSummary, ObjectChange, ObjectKey, summarize_changes
from bot.core.discovery import DISCOVERY_PATH, DiscoveryProblem, Landscape
from bot.core.hand_edits import HandEdit
from bot.core.problems import Problem
from bot.core.reports import (
    MAX_LISTED,
    Finding,
    Merging,
    discovery_report,
    merge_title,
    render_comment,
    render_failed,
    render_hand_edited,
    render_proposal,
    render_succeeded,
)


def test_a_failed_render_locates_what_it_can_and_quotes_the_go_tool():
    problems = [
        Problem("environment: Required value", ".bootstrap/config.yaml", 3, 1),
        Problem("registry unreachable"),
    ]
    warning = Problem("unknown field", ".bootstrap/config.yaml", 9, 5, severity="warning")
    report = render_failed("config", problems, [warning], go_message="invalid config")
    assert (report.conclusion, report.title) == ("failure", "The bootstrap config is invalid")
    assert report.findings == (
        Finding(".bootstrap/config.yaml", 3, 1, "environment: Required value", "failure"),
        Finding(".bootstrap/config.yaml", 9, 5, "unknown field", "warning"),
    )
    assert "- `.bootstrap/config.yaml:3:1` environment: Required value" in report.summary
    assert "- registry unreachable" in report.summary
    assert "```\ninvalid config\n```" in report.summary
    assert "Nothing was committed" in report.summary


def test_a_successful_render_says_what_the_bot_did():
    summary = summarize_changes({}, {"envs/dev/a.yaml": b"a: 1\n"}, [], [])
    committed = render_succeeded(summary, [], "committed")
    assert (
        committed.conclusion == "success"
        and "committed the re-rendered manifests to this branch" in committed.summary
    )
    assert "`envs/dev/a.yaml`" in committed.summary
    fork = render_succeeded(summary, [], "not-committed-fork")
    assert fork.conclusion == "failure" and "fork" in fork.summary
    same = summarize_changes({"a": b"1"}, {"a": b"1"}, [], [])
    assert render_succeeded(same, [], "up-to-date").title == "Up to date"
    comment = render_comment(committed, branch="feature", commit="0123456789abcdef")
    assert comment.startswith("### ✅ bootstrap-bot render: ")
    assert "Rendered `feature` at 0123456789ab." in comment


def test_a_stale_branch_gets_a_proposal_that_names_its_pull_request():
    summary = summarize_changes({}, {"envs/dev/a.yaml": b"a: 1\n"}, [], [])
    proposed = render_succeeded(summary, [], "proposed", proposal="#7")
    assert proposed.conclusion == "neutral" and "proposed in #7" in proposed.summary
    title, body = render_proposal(summary, [], branch="incoming", commit="0123456789abcdef")
    assert title == "Re-render manifests of incoming"
    assert (
        "config at 0123456789ab, which was changed without a pull request" in body
        and "`envs/dev/a.yaml`" in body
    )
    assert "proposed in" not in body


def test_the_discovery_report_locates_problems_and_names_missing_branches():
    landscapes = [Landscape("dev"), Landscape("prod", "prod/config.yaml")]
    good = discovery_report([], landscapes, [])
    assert (good.conclusion, good.title) == ("success", "2 landscapes")
    assert "- `prod` (prod/config.yaml)" in good.summary
    problem = DiscoveryProblem("landscapes[2].branch: required", 6, 5)
    bad = discovery_report([problem], landscapes, ["prod"])
    assert (bad.conclusion, bad.title) == ("failure", f"2 problems in {DISCOVERY_PATH}")
    assert bad.findings == (
        Finding(DISCOVERY_PATH, 6, 5, "landscapes[2].branch: required", "failure"),
    )
    assert "`prod` (prod/config.yaml) — **no such branch**" in bad.summary
    assert f"`{DISCOVERY_PATH}:6:5` landscapes[2].branch: required" in bad.summary


def test_the_merge_title_says_what_merging_changes_and_leads_with_destruction():
    crd = ObjectKey("CustomResourceDefinition", "", "x.io", "apiextensions.k8s.io/v1")
    ns = ObjectKey("Namespace", "", "n", "v1")
    nothing = ChangeSummary((), (), (), (), (), ())
    assert merge_title(Merging("dev", nothing)) == "Merging changes nothing in dev"
    files_only = ChangeSummary((), ("README.md",), (), (), (), ())
    assert merge_title(Merging("dev", files_only)) == (
        "Merging into dev: 1 file changed, no object changes"
    )
    both = ChangeSummary(("a",), (), ("b",), (ObjectChange(ns),), (), (ObjectChange(crd),))
    assert merge_title(Merging("dev", both)) == (
        "Merging into dev is destructive: 1 object added, 1 removed"
    )
    unknown = ChangeSummary(("a",), (), (), (), (), (), objects_unknown="no build")
    assert "objects unknown" in merge_title(Merging("dev", unknown))


def test_a_flood_of_hand_edits_is_listed_and_annotated_within_bounds():
    edits = [HandEdit(f"envs/dev/f{i}.yaml", 1, "`.bootstrap/config.yaml`") for i in range(500)]
    report = render_hand_edited(edits, [])
    assert report.title == "500 generated files edited by hand"
    rows = [line for line in report.summary.splitlines() if line.startswith("| `envs/")]
    assert len(rows) == MAX_LISTED and f"| … and {500 - MAX_LISTED} more | | |" in report.summary
    notes = [Annotation(f.path, f.line, f.message, level=f.level) for f in report.findings]
    output = fitted(CheckRunOutput(report.title, report.summary, annotations=notes))
    assert output is not None and len(output.annotations) == MAX_ANNOTATIONS
