"""GitHub-flavoured Markdown to HTML, as GitHub renders it: cmark-gfm (GitHub's own C library,
through cmarkgfm), with GitHub's alerts (`> [!CAUTION]`) drawn as boxes, which cmark-gfm
leaves to github.com. Raw HTML the bot writes (`<details>`, `<sub>`) is kept."""

from __future__ import annotations

import html
import re

import cmarkgfm  # type: ignore[import-untyped]
from cmarkgfm.cmark import Options  # type: ignore[import-untyped]

_ALERT = re.compile(r"<blockquote>\s*<p>\[!(NOTE|TIP|IMPORTANT|WARNING|CAUTION)\]\s*", re.S)
ALERT_COLOURS = {
    "NOTE": "#0969da",
    "TIP": "#1a7f37",
    "IMPORTANT": "#8250df",
    "WARNING": "#9a6700",
    "CAUTION": "#d1242f",
}


#: a stylesheet close to github.com's for the HTML, with a box around each text
GITHUB_STYLE = """
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


def to_html(markdown: str) -> str:
    """The HTML body GitHub shows for `markdown`."""
    body = cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)
    return _ALERT.sub(_alert, str(body))


def _alert(found: re.Match[str]) -> str:
    kind = found.group(1)
    colour = ALERT_COLOURS[kind]
    return (
        f"<blockquote class='alert' style='border-color:{colour}'>"
        f"<p class='alert-title' style='color:{colour}'>{kind.title()}</p><p>"
    )


def html_page(title: str, markdown: str) -> str:
    """A whole HTML page of `markdown`, titled, in a box as GitHub shows a comment."""
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{GITHUB_STYLE}</style></head><body><div class='box'><div class='head'>"
        f"<b>bootstrap-bot</b> {html.escape(title)}</div><div class='body'>{to_html(markdown)}"
        "</div></div></body></html>\n"
    )
