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

import cmarkgfm  # type: ignore[import-untyped]
from cmarkgfm.cmark import Options  # type: ignore[import-untyped]

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
_ALERT = re.compile(r"<blockquote>\s*<p>\[!(NOTE|TIP|IMPORTANT|WARNING|CAUTION)\]\s*", re.S)
_ALERT_COLOURS = {
    "NOTE": "#0969da",
    "TIP": "#1a7f37",
    "IMPORTANT": "#8250df",
    "WARNING": "#9a6700",
    "CAUTION": "#d1242f",
}
STYLE = """
body { margin: 0; background: #fff; font: 14px/1.5 -apple-system, "Segoe UI", "Noto Sans",
       Helvetica, Arial, sans-serif; color: #1f2328; }
.box { margin: 16px; border: 1px solid #d1d9e0; border-radius: 6px; }
.head { background: #f6f8fa; border-bottom: 1px solid #d1d9e0; padding: 8px 16px;
        color: #59636e; border-radius: 6px 6px 0 0; }
.head b { color: #1f2328; }
.body { padding: 16px; }
h3, h4 { margin: 24px 0 16px; font-weight: 600; }
h3 { font-size: 1.25em; } h4 { font-size: 1em; }
p, table, details, blockquote, ul { margin: 0 0 16px; }
code { font: 85% ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
       background: rgba(129, 139, 152, .12); padding: .2em .4em; border-radius: 6px; }
table { border-collapse: collapse; display: block; overflow: auto; }
th, td { border: 1px solid #d1d9e0; padding: 6px 13px; }
th { font-weight: 600; } tr:nth-child(2n) { background: #f6f8fa; }
sub { color: #59636e; }
a { color: #0969da; text-decoration: none; }
summary { cursor: pointer; }
.alert { border-left: .25em solid; padding: 0 1em; }
.alert-title { font-weight: 600; }
"""


def page(markdown: str, caption: str) -> str:
    body = cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)
    body = _ALERT.sub(_alert, body)
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><style>{STYLE}</style></head>"
        f"<body><div class='box'><div class='head'><b>bootstrap-bot</b> "
        f"<span>{html.escape(caption.removeprefix('bootstrap-bot '))}</span></div>"
        f"<div class='body'>{body}</div></div>"
        "<script>document.body.setAttribute('data-height', Math.ceil("
        "document.querySelector('.box').getBoundingClientRect().bottom) + 16)</script>"
        "</body></html>"
    )


def _alert(found: re.Match[str]) -> str:
    kind = found.group(1)
    colour = _ALERT_COLOURS[kind]
    return (
        f"<blockquote class='alert' style='border-color:{colour}'>"
        f"<p class='alert-title' style='color:{colour}'>{kind.title()}</p><p>"
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
