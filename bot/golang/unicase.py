"""Go's case mapping (package unicode): one rune to one rune, by the simple mappings of
UnicodeData. Python's str.upper and str.lower apply the full mappings of SpecialCasing, which
turn one character into several (`ß` to `SS`, `İ` to `i̇`, `ﬃ` to `FFI`); Go leaves those
that have no simple mapping as they are.

Layer rule: pure, no I/O.
"""

from __future__ import annotations


def to_upper(ch: str) -> str:
    """unicode.ToUpper of one character."""
    upper = ch.upper()
    if len(upper) == 1:
        return upper
    title = ch.title()  # the simple uppercase of the Greek letters with iota subscript
    return title if len(title) == 1 else ch


def to_lower(ch: str) -> str:
    """unicode.ToLower of one character (only U+0130 has a longer full mapping)."""
    lower = ch.lower()
    return lower if len(lower) == 1 else lower[0]


def to_title(ch: str) -> str:
    """unicode.ToTitle of one character."""
    title = ch.title()
    return title if len(title) == 1 else ch


def upper(text: str) -> str:
    """strings.ToUpper."""
    return text.upper() if text.isascii() else "".join(map(to_upper, text))


def lower(text: str) -> str:
    """strings.ToLower."""
    return text.lower() if text.isascii() else "".join(map(to_lower, text))
