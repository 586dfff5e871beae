"""Pictures of what the App posts, for the README: golden Markdown rendered as GitHub renders
it (cmark-gfm, GitHub's alerts and a GitHub-like stylesheet), photographed by headless
Chromium. `make screenshots` runs this; the pictures are committed under docs/screenshots/.

Each page is loaded twice: once to measure its height (a script writes it into the DOM, which
`--dump-dom` prints), then photographed at exactly that height.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bot.adapters.markdown import GITHUB_STYLE, to_html

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "fixtures" / "golden"
OUT = ROOT / "docs" / "screenshots"
WIDTH = 900
#: (picture, golden file, what GitHub shows above it)
SHOTS = (
    ("upgrade-pull-request", "upgrade-pr-body", "bootstrap-bot opened this pull request"),
    ("pull-request-comment", "render-comment", "bootstrap-bot commented"),
    ("deploy-report", "deploy-comment-ready", "bootstrap-bot commented on the merged PR"),
    ("deploy-failure", "deploy-comment-flux-failed", "bootstrap-bot commented on the merged PR"),
)


def page(markdown: str, caption: str) -> str:
    body = to_html(markdown)
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><style>{GITHUB_STYLE}</style></head>"
        f"<body><div class='box'><div class='head'><b>bootstrap-bot</b> "
        f"<span>{html.escape(caption.removeprefix('bootstrap-bot '))}</span></div>"
        f"<div class='body'>{body}</div></div>"
        "<script>document.body.setAttribute('data-height', Math.ceil("
        "document.querySelector('.box').getBoundingClientRect().bottom) + 16)</script>"
        "</body></html>"
    )


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        sys.exit("no chromium: `make screenshots` installs Debian's chromium package")
    return found


def shoot(browser: str, html_file: Path, png: Path, profile: Path) -> None:
    flags = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--force-device-scale-factor=1",
    ]
    url = html_file.as_uri()
    dom = subprocess.run(
        [*flags, f"--window-size={WIDTH},800", "--dump-dom", url],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    height = int(re.search(r'data-height="(\d+)"', dom).group(1))  # type: ignore[union-attr]
    subprocess.run(
        [*flags, f"--window-size={WIDTH},{height}", f"--screenshot={png}", url],
        capture_output=True,
        check=True,
        timeout=120,
    )


def main() -> None:
    browser = chromium()
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        for name, golden, caption in SHOTS:
            html_file = work / f"{name}.html"
            html_file.write_text(page((GOLDEN / f"{golden}.md").read_text(), caption))
            shoot(browser, html_file, OUT / f"{name}.png", work / "profile")
            print(f"docs/screenshots/{name}.png from tests/fixtures/golden/{golden}.md")


if __name__ == "__main__":
    main()
