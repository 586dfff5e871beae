"""Go's `strconv` and `encoding/json` text forms, for messages and output that must match Go.

The bootstrapper's errors quote values with `%q` (strconv.Quote), turn YAML numbers into strings
with `strconv.FormatFloat(f, 'g', -1, 32)` and show raw config values as `encoding/json` text.
"""

from __future__ import annotations

import math
import re
import struct
from decimal import Decimal
from typing import Any

from bot.core.failures import Failure

_QUOTE_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
    "\\": "\\\\",
    '"': '\\"',
}


def quote(s: str) -> str:
    """strconv.Quote: a double-quoted Go string literal; printable runes stay as they are."""
    out = ['"']
    for ch in s:
        if ch in _QUOTE_ESCAPES:
            out.append(_QUOTE_ESCAPES[ch])
        elif ch.isprintable():
            # Go's unicode.IsPrint and str.isprintable agree: L, M, N, P, S and ASCII space.
            out.append(ch)
        else:
            code = ord(ch)
            if code < 0x80:
                out.append(f"\\x{code:02x}")
            elif code < 0x10000:
                out.append(f"\\u{code:04x}")
            else:
                out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def _to_float32(f: float) -> float:
    return float(struct.unpack("f", struct.pack("f", f))[0])


def _shortest_digits(f: float, bitsize: int) -> tuple[str, int]:
    """The shortest digits that read back as positive `f` at `bitsize`, and the decimal point.

    (digits, dp) means 0.<digits> x 10**dp, the shape of Go's decimal conversion.
    """
    if bitsize == 64:
        text = repr(f)  # Python's repr is the shortest round-trip form, like Go's.
    else:
        for precision in range(1, 10):
            text = f"{f:.{precision - 1}e}"
            if _to_float32(float(text)) == f:
                break
    sign_digits_exp = Decimal(text).normalize().as_tuple()
    digits = "".join(map(str, sign_digits_exp.digits))
    exponent = int(sign_digits_exp.exponent)
    return digits, len(digits) + exponent


def format_float(f: float, fmt: str = "g", bitsize: int = 64) -> str:
    """strconv.FormatFloat(f, fmt, -1, bitsize) for fmt 'g', 'e' and 'f' (shortest precision)."""
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    if bitsize == 32:
        f = _to_float32(f)
    sign = "-" if math.copysign(1.0, f) < 0 else ""
    digits, dp = ("0", 1) if f == 0 else _shortest_digits(abs(f), bitsize)
    if fmt == "g":
        # Shortest 'g' switches to an exponent below 1e-4 and from 1e+06 on ("eprec = 6").
        fmt = "e" if dp - 1 < -4 or dp - 1 >= 6 else "f"
    if fmt == "e":
        mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        exp = dp - 1 if digits != "0" else 0
        return f"{sign}{mant}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if dp <= 0:
        return f"{sign}0.{'0' * -dp}{digits}"
    if dp >= len(digits):
        return sign + digits + "0" * (dp - len(digits))
    return f"{sign}{digits[:dp]}.{digits[dp:]}"


def _json_string(s: str, escape_html: bool = True) -> str:
    out = ['"']
    for ch in s:
        code = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif code < 0x20 or ch in "\u2028\u2029" or (escape_html and ch in "<>&"):
            # encoding/json always escapes line separators, HTML characters unless told not to.
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


class UnsupportedJSONValue(Failure, ValueError):
    """json.Marshal refused a value (NaN or an infinity)."""


class NilSlice(list[Any]):
    """A Go slice that is nil (sprig's `rest` of an empty list): empty, and printed as `[]`,
    but JSON's `null`."""


class NilMap(dict[str, Any]):
    """A Go map that is nil (a template's `nil` for a map parameter): empty, printed as
    `map[]`, JSON's `null`, and not to be written to."""


def json_marshal(value: Any, *, indent: str = "", escape_html: bool = True) -> str:
    """encoding/json.Marshal of a JSON-shaped value, map keys sorted bytewise.

    With `indent`, json.MarshalIndent's layout; `escape_html=False` is SetEscapeHTML(false).
    """
    return _marshal(value, indent, escape_html, 0)


def _marshal(value: Any, indent: str, escape_html: bool, depth: int) -> str:
    if value is None or isinstance(value, NilSlice | NilMap):
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise UnsupportedJSONValue(f"json: unsupported value: {format_float(value)}")
        if value != 0 and (abs(value) < 1e-6 or abs(value) >= 1e21):
            text = format_float(value, "e")
            # encoding/json writes e-7, not e-07.
            mant, _, exp = text.partition("e")
            return f"{mant}e{exp[0]}{int(exp[1:])}"
        return format_float(value, "f")
    if isinstance(value, str):
        return _json_string(value, escape_html)
    if isinstance(value, list | tuple | dict):
        if isinstance(value, dict):
            items = sorted(value.items(), key=lambda kv: kv[0].encode())
            separator = ": " if indent else ":"
            parts = [
                _json_string(k, escape_html)
                + separator
                + _marshal(v, indent, escape_html, depth + 1)
                for k, v in items
            ]
            open_, close = "{", "}"
        else:
            parts = [_marshal(v, indent, escape_html, depth + 1) for v in value]
            open_, close = "[", "]"
        if not indent or not parts:
            return open_ + ",".join(parts) + close
        inner = "\n" + indent * (depth + 1)
        return open_ + inner + ("," + inner).join(parts) + "\n" + indent * depth + close
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def json_numbers(value: Any) -> Any:
    """What a Go interface{} holds after encoding/json decoded it: every number a float64."""
    if isinstance(value, dict):
        return {k: json_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_numbers(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


_DIGITS = r"[0-9](?:_?[0-9])*"
# The fraction's digits only after the point: two digit runs side by side would let a failed
# match try every place to split a long number (quadratic in its length).
_DECIMAL_FLOAT = re.compile(
    rf"[+-]?(?:{_DIGITS}(?:\.(?:{_DIGITS})?)?|\.{_DIGITS})(?:[eE][+-]?{_DIGITS})?"
)
_HEX_DIGITS = r"[0-9a-fA-F](?:_?[0-9a-fA-F])*"
_HEX_FLOAT = re.compile(
    rf"[+-]?0[xX](?:_?(?:{_HEX_DIGITS})(?:\.(?:{_HEX_DIGITS})?)?|\.{_HEX_DIGITS})"
    rf"[pP][+-]?{_DIGITS}"
)


def parse_float(text: str) -> float | None:
    """strconv.ParseFloat(text, 64): None where Go returns an error (bad syntax, or beyond
    float64's range). Go reads `inf`, `infinity` and `nan` in any case (a sign before the
    first two only), hex mantissas only with a `p` exponent, and `_` between digits (or after
    the `0x`)."""
    special = _special_float(text)
    if special is not None:
        return special
    if _DECIMAL_FLOAT.fullmatch(text):
        value = float(text.replace("_", ""))
    elif _HEX_FLOAT.fullmatch(text):
        value = float.fromhex(text.replace("_", ""))
    else:
        return None
    return None if math.isinf(value) else value


def _special_float(text: str) -> float | None:
    lowered = text.lower()
    sign, body = (-1.0 if lowered[:1] == "-" else 1.0), lowered.lstrip("+-")
    if len(lowered) - len(body) > 1:
        return None
    if body in ("inf", "infinity"):
        return math.copysign(math.inf, sign)
    if lowered == "nan":
        return math.nan
    return None
