"""The README's pictures are made from the golden Markdown as GitHub shows it."""

from __future__ import annotations

from docs.screenshots import GOLDEN, SHOTS, page


def test_every_picture_comes_from_a_golden_file():
    for _, golden, _ in SHOTS:
        assert (GOLDEN / f"{golden}.md").exists()


def test_a_page_shows_alerts_and_tables_as_github_does():
    shown = page((GOLDEN / "upgrade-pr-body.md").read_text(), "opened this pull request")
    assert "[!CAUTION]" not in shown and "class='alert'" in shown and ">Caution<" in shown
    assert "<table>" in shown and "<th>component</th>" in shown
    assert "<!-- bootstrap-bot:upgrade {" in shown  # the record stays a hidden comment
