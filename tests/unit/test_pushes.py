"""What push payloads say they changed, and queued pushes to one branch merged into one."""

from __future__ import annotations

from typing import Any

from bot.core.pushes import (
    PAYLOAD_COMMITS,
    changes_rendered_files,
    merge_pushes,
    touched_paths,
)


def push(before: str, after: str, *paths: str, forced: bool = False) -> dict[str, Any]:
    commits = [{"id": after, "added": list(paths), "modified": [], "removed": []}]
    return {
        "ref": "refs/heads/main",
        "before": before,
        "after": after,
        "forced": forced,
        "created": False,
        "commits": commits,
        "head_commit": commits[-1],
    }


def test_the_paths_a_push_touches():
    assert touched_paths(push("a", "b", "envs/dev/x.yaml", "README.md")) == frozenset(
        {"envs/dev/x.yaml", "README.md"}
    )
    assert not changes_rendered_files(push("a", "b", "README.md"))
    assert changes_rendered_files(push("a", "b", "resources/x.yaml"))


def test_a_forced_push_or_a_full_commit_list_may_hide_any_change():
    assert touched_paths(push("a", "b", "README.md", forced=True)) is None
    assert changes_rendered_files(push("a", "b", "README.md", forced=True))
    long = push("a", "b", "README.md")
    long["commits"] = long["commits"] * PAYLOAD_COMMITS
    assert touched_paths(long) is None


def test_chained_pushes_merge_into_one_from_the_first_before_to_the_last_after():
    merged = merge_pushes([push("a", "b", "README.md"), push("b", "c", "envs/x"), push("c", "d")])
    assert (merged["before"], merged["after"], merged["forced"]) == ("a", "d", False)
    assert merged["head_commit"]["id"] == "d"
    assert touched_paths(merged) == frozenset({"README.md", "envs/x"})


def test_pushes_that_do_not_chain_merge_as_a_forced_push():
    merged = merge_pushes([push("a", "b", "README.md"), push("x", "c", "README.md")])
    assert merged["forced"] and touched_paths(merged) is None
    assert merge_pushes([push("a", "b"), push("b", "c", forced=True)])["forced"]


def test_a_long_series_keeps_githubs_list_length_and_counts_as_touching_everything():
    series = [push(str(n), str(n + 1), "README.md") for n in range(3 * PAYLOAD_COMMITS)]
    merged = merge_pushes(series)
    assert len(merged["commits"]) == PAYLOAD_COMMITS
    assert touched_paths(merged) is None
