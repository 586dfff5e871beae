"""Generated files a pull request edits by hand, told where and what to change instead."""

from __future__ import annotations

from bot.core.hand_edits import first_differing_line, hand_edits

OWNED = ("envs/dev", "resources")
BASE = {"envs/dev/a.yaml": b"a: 1\nb: 2\n", "resources/x.yaml": b"x: 1\n", "README.md": b"r"}


def edits(head: dict[str, bytes], rendered: dict[str, bytes], touched: set[str] | None = None):
    return hand_edits(head, BASE, rendered, touched=touched, owned=OWNED)


def test_an_edit_the_render_would_revert_is_found_at_its_first_changed_line():
    head = BASE | {"envs/dev/a.yaml": b"a: 1\nb: 3\n"}
    (edit,) = edits(head, BASE, {"envs/dev/a.yaml"})
    assert (edit.path, edit.line) == ("envs/dev/a.yaml", 2)
    assert "`.bootstrap/config.yaml`" in edit.instead


def test_a_file_copied_from_an_extra_manifest_names_that_manifest():
    path = "resources/openmcp/extra/ns.yaml"
    (edit,) = edits(BASE | {path: b"kind: Namespace\n"}, BASE, {path})
    assert edit.instead == "`.bootstrap/extra-manifests/ns.yaml`" and edit.line == 1


def test_no_edit_when_the_render_agrees_merging_changes_nothing_or_only_the_bot_touched_it():
    changed = BASE | {"envs/dev/a.yaml": b"a: 2\n"}
    assert edits(changed, changed, {"envs/dev/a.yaml"}) == ()  # the render makes the same
    assert edits(BASE, changed, {"envs/dev/a.yaml"}) == ()  # stale, not edited: the bot renders
    assert edits(changed, BASE, set()) == ()  # only the bot's own commits changed it
    assert edits(BASE | {"README.md": b"new"}, BASE, {"README.md"}) == ()  # not generated
    assert len(edits(changed, BASE, None)) == 1  # who changed it unknown: it counts


def test_removed_and_added_generated_files_are_edits_too():
    removed = {p: d for p, d in BASE.items() if p != "resources/x.yaml"}
    assert [e.path for e in edits(removed, BASE, {"resources/x.yaml"})] == ["resources/x.yaml"]
    added = BASE | {"envs/dev/new.yaml": b"n: 1\n"}
    assert [e.path for e in edits(added, BASE, {"envs/dev/new.yaml"})] == ["envs/dev/new.yaml"]


def test_the_first_differing_line_of_a_file_cut_short_or_grown():
    assert first_differing_line(b"a\nb\nc\n", b"a\nb\n") == 3
    assert first_differing_line(b"a\n", b"a\nb\nc\n") == 2
    assert first_differing_line(None, b"a\n") == 1
