"""The README and the contributor pages in docs/: every relative link reaches a file, every
anchor a heading, and docs/README.md lists every page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
    return {slug(h) for h in re.findall(r"^#+ (.+)$", text, re.M)}


def broken_links(page: Path) -> list[str]:
    """The relative links of `page` that reach no file, or no heading of the page."""
    broken = []
    for target in LINK.findall(page.read_text()):
        if re.match(r"[a-z]+:", target):
            continue  # https:, mailto:
        path, _, anchor = target.partition("#")
        reached = (page.parent / path).resolve() if path else page
        if not reached.exists() or (
            anchor and reached.suffix == ".md" and anchor not in anchors(reached)
        ):
            broken.append(target)
    return broken


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_reaches_a_file_and_every_anchor_a_heading(page: Path):
    assert broken_links(page) == []


def test_the_contributor_index_lists_every_page():
    index = (ROOT / "docs" / "README.md").read_text()
    linked = set(LINK.findall(index))
    pages = {p.name for p in (ROOT / "docs").glob("*.md")} - {"README.md"}
    assert pages <= linked


def test_the_readme_s_contents_list_every_section():
    readme = (ROOT / "README.md").read_text()
    contents = readme[
        readme.index("## Contents") : readme.index("\n## ", readme.index("## Contents") + 3)
    ]
    listed = {t.removeprefix("#") for t in LINK.findall(contents)}
    sections = {slug(h) for h in re.findall(r"^## (.+)$", readme, re.M)} - {"contents"}
    assert sections == listed


def test_the_link_check_finds_a_broken_link(tmp_path: Path):
    page = tmp_path / "page.md"
    (tmp_path / "there.md").write_text("# There\n")
    page.write_text("# Title\n\n[gone](nowhere.md) [here](#title) [not](#other)\n")
    page.write_text(page.read_text() + "[file](there.md#there) [nope](there.md#elsewhere)\n")
    assert broken_links(page) == ["nowhere.md", "#other", "there.md#elsewhere"]
