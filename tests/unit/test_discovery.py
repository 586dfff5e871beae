"""Which branches are landscapes: the discovery file, or the default branch's config."""

from __future__ import annotations

from bot.core.discovery import (
    DISCOVERY_PATH,
    MAX_DISCOVERY_CHARS,
    MAX_LANDSCAPES,
    Discovery,
    Landscape,
    discover,
    read_discovery,
)
from bot.golang.yamlv2 import MAX_DEPTH


def test_without_a_discovery_file_the_default_branch_config_decides():
    assert discover("main", None, has_config=True) == Discovery((Landscape("main"),))
    assert discover("main", None, has_config=False) == Discovery(())


def test_the_discovery_file_lists_branches_and_config_paths():
    text = b"""\
landscapes:
  - branch: incoming
  - branch: release-eu
    config: ./landscapes/eu/config.yaml
"""
    found = discover("main", text, has_config=True)
    assert found == Discovery(
        (Landscape("incoming"), Landscape("release-eu", "landscapes/eu/config.yaml")),
        listed=True,
    )
    assert found.on("release-eu") == Landscape("release-eu", "landscapes/eu/config.yaml")
    assert found.on("main") is None


def test_every_mistake_is_located_and_good_entries_are_kept():
    found = read_discovery(
        """\
landscape: []
landscapes:
  - branch: incoming
  - branch: "bad branch"
  - brnch: x
  - branch: incoming
  - branch: ok
    config: ../outside.yaml
  - 7
  - branch: ok2
    extra: 1
"""
    )
    assert found.landscapes == (Landscape("incoming"), Landscape("ok2"))
    assert all(p.file == ".github/bootstrap-bot.yml" for p in found.problems)
    assert [(p.line, p.column, p.message) for p in found.problems] == [
        (1, 1, "landscape: unknown field; did you mean 'landscapes'?"),
        (4, 13, "landscapes[1].branch: not a branch name"),
        (5, 5, "landscapes[2].brnch: unknown field; did you mean 'branch'?"),
        (5, 5, "landscapes[2].branch: required"),
        (6, 5, "landscapes[3].branch: incoming is listed twice"),
        (8, 13, "landscapes[4].config: must be a path inside the repository"),
        (9, 5, "landscapes[5]: must be a mapping with branch (and config)"),
        (11, 5, "landscapes[6].extra: unknown field"),
    ]


def test_broken_yaml_and_wrong_shapes():
    (problem,) = read_discovery("landscapes: [\n").problems
    assert (problem.line, problem.message.startswith("not valid YAML")) == (2, True)
    assert [str(p) for p in read_discovery("- a\n").problems] == [
        ".github/bootstrap-bot.yml:1:1: error: must be a mapping with `landscapes:`"
    ]
    assert [str(p) for p in read_discovery("landscapes: incoming\n").problems] == [
        ".github/bootstrap-bot.yml:1:13: error: landscapes: must be a list of {branch, config}"
    ]


def test_a_discovery_file_nested_without_end_is_refused_at_its_line():
    found = read_discovery("landscapes:\n  - branch: main\n    config: " + "[" * 50_000 + "\n")
    assert found.landscapes == ()
    assert [str(p) for p in found.problems] == [
        f"{DISCOVERY_PATH}:3:{12 + MAX_DEPTH - 2}: error: yaml: line 3: nested deeper than "
        f"{MAX_DEPTH} levels"
    ]


def test_landscapes_past_the_limit_are_left_out_and_said_so():
    entries = "".join(f"  - branch: b{i}\n" for i in range(MAX_LANDSCAPES + 5))
    found = read_discovery("landscapes:\n" + entries)
    assert len(found.landscapes) == MAX_LANDSCAPES
    assert [str(p) for p in found.problems] == [
        f"{DISCOVERY_PATH}:{MAX_LANDSCAPES + 2}:5: error: landscapes: at most {MAX_LANDSCAPES} "
        "are read; the rest are left out"
    ]


def test_a_discovery_file_past_the_size_limit_is_not_read():
    text = "landscapes:\n  - branch: main\n" + "#" * MAX_DISCOVERY_CHARS
    found = read_discovery(text)
    assert found.landscapes == ()
    assert [p.message for p in found.problems] == [
        f"is {len(text):,} characters; at most {MAX_DISCOVERY_CHARS:,} are read"
    ]
