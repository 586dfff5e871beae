"""text/template's predefined functions (text/template/funcs.go), with Go's error texts."""

from __future__ import annotations

import urllib.parse
from typing import Any

from bot.gotemplate import gofmt
from bot.gotemplate.functions import ANY, VALUE, Func, FuncError
from bot.gotemplate.values import NO_VALUE, StringMap, kind, printable, truth, type_name

_BASIC_KINDS = {
    "invalid": "invalid", "interface": "invalid", "bool": "bool", "int": "int", "int64": "int",
    "float64": "float", "complex128": "complex", "string": "string",
}  # fmt: skip


def _basic_kind(value: Any) -> str:
    """text/template's basicKind: the comparable kinds; nil counts as invalid."""
    return _BASIC_KINDS.get(kind(value), "other")


_BAD_COMPARISON = "incompatible types for comparison"
_BAD_COMPARISON_TYPE = "invalid type for comparison"


def eq(arg1: Any, *others: Any) -> bool:
    if not others:
        raise FuncError("missing argument for comparison")
    k1 = _basic_kind(arg1)
    for arg in others:
        k2 = _basic_kind(arg)
        if k1 != k2:
            if k1 != "invalid" and k2 != "invalid":
                raise FuncError(_BAD_COMPARISON)
            continue
        if k1 in ("bool", "int", "float", "complex", "string"):
            if arg1 == arg:
                return True
            continue
        if k1 == "invalid":
            return True  # nil == nil
        if type_name(arg1) != type_name(arg):
            raise FuncError(
                f"non-comparable types {gofmt.sprintf('%s', [arg1])}: {type_name(arg1)}, "
                f"{type_name(arg)}: {printable(arg)}"
            )
        if isinstance(arg, list | dict):
            raise FuncError(f"non-comparable type {gofmt.sprintf('%s', [arg])}: {type_name(arg)}")
        if arg1 is arg:
            return True
    return False


def ne(arg1: Any, arg2: Any) -> bool:
    return not eq(arg1, arg2)


def lt(arg1: Any, arg2: Any) -> bool:
    k1, k2 = _basic_kind(arg1), _basic_kind(arg2)
    for k in (k1, k2):
        if k in ("invalid", "other"):
            raise FuncError(_BAD_COMPARISON_TYPE)
    if k1 != k2:
        raise FuncError(_BAD_COMPARISON)
    if k1 in ("bool", "complex"):
        raise FuncError(_BAD_COMPARISON_TYPE)
    if k1 == "string":
        return bool(arg1.encode() < arg2.encode())
    return bool(arg1 < arg2)


def le(arg1: Any, arg2: Any) -> bool:
    return lt(arg1, arg2) or eq(arg1, arg2)


def gt(arg1: Any, arg2: Any) -> bool:
    return not le(arg1, arg2)


def ge(arg1: Any, arg2: Any) -> bool:
    return not lt(arg1, arg2)


def not_(arg: Any) -> bool:
    try:
        return not truth(arg)
    except TypeError:
        return True


def length(item: Any) -> int:
    if item is None:
        raise FuncError("len of nil pointer")
    if isinstance(item, str):
        return len(item.encode())
    if isinstance(item, list | tuple | dict):
        return len(item)
    if item is NO_VALUE:
        # Go's len calls item.Type() on the invalid value, which panics with this text.
        raise FuncError("reflect: call of reflect.Value.Type on zero Value")
    raise FuncError(f"len of type {type_name(item)}")


def _index_arg(index: Any, cap: int) -> int:
    if index is NO_VALUE or index is None:
        raise FuncError("cannot index slice/array with nil")
    if not isinstance(index, int) or isinstance(index, bool):
        raise FuncError(f"cannot index slice/array with type {type_name(index)}")
    if index < 0 or index > cap:
        raise FuncError(f"index out of range: {index}")
    return index


def index(item: Any, *indexes: Any) -> Any:
    if item is NO_VALUE or item is None:
        raise FuncError("index of untyped nil")
    for i in indexes:
        if isinstance(item, list | tuple | str):
            x = _index_arg(i, len(item))
            if x == len(item):
                raise FuncError("reflect: slice index out of range")
            item = item.encode()[x] if isinstance(item, str) else item[x]
        elif isinstance(item, dict):
            if i is NO_VALUE or i is None:
                raise FuncError("value is nil; should be of type string")
            if not isinstance(i, str):
                raise FuncError(f"value has type {type_name(i)}; should be string")
            missing = "" if isinstance(item, StringMap) else None
            item = item.get(i, missing)
        elif item is None:
            raise FuncError("index of nil pointer")
        else:
            raise FuncError(f"can't index item of type {type_name(item)}")
    return item


def slice_(item: Any, *indexes: Any) -> Any:
    if item is NO_VALUE or item is None:
        raise FuncError("slice of untyped nil")
    if len(indexes) > 3:
        raise FuncError(f"too many slice indexes: {len(indexes)}")
    if isinstance(item, str):
        if len(indexes) == 3:
            raise FuncError("cannot 3-index slice a string")
        cap = len(item.encode())
    elif isinstance(item, list | tuple):
        cap = len(item)
    else:
        raise FuncError(f"can't slice item of type {type_name(item)}")
    bounds = [0, len(item.encode()) if isinstance(item, str) else len(item)]
    for k, i in enumerate(indexes):
        bounds_value = _index_arg(i, cap)
        if k < 2:
            bounds[k] = bounds_value
        if k == 2:
            bounds.append(bounds_value)
    if bounds[0] > bounds[1]:
        raise FuncError(f"invalid slice index: {bounds[0]} > {bounds[1]}")
    if len(bounds) == 3 and bounds[1] > bounds[2]:
        raise FuncError(f"invalid slice index: {bounds[1]} > {bounds[2]}")
    if isinstance(item, str):
        return item.encode()[bounds[0] : bounds[1]].decode(errors="replace")
    return list(item[bounds[0] : bounds[1]])


def _eval_args(args: tuple[Any, ...]) -> str:
    if len(args) == 1 and isinstance(args[0], str):
        return args[0]
    # text/template's evalArgs turns nil into "<no value>" before fmt sees it.
    return gofmt.sprint([printable(a) if a is NO_VALUE or a is None else a for a in args])


def html(*args: Any) -> str:
    text = _eval_args(args)
    return (
        text.replace("&", "&amp;")
        .replace("'", "&#39;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&#34;")
        .replace("\x00", "\ufffd")
    )


def js(*args: Any) -> str:
    text = _eval_args(args)
    out = []
    for ch in text:
        code = ord(ch)
        if ch == "\\":
            out.append("\\\\")
        elif ch == "'":
            out.append("\\'")
        elif ch == '"':
            out.append('\\"')
        elif ch == "<":
            out.append("\\u003C")
        elif ch == ">":
            out.append("\\u003E")
        elif ch == "&":
            out.append("\\u0026")
        elif ch == "=":
            out.append("\\u003D")
        elif code < 0x20:
            out.append(f"\\u00{code:02X}")
        elif code >= 0x80 and not ch.isprintable():
            out.append(f"\\u{code:04X}")
        else:
            out.append(ch)
    return "".join(out)


def urlquery(*args: Any) -> str:
    return urllib.parse.quote_plus(_eval_args(args), safe="")


def call(fn: Any, *args: Any) -> Any:
    if fn is NO_VALUE or fn is None:
        raise FuncError("call of nil")
    if not callable(fn):
        raise FuncError(f"non-function of type {type_name(fn)}")
    return fn(*[None if a is NO_VALUE else a for a in args])


def _builtin(impl: Any, params: tuple[str, ...], variadic: str | None = None) -> Func:
    return Func(impl, params, variadic, builtin=True)


BUILTINS: dict[str, Func] = {
    "and": _builtin(None, (VALUE,), VALUE),
    "or": _builtin(None, (VALUE,), VALUE),
    "not": _builtin(not_, (VALUE,)),
    "len": _builtin(length, (VALUE,)),
    "index": _builtin(index, (VALUE,), VALUE),
    "slice": _builtin(slice_, (VALUE,), VALUE),
    "print": _builtin(lambda *a: gofmt.sprint(list(a)), (), ANY),
    "printf": _builtin(lambda f, *a: gofmt.sprintf(f, list(a)), ("string",), ANY),
    "println": _builtin(lambda *a: gofmt.sprintln(list(a)), (), ANY),
    "html": _builtin(html, (), ANY),
    "js": _builtin(js, (), ANY),
    "urlquery": _builtin(urlquery, (), ANY),
    "call": _builtin(call, (VALUE,), VALUE),
    "eq": _builtin(eq, (VALUE,), VALUE),
    "ne": _builtin(ne, (VALUE, VALUE)),
    "lt": _builtin(lt, (VALUE, VALUE)),
    "le": _builtin(le, (VALUE, VALUE)),
    "gt": _builtin(gt, (VALUE, VALUE)),
    "ge": _builtin(ge, (VALUE, VALUE)),
}
