"""Sprig v3's template functions, ported from its Go source with Go's signatures.

Functions that depend on the clock, randomness, the environment or the network exist (so that
templates parse as in Go) but refuse to run: a rendered landscape must be reproducible.
A Go panic inside a function becomes `error calling NAME: <panic text>`, as text/template
reports it.
"""

from __future__ import annotations

import base64
import copy
import functools
import hashlib
import json
import math
import operator
import posixpath
import re
import unicodedata
import urllib.parse
import zlib
from collections.abc import Callable, Mapping
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any, ClassVar, TypeVar

import re2

from bot.golang import unicase
from bot.golang.encoding import CorruptInput, b32decode, b64decode
from bot.golang.jsonsyntax import json_syntax_error
from bot.golang.strconv import (
    NilMap,
    NilSlice,
    UnsupportedJSONValue,
    format_float,
    json_marshal,
    parse_float,
)
from bot.golang.strconv import quote as go_quote
from bot.gotemplate import sprig_text
from bot.gotemplate.functions import ANY, Func, FuncError, check_built
from bot.gotemplate.gofmt import sprintf
from bot.gotemplate.values import (
    NO_VALUE,
    GoStruct,
    Int64,
    IntList,
    NilStringList,
    StringList,
    StringMap,
    format_v,
    kind,
    type_name,
)

MAP = "map[string]interface {}"
FUNCS: dict[str, Func] = {}


F = TypeVar("F", bound=Callable[..., Any])


def register(
    *names: str, params: tuple[str, ...] = (), variadic: str | None = None
) -> Callable[[F], F]:
    """Decorator: add `impl` under `names` with its Go signature."""

    def wrap(impl: F) -> F:
        for name in names:
            FUNCS[name] = Func(impl, params, variadic)
        return impl

    return wrap


def _nil(value: Any) -> Any:
    return None if value is NO_VALUE else value


def _conversion_panic(value: Any, want: str) -> FuncError:
    got = "nil" if value is None else type_name(value)
    return FuncError(f"interface conversion: interface {{}} is {got}, not {want}")


# --- values: strval, empty, numbers (spf13/cast) ------------------------------------------------


def strval(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, GoStruct):
        method = value.go_method("String")
        if method is not None:
            return str(method())
    return "<nil>" if value is None else format_v(value, top=False)


def empty(value: Any) -> bool:
    value = _nil(value)
    if value is None:
        return True
    if isinstance(value, str | list | tuple | dict):
        return len(value) == 0
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float | complex):
        return value == 0
    return False


def _trim_zero_decimal(text: str) -> str:
    found_zero = False
    for i in range(len(text), 0, -1):
        ch = text[i - 1]
        if ch == ".":
            return text[: i - 1] if found_zero else text
        if ch == "0":
            found_zero = True
        else:
            return text
    return text


def _go_int_text(text: str) -> int | None:
    from bot.gotemplate.parser import _go_int

    value = _go_int(text) if text else None
    return value if value is not None and -(2**63) <= value < 2**63 else None


def _float_to_int64(value: float) -> int:
    if math.isnan(value) or not -(2.0**63) <= value < 2.0**63:
        return -(2**63)  # what amd64 produces for an out-of-range conversion
    return int(value)


def to_int64(value: Any) -> int:
    value = _nil(value)
    if value is None:
        return 0
    if isinstance(value, bool):
        return 1 if value else 0
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return _float_to_int64(value)
    if isinstance(value, str):
        parsed = _go_int_text(_trim_zero_decimal(value))
        return parsed if parsed is not None else 0
    return 0


def to_float64(value: Any) -> float:
    value = _nil(value)
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        parsed = parse_float(value)  # spf13/cast: strconv.ParseFloat, 0 on its error
        return 0.0 if parsed is None else parsed
    return 0.0


register("hello")(lambda: "Hello!")
register("toString", params=(ANY,))(strval)
register("empty", params=(ANY,))(empty)
register("int64", params=(ANY,))(lambda v: Int64(to_int64(v)))
register("int", params=(ANY,))(to_int64)
register("float64", params=(ANY,))(to_float64)


@register("atoi", params=("string",))
def atoi(text: str) -> int:
    value = _go_int_text(text) if re.fullmatch(r"[+-]?[0-9]+", text) else None
    return int(text) if value is not None else 0


# --- defaults and flow ----------------------------------------------------------------------------


@register("default", params=(ANY,), variadic=ANY)
def default(fallback: Any, *given: Any) -> Any:
    if not given or empty(given[0]):
        return fallback
    return given[0]


@register("coalesce", variadic=ANY)
def coalesce(*values: Any) -> Any:
    return next((v for v in values if not empty(v)), None)


register("all", variadic=ANY)(lambda *v: all(not empty(x) for x in v))
register("any", variadic=ANY)(lambda *v: any(not empty(x) for x in v))
register("ternary", params=(ANY, ANY, "bool"))(lambda t, f, cond: t if cond else f)


@register("fail", params=("string",))
def fail(message: str) -> Any:
    raise FuncError(message)


# --- strings --------------------------------------------------------------------------------------

register("trim", params=("string",))(lambda s: s.strip(" \t\n\r\v\f\x85\xa0"))
register("upper", params=("string",))(unicase.upper)
register("lower", params=("string",))(unicase.lower)
register("trimAll", "trimall", params=("string", "string"))(lambda cut, s: s.strip(cut))
register("trimSuffix", params=("string", "string"))(lambda suf, s: s.removesuffix(suf))
register("trimPrefix", params=("string", "string"))(lambda pre, s: s.removeprefix(pre))
register("contains", params=("string", "string"))(lambda sub, s: sub in s)
register("hasPrefix", params=("string", "string"))(lambda pre, s: s.startswith(pre))
register("hasSuffix", params=("string", "string"))(lambda suf, s: s.endswith(suf))
register("replace", params=("string", "string", "string"))(
    lambda old, new, s: _replace(s, old, new)
)
register("repeat", params=("int", "string"))(lambda count, s: _repeat(s, count))
register("nospace", params=("string",))(sprig_text.nospace)
register("plural", params=("string", "string", "int"))(lambda one, many, n: one if n == 1 else many)
register("indent", params=("int", "string"))(lambda n, s: _indent(n, s))
register("nindent", params=("int", "string"))(lambda n, s: "\n" + _indent(n, s))
register("b64enc", params=("string",))(lambda s: base64.b64encode(s.encode()).decode())
register("b32enc", params=("string",))(lambda s: base64.b32encode(s.encode()).decode())
register("sha1sum", params=("string",))(lambda s: hashlib.sha1(s.encode()).hexdigest())
register("sha256sum", params=("string",))(lambda s: hashlib.sha256(s.encode()).hexdigest())
register("adler32sum", params=("string",))(lambda s: str(zlib.adler32(s.encode())))


def _replace(s: str, old: str, new: str) -> str:
    if old == "":
        # strings.Replace with an empty old inserts `new` around every rune.
        check_built(len(s) + len(new) * (len(s) + 1), "replace")
        return new + new.join(s) + new if s else new
    check_built(len(s) + s.count(old) * (len(new) - len(old)), "replace")
    return s.replace(old, new)


def _repeat(s: str, count: int) -> str:
    if count < 0:
        raise FuncError("strings: negative Repeat count")
    check_built(len(s) * count, "repeat")
    return s * count


def _indent(spaces: int, text: str) -> str:
    if spaces < 0:
        raise FuncError("strings: negative Repeat count")
    check_built(len(text) + spaces * (text.count("\n") + 1), "indent")
    pad = " " * spaces
    return pad + text.replace("\n", "\n" + pad)


def _decoded(text: str, decode: Callable[[bytes], bytes]) -> str:
    """sprig's b64dec and b32dec: Go's error message in place of the text it cannot decode."""
    try:
        return decode(text.encode()).decode("utf-8", "replace")
    except CorruptInput as err:
        return str(err)


register("b64dec", params=("string",))(lambda s: _decoded(s, b64decode))
register("b32dec", params=("string",))(lambda s: _decoded(s, b32decode))


@register("quote", variadic=ANY)
def quote(*values: Any) -> str:
    return " ".join(go_quote(strval(v)) for v in values if _nil(v) is not None)


@register("squote", variadic=ANY)
def squote(*values: Any) -> str:
    return " ".join(f"'{format_v(v, top=False)}'" for v in values if _nil(v) is not None)


@register("cat", variadic=ANY)
def cat(*values: Any) -> str:
    kept = [v for v in values if _nil(v) is not None]
    return sprintf(" ".join(["%v"] * len(kept)), kept)


@register("trunc", params=("int", "string"))
def trunc(count: int, s: str) -> str:
    data = s.encode()
    if count < 0 and len(data) + count > 0:
        return data[len(data) + count :].decode(errors="replace")
    if count >= 0 and len(data) > count:
        return data[:count].decode(errors="replace")
    return s


@register("substr", params=("int", "int", "string"))
def substr(start: int, end: int, s: str) -> str:
    data = s.encode()
    try:
        if start < 0:
            piece = _go_slice(data, 0, end)
        elif end < 0 or end > len(data):
            piece = _go_slice(data, start, len(data))
        else:
            piece = _go_slice(data, start, end)
    except IndexError as err:
        raise FuncError(str(err)) from None
    return piece.decode(errors="replace")


def _go_slice(data: bytes, low: int, high: int) -> bytes:
    """data[low:high], or Go's panic for it: the high bound is checked first."""
    out_of_range = "runtime error: slice bounds out of range"
    if high < 0:
        raise IndexError(f"{out_of_range} [:{high}]")
    if high > len(data):
        raise IndexError(f"{out_of_range} [:{high}] with length {len(data)}")
    if low < 0:
        raise IndexError(f"{out_of_range} [{low}:]")
    if low > high:
        raise IndexError(f"{out_of_range} [{low}:{high}]")
    return data[low:high]


register("untitle", params=("string",))(sprig_text.uncapitalize)


@register("toStrings", params=(ANY,))
def to_strings(value: Any) -> StringList:
    value = _nil(value)
    if isinstance(value, list | tuple):
        return StringList(strval(v) for v in value if v is not None)
    return StringList() if value is None else StringList([strval(value)])


@register("join", params=("string", ANY))
def join(sep: str, value: Any) -> str:
    return sep.join(to_strings(value))


@register("split", params=("string", "string"))
def split(sep: str, s: str) -> StringMap:
    return StringMap({f"_{i}": part for i, part in enumerate(_go_split(s, sep, -1))})


@register("splitn", params=("string", "int", "string"))
def splitn(sep: str, n: int, s: str) -> StringMap:
    return StringMap({f"_{i}": part for i, part in enumerate(_go_split(s, sep, n))})


register("splitList", params=("string", "string"))(lambda sep, s: StringList(_go_split(s, sep, -1)))


def _go_split(s: str, sep: str, n: int) -> list[str]:
    if n == 0:
        return []
    if sep == "":
        parts = list(s)
        if n > 0 and len(parts) > n:
            parts = [*parts[: n - 1], "".join(parts[n - 1 :])]
        return parts
    return s.split(sep) if n < 0 else s.split(sep, n - 1)


@register("sortAlpha", params=(ANY,))
def sort_alpha(value: Any) -> StringList:
    if isinstance(value, list | tuple):
        return StringList(sorted(to_strings(value), key=lambda x: x.encode()))
    return StringList([strval(_nil(value))])


# --- lists ----------------------------------------------------------------------------------------


def _list_of(value: Any, what: str) -> list[Any]:
    value = _nil(value)
    if value is None:
        raise FuncError("runtime error: invalid memory address or nil pointer dereference")
    if not isinstance(value, list | tuple):
        raise FuncError(f"Cannot {what} on type {kind(value)}")
    return list(value)


register("list", "tuple", variadic=ANY)(lambda *v: list(v))


def _list_func(*names: str, what: str, params: tuple[str, ...] = (ANY,)) -> Callable[[F], F]:
    """Decorator for sprig's list functions: `impl` and its must-variant, both refusing
    non-lists the way sprig does."""

    def wrap(impl: F) -> F:
        def run(value: Any, *rest: Any) -> Any:
            return impl(_list_of(value, what), *rest)

        for name in names:
            FUNCS[name] = Func(run, params)
            FUNCS["must" + name[0].upper() + name[1:]] = Func(run, params)
        return impl

    return wrap


_list_func("first", what="find first")(lambda items: items[0] if items else None)
_list_func("last", what="find last")(lambda items: items[-1] if items else None)
_list_func("rest", what="find rest")(lambda items: items[1:] if items else NilSlice())
_list_func("initial", what="find initial")(lambda items: items[:-1] if items else NilSlice())
_list_func("reverse", what="find reverse")(lambda items: items[::-1])
_list_func("compact", what="compact")(lambda items: [v for v in items if not empty(v)])
_list_func("append", "push", what="push", params=(ANY, ANY))(lambda items, v: [*items, v])
_list_func("prepend", what="prepend", params=(ANY, ANY))(lambda items, v: [v, *items])


@_list_func("uniq", what="find uniq")
def uniq(items: list[Any]) -> list[Any]:
    out: list[Any] = []
    for item in items:
        if not any(deep_equal(item, seen) for seen in out):
            out.append(item)
    return out


def _without(items: list[Any], *omit: Any) -> list[Any]:
    return [v for v in items if not any(deep_equal(v, o) for o in omit)]


FUNCS["without"] = FUNCS["mustWithout"] = Func(
    lambda items, *omit: _without(_list_of(items, "find without"), *omit), (ANY,), ANY
)


def has(needle: Any, haystack: Any) -> bool:
    haystack = _nil(haystack)
    if haystack is None:
        return False
    if not isinstance(haystack, list | tuple):
        raise FuncError(f"Cannot find has on type {kind(haystack)}")
    return any(deep_equal(needle, item) for item in haystack)


FUNCS["has"] = FUNCS["mustHas"] = Func(has, (ANY, ANY))


def _chunk(size: int, items: Any) -> list[list[Any]]:
    """sprig's mustChunk, step by step: its count of chunks is float arithmetic, so a size of
    zero or below makes no chunks, or a slice of a length Go cannot make."""
    values = _list_of(items, "chunk")
    count = _float_to_int64(_go_rounded(_go_divide(len(values) - 1.0, float(size)), math.floor) + 1)
    chunks = []
    for i in range(max(count, 0)):
        length = size
        if i == count - 1:  # (a size of 0 makes no chunks: count is negative)
            length = int(math.fmod(len(values), size)) or size
        if length < 0:
            break
        chunks.append(values[i * size : i * size + length])
    if count < 0 or len(chunks) < count:
        raise FuncError("runtime error: makeslice: len out of range")
    return chunks


def _go_divide(a: float, b: float) -> float:
    """Go's float division: by zero it is an infinity, or NaN for zero by zero."""
    if b == 0:
        return (
            math.nan
            if a == 0 or math.isnan(a)
            else math.copysign(math.inf, a) * (math.copysign(1.0, b))
        )
    return a / b


FUNCS["chunk"] = FUNCS["mustChunk"] = Func(_chunk, ("int", ANY))


def _sprig_slice(items: Any, *indices: Any) -> Any:
    values = _nil(items)
    if not isinstance(values, list | tuple):
        raise FuncError(f"list should be type of slice or array but {kind(values)}")
    if not values:
        return None
    start = to_int64(indices[0]) if indices else 0
    end = to_int64(indices[1]) if len(indices) > 1 else len(values)
    if not 0 <= start <= end <= len(values):
        raise FuncError(f"reflect: slice index out of range [{start}:{end}]")
    return list(values[start:end])


FUNCS["slice"] = FUNCS["mustSlice"] = Func(_sprig_slice, (ANY,), ANY)


@register("concat", variadic=ANY)
def concat(*lists: Any) -> list[Any]:
    out: list[Any] = []
    for value in lists:
        value = _nil(value)
        if not isinstance(value, list | tuple):
            raise FuncError(f"Cannot concat type {kind(value)} as list")
        out.extend(value)
    return out


@register("until", params=("int",))
def until(count: int) -> IntList:
    result: IntList = until_step(0, count, 1 if count >= 0 else -1)
    return result


@register("untilStep", params=("int", "int", "int"))
def until_step(start: int, stop: int, step: int) -> IntList:
    return IntList(_until_step(start, stop, step, "untilStep"))


def _until_step(start: int, stop: int, step: int, name: str) -> range:
    """sprig's untilStep, its length checked before anything is built (Python's len() of a
    range past sys.maxsize would fail)."""
    if (stop < start and step >= 0) or (stop >= start and step <= 0):
        return range(0)
    count = (abs(stop - start) + abs(step) - 1) // abs(step)
    check_built(count, name, items=True)
    return range(start, stop, step)


@register("seq", variadic="int")
def seq(*params: int) -> str:
    """sprig's seq: the ends one past `end`, in Go's int arithmetic (which wraps)."""
    if len(params) == 1:
        start, end, step = 1, params[0], 1 if params[0] >= 1 else -1
    elif len(params) == 2:
        start, end = params
        step = 1 if end >= start else -1
    elif len(params) == 3:
        start, step, end = params
        if (end < start and step > 0) or (end >= start and step < 0):
            return ""
    else:
        return ""
    stop = _wrap64(end + (-1 if end < start else 1))
    return " ".join(map(str, _until_step(start, stop, step, "seq")))


def deep_equal(a: Any, b: Any) -> bool:
    """reflect.DeepEqual over template values (types must match, like Go)."""
    if type_name(a) != type_name(b):
        return False
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(deep_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(deep_equal(a[k], b[k]) for k in a)
    return bool(a == b) if not isinstance(a, float) or not math.isnan(a) else False


register("deepEqual", params=(ANY, ANY))(deep_equal)


# --- dicts ----------------------------------------------------------------------------------------


def _map_arg(value: Any) -> dict[str, Any]:
    value = _nil(value)
    if value is None:
        return {}
    if not isinstance(value, dict) or isinstance(value, StringMap):
        raise _conversion_panic(value, MAP)
    return value


@register("dict", variadic=ANY)
def dict_(*pairs: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for i in range(0, len(pairs), 2):
        key = strval(_nil(pairs[i]))
        out[key] = pairs[i + 1] if i + 1 < len(pairs) else ""
    return out


register("get", params=(MAP, "string"))(lambda d, key: d.get(key, ""))
register("hasKey", params=(MAP, "string"))(lambda d, key: key in d)


@register("set", params=(MAP, "string", ANY))
def set_(d: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    if isinstance(d, NilMap):
        raise FuncError("assignment to entry in nil map")
    d[key] = value
    return d


@register("unset", params=(MAP, "string"))
def unset(d: dict[str, Any], key: str) -> dict[str, Any]:
    d.pop(key, None)
    return d


register("pluck", params=("string",), variadic=MAP)(
    lambda key, *dicts: [d[key] for d in dicts if key in d]
)
register("keys", variadic=MAP)(
    # Go returns map order, which is random; sorted is one of its possible answers.
    lambda *dicts: StringList(sorted((k for d in dicts for k in d), key=lambda k: k.encode()))
)
register("values", params=(MAP,))(lambda d: [d[k] for k in sorted(d, key=lambda k: k.encode())])
register("pick", params=(MAP,), variadic="string")(
    lambda d, *keys: {k: d[k] for k in keys if k in d}
)
register("omit", params=(MAP,), variadic="string")(
    lambda d, *keys: {k: v for k, v in d.items() if k not in keys}
)


@register("dig", variadic=ANY)
def dig(*args: Any) -> Any:
    if len(args) < 3:
        raise FuncError("dig needs at least three arguments")
    current = _nil(args[-1])
    if not isinstance(current, dict) or isinstance(current, StringMap):
        raise _conversion_panic(current, MAP)
    fallback = args[-2]
    keys = []
    for key in args[:-2]:
        if not isinstance(key, str):
            raise _conversion_panic(_nil(key), "string")
        keys.append(key)
    for i, key in enumerate(keys):
        if key not in current:
            return fallback
        step = current[key]
        if i == len(keys) - 1:
            return step
        if not isinstance(step, dict) or isinstance(step, StringMap):
            raise _conversion_panic(step, MAP)
        current = step
    return fallback


def _merge(dst: dict[str, Any], src: Mapping[str, Any], overwrite: bool) -> None:
    # mergo: maps merge recursively; other values fill only empty slots (or all, overwriting).
    for key, value in src.items():
        if value is None:  # a nil value is copied only when overwriting
            if overwrite:
                dst[key] = value
            continue
        if key in dst and isinstance(dst[key], dict) and isinstance(value, dict):
            _merge(dst[key], value, overwrite)
        elif key not in dst or overwrite or empty(dst[key]):
            dst[key] = value


def _merge_func(overwrite: bool) -> Callable[..., Any]:
    def merge(dst: dict[str, Any], *srcs: dict[str, Any]) -> dict[str, Any]:
        for src in srcs:
            _merge(dst, src, overwrite)
        return dst

    return merge


for _name, _over in (("merge", False), ("mergeOverwrite", True)):
    FUNCS[_name] = FUNCS["must" + _name[0].upper() + _name[1:]] = Func(
        _merge_func(_over), (MAP,), MAP
    )


def _deep_copy(value: Any) -> Any:
    if _nil(value) is None:  # copystructure asks reflect for the type of nothing
        raise FuncError("reflect: call of reflect.Value.Type on zero Value")
    return copy.deepcopy(value)


FUNCS["deepCopy"] = FUNCS["mustDeepCopy"] = Func(_deep_copy, (ANY,))


# --- JSON -----------------------------------------------------------------------------------------


def _json_value(value: Any) -> Any:
    value = _nil(value)
    if isinstance(value, NilSlice | NilMap):
        return None
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        raise FuncError(f"json: unsupported value: {format_v(value)}")
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, GoStruct):
        return _json_value(value.go_json())
    if callable(value) or isinstance(value, complex):
        raise FuncError(f"json: unsupported type: {type_name(value)}")
    return value


def to_json(value: Any, *, indent: str = "", html: bool = True) -> str:
    try:
        return json_marshal(_json_value(value), indent=indent, escape_html=html)
    except UnsupportedJSONValue as err:
        raise FuncError(str(err)) from None


def _safe_json(value: Any, **options: Any) -> str:
    try:
        return to_json(value, **options)
    except FuncError:
        return ""


register("toJson", params=(ANY,))(lambda v: _safe_json(v))
register("mustToJson", params=(ANY,))(lambda v: to_json(v))
register("toPrettyJson", params=(ANY,))(lambda v: _safe_json(v, indent="  "))
register("mustToPrettyJson", params=(ANY,))(lambda v: to_json(v, indent="  "))
register("toRawJson", "mustToRawJson", params=(ANY,))(lambda v: to_json(v, html=False))


#: nesting deeper than this is refused (encoding/json allows 10,000; Python's parser recurses)
MAX_JSON_DEPTH = 128
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_JSON_NESTING = re.compile(r"[\[\]{}]")


def _json_depth(text: str) -> int:
    depth = deepest = 0
    for bracket in _JSON_NESTING.finditer(_JSON_STRING.sub("", text)):
        depth += 1 if bracket.group() in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _json_constant(name: str) -> Any:
    if name.startswith("-"):
        raise FuncError("invalid character 'I' in numeric literal")
    raise FuncError(f"invalid character {name[0]!r} looking for beginning of value")


def _decode_json(text: str) -> tuple[Any, FuncError | None]:
    """encoding/json's Unmarshal into interface{}: every number a float64; one past float64 is
    left null and the first such error returned with the rest of the value, as Go does."""
    if _json_depth(text) > MAX_JSON_DEPTH:
        raise FuncError(f"json: nested deeper than {MAX_JSON_DEPTH} levels")
    overflow: list[FuncError] = []

    def number(literal: str) -> float | None:
        value = float(literal)
        if not math.isinf(value):
            return value
        said = f"json: cannot unmarshal number {literal[:40]} into Go value of type float64"
        overflow.append(FuncError(said))
        return None

    try:
        value = json.loads(
            text, parse_float=number, parse_int=number, parse_constant=_json_constant
        )
    except json.JSONDecodeError as err:
        raise FuncError(json_syntax_error(err)) from None
    return value, overflow[0] if overflow else None


def from_json(text: str) -> Any:
    value, error = _decode_json(text)
    if error is not None:
        raise error
    return value


def _from_json_lenient(text: str) -> Any:
    try:
        return _decode_json(text)[0]
    except FuncError:
        return None


register("fromJson", params=("string",))(_from_json_lenient)
register("mustFromJson", params=("string",))(from_json)


# --- arithmetic -----------------------------------------------------------------------------------


def _wrap64(value: int) -> int:
    return (value + 2**63) % 2**64 - 2**63


register("add1", params=(ANY,))(lambda v: Int64(_wrap64(to_int64(v) + 1)))
register("add", variadic=ANY)(lambda *v: Int64(_wrap64(sum(to_int64(x) for x in v))))
register("sub", params=(ANY, ANY))(lambda a, b: Int64(_wrap64(to_int64(a) - to_int64(b))))


@register("mul", params=(ANY,), variadic=ANY)
def mul(first: Any, *rest: Any) -> Int64:
    value = to_int64(first)
    for other in rest:
        value = _wrap64(value * to_int64(other))
    return Int64(value)


def _int_division(a: Any, b: Any, modulo: bool) -> Int64:
    x, y = to_int64(a), to_int64(b)
    if y == 0:
        raise FuncError("runtime error: integer divide by zero")
    quotient = abs(x) // abs(y) * (1 if (x >= 0) == (y >= 0) else -1)  # Go truncates
    return Int64(x - quotient * y if modulo else _wrap64(quotient))


register("div", params=(ANY, ANY))(lambda a, b: _int_division(a, b, False))
register("mod", params=(ANY, ANY))(lambda a, b: _int_division(a, b, True))
register("max", "biggest", params=(ANY,), variadic=ANY)(
    lambda a, *r: Int64(max([to_int64(a), *map(to_int64, r)]))
)
register("min", params=(ANY,), variadic=ANY)(
    lambda a, *r: Int64(min([to_int64(a), *map(to_int64, r)]))
)


def _go_max(a: float, b: float) -> float:
    """math.Max: NaN wins, and +0 is the larger zero."""
    if math.isnan(a) or math.isnan(b):
        return math.nan
    if a == b == 0:
        return 0.0 if math.copysign(1, a) > 0 or math.copysign(1, b) > 0 else a
    return max(a, b)


def _go_min(a: float, b: float) -> float:
    """math.Min: NaN wins, and -0 is the smaller zero."""
    if math.isnan(a) or math.isnan(b):
        return math.nan
    if a == b == 0:
        return -0.0 if math.copysign(1, a) < 0 or math.copysign(1, b) < 0 else a
    return min(a, b)


def _go_rounded(value: float, to: Callable[[float], int]) -> float:
    """math.Floor or math.Ceil: infinities, NaN and zeros as they are, a zero keeping the
    sign of what was rounded to it."""
    if not math.isfinite(value) or value == 0:
        return value
    return math.copysign(float(to(value)), value)


register("maxf", params=(ANY,), variadic=ANY)(
    lambda a, *r: functools.reduce(_go_max, map(to_float64, r), to_float64(a))
)
register("minf", params=(ANY,), variadic=ANY)(
    lambda a, *r: functools.reduce(_go_min, map(to_float64, r), to_float64(a))
)
register("ceil", params=(ANY,))(lambda v: _go_rounded(to_float64(v), math.ceil))
register("floor", params=(ANY,))(lambda v: _go_rounded(to_float64(v), math.floor))


@register("round", params=(ANY, "int"), variadic="float64")
def round_(value: Any, places: int, *half: float) -> float:
    threshold = half[0] if half else 0.5
    number = to_float64(value)
    try:
        scale = 10.0**places
    except OverflowError:
        scale = math.inf
    digit = number * scale
    fraction, _ = math.modf(digit)
    rounded = _go_rounded(digit, math.ceil if fraction >= threshold else math.floor)
    return _go_divide(rounded, scale)


def _decimal_op(
    first: Any, rest: tuple[Any, ...], op: Callable[[Decimal, Decimal], Decimal]
) -> float:
    """shopspring/decimal arithmetic on the floats' shortest decimal forms, as sprig does it
    (a decimal has no negative zero, and none of NaN or the infinities)."""
    result = _decimal(to_float64(first))
    for value in rest:
        result = op(result, _decimal(to_float64(value)))
    return float(result) + 0.0


def _decimal(value: float) -> Decimal:
    if not math.isfinite(value):
        raise FuncError(f"Cannot create a Decimal from {format_float(value, 'g', 64)}")
    return Decimal(repr(value))


def _decimal_div(a: Decimal, b: Decimal) -> Decimal:
    if b == 0:
        raise FuncError("decimal division by 0")
    with localcontext() as ctx:
        # 16 decimal places, however many digits come before them (the quotient's exponent
        # is the operands' difference, or one less)
        ctx.prec = max(100, a.adjusted() - b.adjusted() + 20)
        return (a / b).quantize(Decimal(1).scaleb(-16), rounding=ROUND_HALF_UP)


register("add1f", params=(ANY,))(lambda v: _decimal_op(v, (1,), operator.add))
register("addf", variadic=ANY)(lambda *v: _decimal_op(0.0, v, operator.add))
register("subf", params=(ANY,), variadic=ANY)(lambda a, *v: _decimal_op(a, v, operator.sub))
register("mulf", params=(ANY,), variadic=ANY)(lambda a, *v: _decimal_op(a, v, operator.mul))
register("divf", params=(ANY,), variadic=ANY)(lambda a, *v: _decimal_op(a, v, _decimal_div))


@register("toDecimal", params=(ANY,))
def to_decimal(value: Any) -> Int64:
    text = format_v(_nil(value), top=False) if _nil(value) is not None else "<nil>"
    if not re.fullmatch(r"[+-]?[0-7]+", text):
        return Int64(0)
    number = int(text, 8)
    return Int64(number if -(2**63) <= number < 2**63 else 0)


@register("urlParse", params=("string",))
def url_parse(text: str) -> dict[str, Any]:
    if any(ord(ch) < 0x20 or ch == "\x7f" for ch in text):
        raise _url_error(text, "net/url: invalid control character in URL")
    rest, _, fragment = text.partition("#")
    _unescapable(text, fragment)
    scheme_end = _go_scheme_end(rest)
    if scheme_end == 0:
        raise _url_error(text, "missing protocol scheme")
    path, _, query = rest.partition("?")
    if scheme_end < 0 and not path.startswith("/") and ":" in path.split("/")[0]:
        raise _url_error(text, "first path segment in URL cannot contain colon")
    if text[:1] == " ":  # no scheme for Go (urlsplit would skip the spaces and look for one)
        _unescapable(text, path)
        unquote = urllib.parse.unquote
        return {"scheme": "", "host": "", "hostname": "", "path": unquote(path), "query": query,
                "opaque": "", "fragment": unquote(fragment), "userinfo": ""}  # fmt: skip
    try:
        parts = urllib.parse.urlsplit(text)
    except ValueError:  # an unclosed IPv6 bracket
        raise _url_error(text, "missing ']' in host") from None
    _unescapable(text, parts.path)
    netloc = parts.netloc
    if netloc:
        _check_authority(text, netloc)
    userinfo, _, host = netloc.rpartition("@") if "@" in netloc else ("", "", netloc)
    host = urllib.parse.unquote(host)  # a zone's %25, and escaped non-ASCII bytes
    opaque = ""
    path = parts.path
    if parts.scheme and not netloc and not text[len(parts.scheme) + 1 :].startswith("/"):
        opaque, path = text[len(parts.scheme) + 1 :].split("#")[0].split("?")[0], ""
    return {
        "scheme": parts.scheme,
        "host": host,
        "hostname": _go_hostname(host),
        "path": urllib.parse.unquote(path),
        "query": parts.query,
        "opaque": opaque,
        "fragment": urllib.parse.unquote(parts.fragment),
        "userinfo": _go_userinfo(userinfo) if "@" in netloc else "",
    }


def _check_authority(text: str, authority: str) -> None:
    """net/url's parseAuthority: what the user info and the host may hold, and the port."""
    userinfo, at, host = authority.rpartition("@")
    if at:
        if not re.fullmatch(r"[A-Za-z0-9\-._:~!$&'()*+,;=%@]*", userinfo):
            raise _url_error(text, "net/url: invalid userinfo")
        _unescapable(text, userinfo)
    if host.startswith("["):
        close = host.rfind("]")
        if close < 0:
            raise _url_error(text, "missing ']' in host")
        port = host[close + 1 :]
    else:
        port = host[host.rfind(":") :] if ":" in host else ""
    if port and not re.fullmatch(":[0-9]*", port):
        raise _url_error(text, f"invalid port {go_quote(port)} after host")
    for ch in host:
        if ch.isascii() and not (ch.isalnum() or ch in "-._~!$&'()*+,;=:[]<>\"%"):
            raise _url_error(text, f"invalid character {go_quote(ch)} in host name")
    _unescapable(text, host)
    for escaped in re.findall("%[0-9a-fA-F]{2}", host):
        if int(escaped[1], 16) < 8 and escaped != "%25":  # a host escapes only non-ASCII bytes
            raise _url_error(text, f"invalid URL escape {go_quote(escaped)}")


def _go_userinfo(userinfo: str) -> str:
    """Userinfo.String(): the user name and password unescaped, then escaped as net/url
    escapes them."""
    name, colon, password = userinfo.partition(":")

    def escaped(part: str) -> str:
        return "".join(
            ch if (ch.isascii() and ch.isalnum()) or ch in "-_.~$&+,;=" else
            "".join(f"%{b:02X}" for b in ch.encode())
            for ch in urllib.parse.unquote(part)
        )  # fmt: skip

    return escaped(name) + (":" + escaped(password) if colon else "")


def _go_hostname(host: str) -> str:
    """URL.Hostname: the host without its port and IPv6 brackets, its case kept."""
    before, colon, port = host.rpartition(":")
    if colon and (port == "" or (port.isascii() and port.isdigit())):
        host = before
    return host[1:-1] if host.startswith("[") and host.endswith("]") else host


def _go_scheme_end(text: str) -> int:
    """Where net/url's getScheme finds the `:` ending a scheme; -1 when there is no scheme."""
    for i, ch in enumerate(text):
        if ch.isascii() and ch.isalpha():
            continue
        if ch.isascii() and (ch.isdigit() or ch in "+-."):
            if i == 0:
                return -1
            continue
        return i if ch == ":" else -1
    return -1


def _unescapable(text: str, part: str) -> None:
    """net/url's unescape: every `%` starts two hex digits."""
    for found in re.finditer("%", part):
        sequence = part[found.start() : found.start() + 3]
        if not re.fullmatch("%[0-9a-fA-F]{2}", sequence):
            raise _url_error(text, f"invalid URL escape {go_quote(sequence)}")


def _url_error(text: str, why: str) -> FuncError:
    return FuncError(f"unable to parse url: parse {go_quote(text)}: {why}")


@register("urlJoin", params=(MAP,))
def url_join(parts: dict[str, Any]) -> str:
    def field(key: str) -> str:
        value = parts.get(key, "")
        if not isinstance(value, str):
            raise FuncError(
                f"unable to parse {key} key, must be of type string, but {kind(value)} found"
            )
        return value

    scheme, host, path = field("scheme"), field("host"), field("path")
    query, opaque, fragment, userinfo = (
        field("query"), field("opaque"), field("fragment"), field("userinfo")
    )  # fmt: skip
    text = f"{scheme}:" if scheme else ""
    if opaque:
        text += opaque
    else:
        if scheme or host or userinfo:
            text += "//"
            text += f"{userinfo}@" if userinfo else ""
            text += host
        if path and not path.startswith("/") and host:
            text += "/"
        text += urllib.parse.quote(path, safe="/:@!$&'()*+,;=-._~")
    text += f"?{query}" if query else ""
    return text + (
        f"#{urllib.parse.quote(fragment, safe='/?:@!$&()*+,;=-._~')}" if fragment else ""
    )


# --- paths, regular expressions, reflection ------------------------------------------------------

register("base", "osBase", params=("string",))(lambda p: _go_base(p))
register("dir", "osDir", params=("string",))(lambda p: _go_clean(posixpath.dirname(p) or "."))
register("clean", "osClean", params=("string",))(lambda p: _go_clean(p))
register("isAbs", "osIsAbs", params=("string",))(lambda p: p.startswith("/"))


@register("ext", "osExt", params=("string",))
def ext(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    dot = name.rfind(".")
    return name[dot:] if dot >= 0 else ""


def _go_base(path: str) -> str:
    if path == "":
        return "."
    path = path.rstrip("/")
    return path.rsplit("/", 1)[-1] if path else "/"


def _go_clean(path: str) -> str:
    if path == "":
        return "."
    cleaned = posixpath.normpath(path)
    return "/" + cleaned.lstrip("/") if cleaned.startswith("//") else cleaned


_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # a refused pattern is the template's error, not a log line


def _go_regex(pattern: str, *, must: bool = True) -> re2._Regexp:
    """Compile a Go pattern with RE2, Go's own engine: linear time whatever the pattern and
    the text (Python's backtracking `re` can be made to run for ever), and Go's syntax. sprig's
    plain functions use MustCompile, which panics."""
    try:
        return re2.compile(pattern, _RE2_OPTIONS)
    except re2.error as err:
        detail = err.args[0].decode() if err.args and isinstance(err.args[0], bytes) else str(err)
        code, _, expression = detail.partition(": ")
        message = f"error parsing regexp: {_GO_REGEXP_ERRORS.get(code, code)}: `{expression}`"
        if not must:
            raise FuncError(message) from None
        quoted = f"`{pattern}`" if _can_backquote(pattern) else go_quote(pattern)
        raise FuncError(f"regexp: Compile({quoted}): {message}") from None


#: RE2's words for a syntax error, as Go's regexp/syntax words them
_GO_REGEXP_ERRORS = {
    "missing ]": "missing closing ]",
    "missing )": "missing closing )",
    "trailing \\": "trailing backslash at end of expression",
    "no argument for repetition operator": "missing argument to repetition operator",
    "invalid repetition size": "invalid repeat count",
    "bad repetition operator": "invalid nested repetition operator",
    "invalid perl operator": "invalid or unsupported Perl syntax",
    "invalid named capture group": "invalid named capture",
}


def _can_backquote(text: str) -> bool:
    """strconv.CanBackquote: one line, no backquote, no control character but tab."""
    return all(ch == "\t" or (ch >= " " and ch not in "`\x7f\ufeff") for ch in text)


def _go_matches(rx: re2._Regexp, text: str) -> list[re2._Match]:
    """The successive matches Go's FindAll, ReplaceAll and Split see: an empty match right
    after the previous match is not one."""
    found: list[re2._Match] = []
    for match in rx.finditer(text):
        if found and match.start() == match.end() == found[-1].end():
            continue
        found.append(match)
    return found


def _replace_all(rx: re2._Regexp, text: str, replacement: Callable[[re2._Match], str]) -> str:
    out, last = [], 0
    for match in _go_matches(rx, text):
        out += [text[last : match.start()], replacement(match)]
        last = match.end()
        check_built(sum(map(len, out)), "regexReplaceAll")
    out.append(text[last:])
    return "".join(out)


def _regex_match(pattern: str, text: str) -> bool:
    try:
        return _go_regex(pattern).search(text) is not None
    except FuncError:
        return False  # sprig's regexMatch drops the compile error


def _expand(match: re2._Match, template: str) -> str:
    """Go's Regexp.Expand: $1, ${1}, $name, ${name} and $$."""

    def group(name: str) -> str:
        try:
            value = match.group(int(name) if name.isdigit() else name)
        except IndexError:  # an unknown group expands to nothing, as in Go
            return ""
        return value or ""

    out = []
    i = 0
    while i < len(template):
        ch = template[i]
        if ch != "$" or i + 1 >= len(template):
            out.append(ch)
            i += 1
            continue
        if template[i + 1] == "$":
            out.append("$")
            i += 2
            continue
        if template[i + 1] == "{":
            end = template.find("}", i + 2)
            name = template[i + 2 : end] if end >= 0 else ""
            if end >= 0 and re.fullmatch(r"\w+", name):
                out.append(group(name))
                i = end + 1
                continue
            out.append(ch)
            i += 1
            continue
        name_match = re.match(r"\w+", template[i + 1 :])
        if not name_match:
            out.append(ch)
            i += 1
            continue
        out.append(group(name_match.group()))
        i += 1 + len(name_match.group())
    return "".join(out)


register("regexMatch", params=("string", "string"))(_regex_match)
register("mustRegexMatch", params=("string", "string"))(
    lambda rx, s: _go_regex(rx, must=False).search(s) is not None
)
register("regexFind", "mustRegexFind", params=("string", "string"))(
    lambda rx, s: m.group() if (m := _go_regex(rx).search(s)) else ""
)
register("regexFindAll", "mustRegexFindAll", params=("string", "string", "int"))(
    lambda rx, s, n: (
        StringList(found)
        if (found := [m.group() for m in _go_matches(_go_regex(rx), s)][: (None if n < 0 else n)])
        else NilStringList()
    )
)
register("regexReplaceAll", "mustRegexReplaceAll", params=("string", "string", "string"))(
    lambda rx, s, repl: _replace_all(_go_regex(rx), s, lambda m: _expand(m, repl))
)
register(
    "regexReplaceAllLiteral", "mustRegexReplaceAllLiteral", params=("string", "string", "string")
)(lambda rx, s, repl: _replace_all(_go_regex(rx), s, lambda m: repl))
register("regexQuoteMeta", params=("string",))(
    lambda s: re.sub(r"([\\.+*?()|\[\]{}^$])", r"\\\1", s)
)


@register("regexSplit", "mustRegexSplit", params=("string", "string", "int"))
def regex_split(pattern: str, s: str, n: int) -> StringList:
    if n == 0:
        return StringList()
    rx = _go_regex(pattern)
    if pattern and not s:
        return StringList([""])
    parts: list[str] = []
    begin = end = 0
    for match in _go_matches(rx, s):
        if n > 0 and len(parts) == n - 1:
            break
        end = match.start()
        if match.end() != 0:
            parts.append(s[begin:end])
        begin = match.end()
    if end != len(s):
        parts.append(s[begin:])
    return StringList(parts)


register("typeOf", params=(ANY,))(lambda v: type_name(_nil(v)))
register("typeIs", params=("string", ANY))(lambda t, v: t == type_name(_nil(v)))
register("typeIsLike", params=("string", ANY))(lambda t, v: type_name(_nil(v)) in (t, "*" + t))
register("kindOf", params=(ANY,))(lambda v: _kind_name(_nil(v)))
register("kindIs", params=("string", ANY))(lambda k, v: k == _kind_name(_nil(v)))


def _kind_name(value: Any) -> str:
    return "invalid" if value is None else kind(value)


# --- semver ---------------------------------------------------------------------------------------


class SemverVersion(GoStruct):
    """*semver.Version from sprig's `semver`."""

    go_type = "semver.Version"
    go_methods: ClassVar[Mapping[str, str]] = {
        "Major": "major", "Minor": "minor", "Patch": "patch", "Prerelease": "prerelease",
        "Metadata": "metadata", "Original": "original", "String": "string",
    }  # fmt: skip

    def __init__(self, version: Any) -> None:
        self.version = version

    def major(self) -> int:
        return int(self.version.major)

    def minor(self) -> int:
        return int(self.version.minor)

    def patch(self) -> int:
        return int(self.version.patch)

    def prerelease(self) -> str:
        return str(self.version.prerelease)

    def metadata(self) -> str:
        return str(self.version.build)

    def original(self) -> str:
        return str(self.version.original)

    def go_json(self) -> Any:
        return self.string()  # its MarshalJSON

    def __deepcopy__(self, memo: dict[int, Any]) -> SemverVersion:
        """copystructure (sprig's deepCopy) copies exported fields, and a Version has none."""
        from bot.golang.semver import Version

        return SemverVersion(Version(0, 0, 0))

    def string(self) -> str:
        v = self.version
        text = f"{v.major}.{v.minor}.{v.patch}"
        text += f"-{v.prerelease}" if v.prerelease else ""
        return text + (f"+{v.build}" if v.build else "")


@register("semver", params=("string",))
def semver(text: str) -> SemverVersion:
    from bot.golang.semver import InvalidVersion, Version

    try:
        return SemverVersion(Version.parse(text))
    except InvalidVersion as err:
        raise FuncError(err.go_message) from None


@register("semverCompare", params=("string", "string"))
def semver_compare(constraint: str, version: str) -> bool:
    from bot.golang.semver import Constraint, InvalidConstraint, InvalidVersion, Version

    try:
        parsed = Constraint.parse(constraint)
    except InvalidConstraint:
        raise FuncError(f"improper constraint: {constraint}") from None
    try:
        return parsed.allows(Version.parse(version))
    except InvalidVersion as err:
        raise FuncError(err.go_message) from None


# --- refused: clock, randomness, environment, network, key material -----------------------------

_REFUSED = [
    "now",
    "date",
    "dateInZone",
    "date_in_zone",
    "dateModify",
    "date_modify",
    "mustDateModify",
    "must_date_modify",
    "toDate",
    "mustToDate",
    "unixEpoch",
    "ago",
    "duration",
    "durationRound",
    "htmlDate",
    "htmlDateInZone",
    "env",
    "expandenv",
    "getHostByName",
    "uuidv4",
    "randAlpha",
    "randAlphaNum",
    "randAscii",
    "randNumeric",
    "randSeededNumeric",
    "randInt",
    "randBytes",
    "shuffle",
    "bcrypt",
    "htpasswd",
    "derivePassword",
    "genPrivateKey",
    "genCA",
    "genCAWithKey",
    "genSelfSignedCert",
    "genSelfSignedCertWithKey",
    "genSignedCert",
    "genSignedCertWithKey",
    "buildCustomCert",
    "encryptAES",
    "decryptAES",
]


def _refuse(name: str) -> Func:
    def refused(*_: Any) -> Any:
        raise FuncError(
            f"{name} is not supported by bootstrap-bot: rendered landscapes must not depend on "
            "the clock, randomness, the environment or the network"
        )

    return Func(refused, (), ANY)


# --- goutils and xstrings text helpers ------------------------------------------------------------


def _go_title(text: str) -> str:
    """strings.Title: title-case every letter that follows a separator."""

    def separator(ch: str) -> bool:
        if ord(ch) <= 0x7F:
            return not (ch.isascii() and (ch.isalnum() or ch == "_"))
        if ch.isalpha() or unicodedata.category(ch) == "Nd":
            return False
        return ch.isspace()

    out = []
    previous = " "
    for ch in text:
        out.append(unicase.to_title(ch) if separator(previous) else ch)
        previous = ch
    return "".join(out)


def _abbreviation(impl: Callable[..., str]) -> Callable[..., str]:
    def run(*args: Any) -> str:
        try:
            return impl(*args)
        except sprig_text.AbbreviateError:
            return ""  # sprig drops goutils' error and returns ""

    return run


register("title", params=("string",))(_go_title)
register("abbrev", params=("int", "string"))(_abbreviation(sprig_text.abbrev))
register("abbrevboth", params=("int", "int", "string"))(_abbreviation(sprig_text.abbrevboth))
register("initials", params=("string",))(sprig_text.initials)
register("swapcase", params=("string",))(sprig_text.swapcase)
register("wrap", params=("int", "string"))(
    lambda width, s: sprig_text.wrap_custom(s, width, "", False)
)
register("wrapWith", params=("int", "string", "string"))(
    lambda width, sep, s: sprig_text.wrap_custom(s, width, sep, True)
)
register("snakecase", params=("string",))(lambda s: sprig_text.camel_to_lower(s, "_"))
register("kebabcase", params=("string",))(lambda s: sprig_text.camel_to_lower(s, "-"))
register("camelcase", params=("string",))(sprig_text.to_camel_case)


for _name in _REFUSED:
    FUNCS.setdefault(_name, _refuse(_name))
