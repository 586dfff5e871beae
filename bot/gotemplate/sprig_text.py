"""The text helpers sprig borrows: Masterminds/goutils and huandu/xstrings, ported from source.

Go strings are bytes; where the Go code indexes bytes (goutils' abbreviate, wrap, initials and
nospace), this port works on UTF-8 bytes too, so non-ASCII text comes out as Go's would.
"""

from __future__ import annotations

import unicodedata

from bot.core.failures import Failure
from bot.golang.unicase import to_lower, to_title, to_upper

# --- goutils ------------------------------------------------------------------------------------


class AbbreviateError(Failure, ValueError):
    pass


def abbreviate_full(text: str, offset: int, width: int) -> str:
    data = text.encode()
    if not data:
        return ""
    if width < 4:
        raise AbbreviateError("stringutils illegal argument: Minimum abbreviation width is 4")
    if len(data) <= width:
        return text
    offset = min(offset, len(data))
    if len(data) - offset < width - 3:
        offset = len(data) - (width - 3)
    marker = b"..."
    if offset <= 4:
        return (data[: width - 3] + marker).decode(errors="replace")
    if width < 7:
        raise AbbreviateError(
            "stringutils illegal argument: Minimum abbreviation width with offset is 7"
        )
    if offset + width - 3 < len(data):
        rest = abbreviate_full(data[offset:].decode(errors="replace"), 0, width - 3)
        return "..." + rest
    return (marker + data[len(data) - (width - 3) :]).decode(errors="replace")


def abbrev(width: int, text: str) -> str:
    if width < 4:
        return text
    return abbreviate_full(text, 0, width)


def abbrevboth(left: int, right: int, text: str) -> str:
    if right < 4 or (left > 0 and right < 7):
        return text
    return abbreviate_full(text, left, right)


def _go_is_space(ch: str) -> bool:
    return ch in "\t\n\v\f\r \x85\xa0" or (ord(ch) > 0xFF and ch.isspace())


def initials(text: str) -> str:
    # goutils walks bytes and writes each as a rune, so non-ASCII text comes out garbled (as
    # in Go: the byte 0xC3 becomes "Ã").
    out = []
    last_was_gap = True
    for byte in text.encode():
        ch = chr(byte)
        if _go_is_space(ch):
            last_was_gap = True
        elif last_was_gap:
            out.append(ch)
            last_was_gap = False
    return "".join(out)


def nospace(text: str) -> str:
    # Byte-wise like initials; the text comes back untouched when there was nothing to delete.
    data = text.encode()
    kept = [chr(b) for b in data if not _go_is_space(chr(b))]
    return text if len(kept) == len(data) else "".join(kept)


def uncapitalize(text: str) -> str:
    out = []
    next_lower = True
    for ch in text:
        if _go_is_space(ch):
            next_lower = True
        elif next_lower:
            out.append(to_lower(ch))
            next_lower = False
            continue
        out.append(ch)
    return "".join(out)


def swapcase(text: str) -> str:
    out = []
    whitespace = True
    for ch in text:
        if ch.isupper() or unicodedata.category(ch) == "Lt":
            out.append(to_lower(ch))
            whitespace = False
        elif ch.islower():
            out.append(to_title(ch) if whitespace else to_upper(ch))
            whitespace = False
        else:
            out.append(ch)
            whitespace = _go_is_space(ch)
    return "".join(out)


def wrap_custom(text: str, length: int, newline: str, long_words: bool) -> str:
    data = text.encode()
    if not data:
        return ""
    sep = (newline or "\n").encode()
    length = max(length, 1)
    out = bytearray()
    offset = 0
    while len(data) - offset > length:
        if data[offset] == ord(" "):
            offset += 1
            continue
        end = length + offset + 1
        space = data[offset:end].rfind(b" ")
        if space >= 0:
            out += data[offset : offset + space] + sep
            offset += space + 1
        elif long_words:
            out += data[offset : offset + length] + sep
            offset += length
        else:
            end = length + offset
            index = data[end:].find(b" ")
            if index == -1:
                out += data[offset:]
                offset = len(data)
            else:
                out += data[offset : end + index] + sep
                offset = end + index + 1
    out += data[offset:]
    return out.decode("utf-8", "replace")


# --- xstrings -----------------------------------------------------------------------------------

_INVALID, _NUMBER, _UPPER, _ALPHABET, _CONNECTOR, _PUNCT, _OTHER = range(7)


def _is_connector(ch: str) -> bool:
    return ch in "-_" or _go_is_space(ch)


def _is_alphabet(ch: str) -> bool:
    if not ch.isalpha():
        return False
    code = ord(ch)
    return not (0x4E00 <= code <= 0x9FCC or 0x3400 <= code <= 0x4D85 or 0x20000 <= code <= 0x2B81D)


def _is_punct(ch: str) -> bool:
    return unicodedata.category(ch).startswith("P")


def _is_number(ch: str) -> bool:
    return unicodedata.category(ch).startswith("N")


def _next_word(text: str) -> tuple[int, str, str]:
    """xstrings.nextWord: the type of the next word, the word and what remains."""
    if not text:
        return _INVALID, "", ""
    first = text[0]
    i = 1

    def run(accept: object) -> int:
        j = i
        while j < len(text) and accept(text[j]):  # type: ignore[operator]
            j += 1
        return j

    if _is_connector(first):
        i, kind = run(_is_connector), _CONNECTOR
    elif _is_punct(first):
        i, kind = run(_is_punct), _PUNCT
    elif first.isupper():
        kind = _UPPER
        if i < len(text) and text[i].isupper():
            j = run(str.isupper)
            # "HTTPStatus" splits into "HTTP" and "Status".
            if j < len(text) and _is_alphabet(text[j]):
                j -= 1
            i = j
        elif i < len(text) and _is_alphabet(text[i]):
            i = run(lambda c: _is_alphabet(c) and not c.isupper())
    elif _is_alphabet(first):
        i, kind = run(lambda c: _is_alphabet(c) and not c.isupper()), _ALPHABET
    elif _is_number(first):
        i, kind = run(_is_number), _NUMBER
    else:
        kind = _OTHER
        i = run(lambda c: not (_is_connector(c) or _is_alphabet(c) or _is_number(c)
                               or _is_punct(c)))  # fmt: skip
    return kind, text[:i], text[i:]


def _to_lower(out: list[str], kind: int, word: str, connector: str) -> None:
    if kind not in (_UPPER, _CONNECTOR):
        out.append(word)
        return
    for ch in word:
        out.append(connector if _is_connector(ch) else to_lower(ch) if ch.isupper() else ch)


def camel_to_lower(text: str, connector: str) -> str:
    """xstrings.camelCaseToLowerCase, behind ToSnakeCase and ToKebabCase."""
    if not text:
        return ""
    out: list[str] = []
    kind, word, remaining = _next_word(text)
    while remaining:
        if kind != _CONNECTOR:
            _to_lower(out, kind, word, connector)
        previous, last = kind, word
        kind, word, remaining = _next_word(remaining)
        if previous == _NUMBER:
            while kind in (_ALPHABET, _NUMBER):
                _to_lower(out, kind, word, connector)
                kind, word, remaining = _next_word(remaining)
            if kind not in (_INVALID, _PUNCT, _CONNECTOR):
                out.append(connector)
        elif previous == _CONNECTOR:
            _to_lower(out, previous, last, connector)
        elif previous == _PUNCT:
            pass
        elif kind != _NUMBER:
            if kind not in (_CONNECTOR, _PUNCT):
                out.append(connector)
        elif remaining:
            last = word
            kind, word, remaining = _next_word(remaining)
            if kind != _ALPHABET:
                _to_lower(out, _NUMBER, last, connector)
                if kind not in (_CONNECTOR, _PUNCT):
                    out.append(connector)
            else:
                out.append(connector)
                _to_lower(out, _NUMBER, last, connector)
                while kind in (_ALPHABET, _NUMBER):
                    _to_lower(out, kind, word, connector)
                    kind, word, remaining = _next_word(remaining)
                if kind not in (_INVALID, _CONNECTOR, _PUNCT):
                    out.append(connector)
    _to_lower(out, kind, word, connector)
    return "".join(out)


def to_camel_case(text: str) -> str:
    """xstrings.ToCamelCase: connectors removed, the letter after one upper-cased."""
    if not text:
        return ""
    out: list[str] = []
    chars = list(text)
    i = 0
    current = ""
    while i < len(chars):
        current = chars[i]
        i += 1
        if not _is_connector(current):
            current = to_upper(current)
            break
        out.append(current)
    else:
        out.append(current)  # Go writes the last leading connector once more
        return "".join(out)
    if i == len(chars):
        out.append(current)
        return "".join(out)
    while i < len(chars):
        previous, current = current, chars[i]
        i += 1
        if _is_connector(current) and _is_connector(previous):
            out.append(previous)
            continue
        if _is_connector(previous):
            current = to_upper(current)
        else:
            current = to_lower(current)
            out.append(previous)
    out.append(current)
    return "".join(out)
