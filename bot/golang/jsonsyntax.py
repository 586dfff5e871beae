"""encoding/json's syntax errors (`invalid character 'x' after object key`), for a failure
Python's json decoder found: it stops at the same place, and names it in its own words.

Layer rule: pure, no I/O.
"""

from __future__ import annotations

import json
import re

from bot.golang.strconv import quote


def json_syntax_error(err: json.JSONDecodeError) -> str:
    """encoding/json's words for the syntax error Python's decoder found (the same place)."""
    doc, pos, said = err.doc, err.pos, err.msg
    if said.startswith("Invalid \\escape"):
        pos += 1  # Go names the character after the backslash
    if said in ("Expecting value", "Extra data") and pos < len(doc):
        literal = _go_json_literal_error(doc, pos)
        if literal:
            return literal
    if said.startswith("Invalid \\uXXXX"):
        hex_digits = re.compile(r"\\u[0-9a-fA-F]{0,3}").search(doc, max(0, pos - 1))
        pos = hex_digits.end() if hex_digits else pos
        if pos < len(doc):
            return (
                f"invalid character {_go_quote_char(doc[pos])} in \\u hexadecimal character escape"
            )
    if said.startswith("Unterminated string") or pos >= len(doc):
        return "unexpected end of JSON input"
    if said == "Expecting ',' delimiter":
        inside = "object key:value pair" if _innermost(doc, pos) == "{" else "array element"
        where = f"after {inside}"
    elif said.startswith("Invalid control character"):
        where = "in string literal"
    elif said.startswith("Invalid \\escape"):
        where = "in string escape code"
    else:
        where = _GO_JSON_WHERE.get(said, "")
    if not where:
        return f"invalid character in JSON: {said}"
    return f"invalid character {_go_quote_char(doc[pos])} {where}"


_GO_JSON_WHERE = {
    "Expecting value": "looking for beginning of value",
    "Expecting property name enclosed in double quotes": (
        "looking for beginning of object key string"
    ),
    "Expecting ':' delimiter": "after object key",
    "Extra data": "after top-level value",
}


def _go_json_literal_error(doc: str, pos: int) -> str:
    """Go's error inside a literal or number Python's decoder did not start or stopped short
    of (Go's scanner reads the end of the input as a space)."""

    def at(i: int) -> str:
        return doc[i] if i < len(doc) else " "

    for literal in ("true", "false", "null"):
        if doc[pos] == literal[0] and not doc.startswith(literal, pos):
            i = next(i for i in range(1, len(literal)) if at(pos + i) != literal[i])
            return (f"invalid character {_go_quote_char(at(pos + i))} in literal {literal} "
                    f"(expecting {_go_quote_char(literal[i])})")  # fmt: skip
    if doc[pos] == "-" and not at(pos + 1).isdigit():
        return f"invalid character {_go_quote_char(at(pos + 1))} in numeric literal"
    # the number Python read, when one ends here (found backwards: linear in its length)
    start = pos
    while start > 0 and doc[start - 1] in "0123456789.eE+-":
        start -= 1
    run = doc[start:pos]
    first_digit = next((i for i, ch in enumerate(run) if ch.isdigit()), None)
    read = run[first_digit:] if first_digit is not None else None
    fraction_missing = doc[pos] == "." and not at(pos + 1).isdigit()
    if read is not None and not re.search("[.eE]", read) and fraction_missing:
        return (f"invalid character {_go_quote_char(at(pos + 1))} after decimal point in "
                "numeric literal")  # fmt: skip
    if read is not None and not re.search("[eE]", read) and doc[pos] in "eE":
        i = pos + 2 if at(pos + 1) in "+-" else pos + 1
        if not at(i).isdigit():
            return f"invalid character {_go_quote_char(at(i))} in exponent of numeric literal"
    return ""


def _innermost(doc: str, pos: int) -> str:
    """The innermost bracket open at `pos` (`{` or `[`), strings skipped."""
    stack: list[str] = []
    in_string = escaped = False
    for ch in doc[:pos]:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            stack.append(ch)
        elif ch in "}]" and stack:
            stack.pop()
    return stack[-1] if stack else ""


def _go_quote_char(ch: str) -> str:
    """encoding/json's quoteChar of the byte where it stopped (a character's first byte)."""
    if ch == "'":
        return "'\\''"
    if ch == '"':
        return "'\"'"
    # string(byte): the character of that number (0xc3 of `é` is `Ã`)
    return "'" + quote(chr(ch.encode()[0]))[1:-1] + "'"
