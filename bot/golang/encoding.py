"""encoding/base64 and encoding/base32 decoding with the standard alphabets and padding, as
Go does it: `\\r` and `\\n` are skipped, and a failure names the input byte where Go's decoder
stopped (`illegal base64 data at input byte 5`), which sprig's b64dec and b32dec print.

Layer rule: pure, no I/O.
"""

from __future__ import annotations

import string

from bot.core.failures import Failure

_B64 = {c: i for i, c in enumerate((string.ascii_uppercase + string.ascii_lowercase +
                                     string.digits + "+/").encode())}  # fmt: skip
_B32 = {c: i for i, c in enumerate((string.ascii_uppercase + "234567").encode())}
_PAD = ord("=")
_NEWLINES = (ord("\n"), ord("\r"))


class CorruptInput(Failure, ValueError):
    """Go's CorruptInputError: the offset of the byte where decoding failed (the input is the
    user's)."""

    def __init__(self, offset: int, encoding: str) -> None:
        super().__init__(f"illegal {encoding} data at input byte {offset}")
        self.offset = offset


def b64decode(src: bytes) -> bytes:
    """base64.StdEncoding.DecodeString."""
    out = bytearray()
    si = 0
    while si < len(src):
        si, decoded = _b64_quantum(src, si)
        out += decoded
    return bytes(out)


def _b64_quantum(src: bytes, si: int) -> tuple[int, bytes]:
    """decodeQuantum: the next four characters (newlines skipped) as up to three bytes."""
    buf = [0, 0, 0, 0]
    length = 4
    j = 0
    while j < 4:
        if si == len(src):
            if j == 0:
                return si, b""
            raise CorruptInput(si - j, "base64")
        ch = src[si]
        si += 1
        if ch in _B64:
            buf[j] = _B64[ch]
            j += 1
            continue
        if ch in _NEWLINES:
            continue
        if ch != _PAD or j < 2:
            raise CorruptInput(si - 1, "base64")
        if j == 2:  # "==" expected, the first "=" read
            while si < len(src) and src[si] in _NEWLINES:
                si += 1
            if si == len(src):
                raise CorruptInput(len(src), "base64")
            if src[si] != _PAD:
                raise CorruptInput(si - 1, "base64")
            si += 1
        while si < len(src) and src[si] in _NEWLINES:
            si += 1
        if si < len(src):
            raise CorruptInput(si, "base64")  # trailing garbage
        length = j
        break
    value = buf[0] << 18 | buf[1] << 12 | buf[2] << 6 | buf[3]
    return si, value.to_bytes(3, "big")[: length - 1]


def b32decode(text: bytes) -> bytes:
    """base32.StdEncoding.DecodeString (newlines removed before decoding, so offsets count
    the input without them)."""
    src = bytes(b for b in text if b not in _NEWLINES)
    out = bytearray()
    pos = 0
    end = False
    while pos < len(src) and not end:
        buf = [0] * 8
        length = 8
        j = 0
        while j < 8:
            if pos == len(src):
                raise CorruptInput(pos - j, "base32")  # the padding is missing
            ch = src[pos]
            pos += 1
            left = len(src) - pos
            if ch == _PAD and j >= 2 and left < 8:
                if left + j < 7:
                    raise CorruptInput(len(src), "base32")  # not enough padding
                for k in range(7 - j):
                    if left > k and src[pos + k] != _PAD:
                        raise CorruptInput(pos + k - 1, "base32")  # incorrect padding
                length, end = j, True
                if length in (1, 3, 6):
                    raise CorruptInput(pos - 1, "base32")
                break
            if ch not in _B32:
                raise CorruptInput(pos - 1, "base32")
            buf[j] = _B32[ch]
            j += 1
        value = 0
        for digit in buf:
            value = value << 5 | digit
        out += value.to_bytes(5, "big")[: {8: 5, 7: 4, 5: 3, 4: 2, 2: 1}[length]]
    return bytes(out)
