"""Go's fmt.Sprint, Sprintln and Sprintf over template values.

Covers the verbs templates use (`%v %s %d %q %f %e %g %t %x %X %o %b %c %U %T %%`) with flags,
width, precision, `*` and explicit argument indexes, and Go's in-band error forms
(`%!d(string=x)`, `%!v(MISSING)`, `%!(EXTRA int=1)`).
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import Any

from bot.golang.strconv import NilSlice, format_float, quote
from bot.gotemplate.values import NO_VALUE, GoStruct, format_v, sorted_items, type_name


def sprint(args: list[Any]) -> str:
    out: list[str] = []
    previous_string = False
    for i, arg in enumerate(args):
        is_string = isinstance(arg, str)
        if i > 0 and not is_string and not previous_string:
            out.append(" ")
        out.append(_v(arg))
        previous_string = is_string
    return "".join(out)


def sprintln(args: list[Any]) -> str:
    return " ".join(_v(a) for a in args) + "\n"


def _v(arg: Any) -> str:
    return "<nil>" if arg is None or arg is NO_VALUE else format_v(arg)


@dataclass
class _Flags:
    minus: bool = False
    plus: bool = False
    sharp: bool = False
    sharp_v: bool = False  # %#v: Go syntax (the # of any other verb is `sharp`)
    space: bool = False
    zero: bool = False
    width: int | None = None
    precision: int | None = None


def sprintf(fmt: str, args: list[Any]) -> str:
    out: list[str] = []
    argi = 0
    i = 0
    reordered = False
    while i < len(fmt):
        ch = fmt[i]
        if ch != "%":
            j = fmt.find("%", i)
            j = len(fmt) if j < 0 else j
            out.append(fmt[i:j])
            i = j
            continue
        i += 1
        flags = _Flags()
        while i < len(fmt) and fmt[i] in "-+# 0":
            c = fmt[i]
            flags.minus |= c == "-"
            flags.plus |= c == "+"
            flags.sharp |= c == "#"
            flags.space |= c == " "
            flags.zero |= c == "0" and not flags.minus
            i += 1
        bad_index = False
        # [n] before the width
        argi, i, reordered_now, ok = _arg_index(fmt, i, argi, len(args))
        reordered |= reordered_now
        bad_index |= not ok
        if i < len(fmt) and fmt[i] == "*":
            i += 1
            width, argi, good = _int_arg(args, argi)
            if not good:
                out.append("%!(BADWIDTH)")
            elif width is not None and width < 0:
                flags.minus, width = True, -width
            flags.width = width
        else:
            width, i = _parse_num(fmt, i)
            if width is not None:
                flags.width = width
        if i < len(fmt) and fmt[i] == ".":
            i += 1
            argi, i, reordered_now, ok = _arg_index(fmt, i, argi, len(args))
            reordered |= reordered_now
            bad_index |= not ok
            if i < len(fmt) and fmt[i] == "*":
                i += 1
                precision, argi, good = _int_arg(args, argi)
                if not good or (precision is not None and precision < 0):
                    out.append("%!(BADPREC)")
                    precision = None
                flags.precision = precision
            else:
                precision, i = _parse_num(fmt, i)
                flags.precision = precision or 0
        argi, i, reordered_now, ok = _arg_index(fmt, i, argi, len(args))
        reordered |= reordered_now
        bad_index |= not ok
        if i >= len(fmt):
            out.append("%!(NOVERB)")
            break
        verb = fmt[i]
        i += 1
        if verb == "%":
            out.append("%")
            continue
        if bad_index:
            out.append(f"%!{verb}(BADINDEX)")
            continue
        if argi >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        arg = args[argi]
        argi += 1
        if verb == "v" and flags.plus:
            flags.plus = False  # %+v means "with field names", not a sign
        if verb == "v" and flags.sharp:
            flags.sharp, flags.sharp_v = False, True
        out.append(_format(arg, verb, flags))
    if not reordered and argi < len(args):
        extra = ", ".join(
            "<nil>" if a is None else f"{type_name(a)}={format_v(a)}" for a in args[argi:]
        )
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)


def _arg_index(fmt: str, i: int, argi: int, count: int) -> tuple[int, int, bool, bool]:
    if i >= len(fmt) or fmt[i] != "[":
        return argi, i, False, True
    end = fmt.find("]", i)
    if end < 0 or not fmt[i + 1 : end].isdigit():
        return argi, (end + 1 if end >= 0 else len(fmt)), True, False
    index = int(fmt[i + 1 : end]) - 1
    if not 0 <= index < count:
        return argi, end + 1, True, False
    return index, end + 1, True, True


def _parse_num(fmt: str, i: int) -> tuple[int | None, int]:
    """fmt's parsenum: the number at `i` and where it ends. A number that grows past 1e6
    (checked before each digit, as Go does) makes the rest of the format no verb at all."""
    num, start = 0, i
    while i < len(fmt) and fmt[i].isdigit():
        if num > 1_000_000:
            return None, len(fmt)
        num = num * 10 + int(fmt[i])
        i += 1
    return (num if i > start else None), i


def _int_arg(args: list[Any], argi: int) -> tuple[int | None, int, bool]:
    if argi >= len(args):
        return None, argi, False
    value = args[argi]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) <= 1_000_000:
        return value, argi + 1, True
    return None, argi + 1, False


def _pad(text: str, flags: _Flags, *, numeric: bool = False, zeros: bool = True) -> str:
    """Pad to the width: spaces, or zeros with the 0 flag (after a number's sign)."""
    if flags.width is None or len(text) >= flags.width:
        return text
    fill = flags.width - len(text)
    if flags.minus:
        return text + " " * fill
    if flags.zero and zeros:
        sign = text[0] if numeric and text[:1] in "+- " else ""
        return sign + "0" * fill + text[len(sign) :]
    return " " * fill + text


def _bad(verb: str, arg: Any, flags: _Flags) -> str:
    """fmt's bad-verb form; the value is printed with %v and the verb's own flags."""
    if arg is None:
        return f"%!{verb}(<nil>)"
    return f"%!{verb}({type_name(arg)}={_format(arg, 'v', flags)})"


def _format(arg: Any, verb: str, flags: _Flags) -> str:
    if verb == "T":
        return _pad(type_name(arg), flags)
    if verb == "v" and flags.sharp_v:
        return _pad(go_syntax(arg), flags)
    if arg is None or arg is NO_VALUE:
        return _pad("<nil>", flags) if verb == "v" else _bad(verb, None, flags)
    if isinstance(arg, bool):
        return _pad("true" if arg else "false", flags) if verb in "tv" else _bad(verb, arg, flags)
    if isinstance(arg, int):
        return _format_int(arg, verb, flags)
    if isinstance(arg, float):
        return _format_float(arg, verb, flags)
    if isinstance(arg, str):
        return _format_str(arg, verb, flags)
    # Containers print their elements with the same verb and flags, unpadded themselves.
    if isinstance(arg, list | tuple):
        return "[" + " ".join(_element(a, verb, flags) for a in arg) + "]"
    if isinstance(arg, dict):
        parts = [f"{_element(k, verb, flags)}:{_element(v, verb, flags)}" for k, v in
                 sorted_items(arg)]  # fmt: skip
        return "map[" + " ".join(parts) + "]"
    if isinstance(arg, GoStruct) and verb in "vs":
        return _pad(format_v(arg), flags)
    return _pad(format_v(arg), flags) if verb == "v" else _bad(verb, arg, flags)


def go_syntax(value: Any, *, top: bool = True) -> str:
    """%#v: the value as Go source (`[]interface {}{1, "a"}`); a nil inside a container is a
    typed nil."""
    if value is None or value is NO_VALUE:
        return "<nil>" if top else "interface {}(nil)"
    if isinstance(value, bool | int | float):
        return format_v(value)
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, NilSlice):
        return f"{type_name(value)}(nil)"
    if isinstance(value, list | tuple):
        return type_name(value) + "{" + ", ".join(go_syntax(v, top=False) for v in value) + "}"
    if isinstance(value, dict):
        pairs = [f"{go_syntax(k, top=False)}:{go_syntax(v, top=False)}"
                 for k, v in sorted_items(value)]  # fmt: skip
        return type_name(value) + "{" + ", ".join(pairs) + "}"
    return format_v(value)


def _element(value: Any, verb: str, flags: _Flags) -> str:
    # A nil interface inside a container prints as <nil> whatever the verb.
    return _pad("<nil>", flags) if value is None else _format(value, verb, flags)


def _sign(negative: bool, flags: _Flags) -> str:
    if negative:
        return "-"
    return "+" if flags.plus else (" " if flags.space else "")


def _format_int(value: int, verb: str, flags: _Flags) -> str:
    if verb == "c":
        return _pad(chr(value) if 0 <= value <= 0x10FFFF else "\ufffd", flags)
    if verb == "q":
        char = chr(value) if 0 <= value <= 0x10FFFF else "\ufffd"
        inner = quote(char)[1:-1].replace("'", "\\'").replace('\\"', '"')
        return _pad(f"'{inner}'", flags)
    if verb == "U":
        text = f"U+{value % 2**64:04X}"  # Go prints a negative rune as its uint64 bits
        if flags.sharp and 0 <= value <= 0x10FFFF and chr(value).isprintable():
            text += f" '{chr(value)}'"
        return _pad(text, flags)
    bases = {"d": 10, "v": 10, "b": 2, "o": 8, "O": 8, "x": 16, "X": 16}
    if verb not in bases:
        return _bad(verb, value, flags)
    base = bases[verb]
    digits = {2: "b", 8: "o", 10: "d", 16: "x"}[base]
    body = format(abs(value), digits)
    if verb == "X":
        body = body.upper()
    if flags.precision is not None:
        body = "" if flags.precision == 0 and value == 0 else body.rjust(flags.precision, "0")
    prefix = ""
    if verb == "O":
        prefix = "0o"
    elif flags.sharp and not (verb == "o" and body.startswith("0")):
        prefix = {"b": "0b", "o": "0", "x": "0x", "X": "0X"}.get(verb, "")
    text = _sign(value < 0, flags) + prefix + body
    # With a precision, Go pads integers with spaces even under the 0 flag.
    return _pad(text, flags, numeric=True, zeros=flags.precision is None)


def _format_float(value: float, verb: str, flags: _Flags) -> str:
    if verb not in "vbeEfFgGxX":
        return _bad(verb, value, flags)
    if verb == "v":
        verb = "g"
    sign = _sign(value < 0 or (value == 0 and str(value).startswith("-")), flags)
    magnitude = abs(value)
    if magnitude != magnitude or magnitude == float("inf"):
        body = "NaN" if magnitude != magnitude else "Inf"
        sign = "+" if body == "Inf" and flags.plus and value > 0 else sign
        if body == "NaN":
            sign = "+" if flags.plus else (" " if flags.space else "")
        return _pad(sign + body, flags)
    precision = flags.precision
    if verb in "fF":
        body = f"{magnitude:.{6 if precision is None else precision}f}"
    elif verb in "eE":
        body = f"{magnitude:.{6 if precision is None else precision}e}"
    elif verb in "xX":
        body = _hex_float(magnitude, flags.precision)
    elif verb == "b":
        body = _binary_float(magnitude)
    elif verb in "gG":
        if precision is None:
            body = format_float(magnitude, "g", 64)
        else:
            body = f"{magnitude:.{max(precision, 1)}g}"
            if "e" in body:
                mant, _, exp = body.partition("e")
                body = f"{mant}e{exp[0]}{int(exp[1:]):02d}"
    else:
        return _bad(verb, value, flags)
    if flags.sharp and verb != "b":
        body = _sharp_float(body, verb, precision)
    if verb in "EGX":
        body = body.upper()
    return _pad(sign + body, flags, numeric=True)


def _sharp_float(body: str, verb: str, precision: int | None) -> str:
    """fmt's # flag on floats: keep a decimal point and trailing zeros (Go's digit count)."""
    digits = (6 if precision is None else precision) if verb in "vgGxX" else 0
    tail = ""
    has_point = False
    seen_nonzero = False
    for i, ch in enumerate(body):
        if ch == ".":
            has_point = True
        elif ch in "pP" or (ch in "eE" and verb not in "xX"):
            body, tail = body[:i], body[i:]
            break
        else:
            seen_nonzero = seen_nonzero or ch != "0"
            if seen_nonzero:
                digits -= 1
    if not has_point:
        if body == "0":
            digits -= 1
        body += "."
    return body + "0" * max(digits, 0) + tail


def _hex_float(magnitude: float, precision: int | None) -> str:
    """strconv's 'x' format: 0x1.8p+01 (normalised mantissa, exponent of at least 2 digits)."""
    if magnitude == 0:
        mantissa, exponent = 0, 0
    else:
        fraction, exponent = math.frexp(magnitude)  # fraction in [0.5, 1)
        mantissa = int((fraction * 2 - 1) * (1 << 52))
        exponent -= 1
    digits = f"{mantissa:013x}"
    digits = digits.rstrip("0") if precision is None else (digits + "0" * precision)[:precision]
    lead = "1" if magnitude else "0"
    body = f"0x{lead}" + (f".{digits}" if digits else "")
    return f"{body}p{'-' if exponent < 0 else '+'}{abs(exponent):02d}"


def _binary_float(magnitude: float) -> str:
    """strconv's 'b' format: decimal mantissa and a power-of-two exponent."""
    bits = struct.unpack("<Q", struct.pack("<d", magnitude))[0]
    raw_exponent = (bits >> 52) & 0x7FF
    mantissa = bits & ((1 << 52) - 1)
    if raw_exponent:
        mantissa |= 1 << 52
    else:
        raw_exponent = 1
    return f"{mantissa}p{raw_exponent - 1075}"


def _format_str(value: str, verb: str, flags: _Flags) -> str:
    if flags.precision is not None and verb in "sqv":
        value = value[: flags.precision]
    if verb in "sv":
        return _pad(value, flags)
    if verb == "q":
        if flags.sharp and "`" not in value and all(c.isprintable() or c == "\t" for c in value):
            return _pad(f"`{value}`", flags)
        text = quote(value)
        if flags.plus:
            text = "".join(c if ord(c) < 0x80 else _ascii_escape(c) for c in text)
        return _pad(text, flags)
    if verb in "xX":
        data = value.encode()
        text = data.hex() if not flags.space else " ".join(f"{b:02x}" for b in data)
        if flags.sharp:
            text = "0x" + text
        return _pad(text.upper() if verb == "X" else text, flags)
    return _bad(verb, value, flags)


def _ascii_escape(ch: str) -> str:
    code = ord(ch)
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
