"""Go values as the template engine sees them, held in plain Python values.

| Go                          | Python                          |
|-----------------------------|---------------------------------|
| invalid reflect.Value       | `NO_VALUE`                      |
| nil interface{}             | `None`                          |
| bool, int, float64, string  | bool, int, float, str           |
| []interface{}               | list (tuples are read as lists) |
| map[string]interface{}      | dict                            |
| map[string]string           | `StringMap` (a dict)            |
| a struct (or pointer to it) | a `GoStruct` subclass           |
| func                        | a callable                      |

Field access works on maps and on the declared fields and methods of a `GoStruct` only, never
on Python attributes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from bot.golang.strconv import NilSlice, format_float


class _NoValue:
    """reflect.Value{}: what a missing map key or an unset variable evaluates to."""

    _instance: ClassVar[_NoValue | None] = None

    def __new__(cls) -> _NoValue:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NO_VALUE"

    def __bool__(self) -> bool:
        return False


NO_VALUE: Any = _NoValue()


class StringMap(dict[str, str]):
    """map[string]string: a missing key reads as "" rather than as no value."""


class StringList(list[str]):
    """[]string, as sprig's splitList, keys and sortAlpha return it."""


class NilStringList(StringList, NilSlice):
    """A nil []string (regexFindAll that finds nothing)."""


class IntList(list[int]):
    """[]int, as sprig's until and seq return it."""


class Int64(int):
    """int64, as sprig's arithmetic returns it."""


class GoStruct:
    """Base for Go structs handed to templates (e.g. OCM component versions).

    Subclasses list `go_fields` (template name -> attribute) and may list `go_methods`;
    nothing else is reachable from a template.
    """

    go_type: ClassVar[str] = "struct"
    go_fields: ClassVar[Mapping[str, str]] = {}
    go_methods: ClassVar[Mapping[str, str]] = {}
    pointer: ClassVar[bool] = True

    def go_field(self, name: str) -> tuple[bool, Any]:
        if name in self.go_fields:
            return True, getattr(self, self.go_fields[name])
        return False, None

    def go_method(self, name: str) -> Callable[..., Any] | None:
        attribute = self.go_methods.get(name)
        return getattr(self, attribute) if attribute else None

    def go_json(self) -> Any:
        """What encoding/json makes of the struct (its json tags); by default its fields."""
        return {name: self.go_field(name)[1] for name in self.go_fields}


# --- kinds and types -----------------------------------------------------------------------


def kind(value: Any) -> str:
    """reflect.Kind, by name."""
    if value is NO_VALUE:
        return "invalid"
    if value is None:
        return "interface"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int64" if isinstance(value, Int64) else "int"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, complex):
        return "complex128"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "slice"
    if isinstance(value, dict):
        return "map"
    if isinstance(value, GoStruct):
        return "ptr" if value.pointer else "struct"
    if callable(value):
        return "func"
    return "invalid"


def type_name(value: Any) -> str:
    """reflect.Type.String() of the dynamic type."""
    if value is None or value is NO_VALUE:
        return "<nil>"
    if isinstance(value, StringMap):
        return "map[string]string"
    if isinstance(value, StringList):
        return "[]string"
    if isinstance(value, IntList):
        return "[]int"
    if isinstance(value, Int64):
        return "int64"
    if isinstance(value, GoStruct):
        return ("*" if value.pointer else "") + value.go_type
    k = kind(value)
    return {
        "slice": "[]interface {}",
        "map": "map[string]interface {}",
        "func": "func(...interface {}) interface {}",
    }.get(k, k)


def truth(value: Any) -> bool:
    """text/template's isTrue; raises TypeError for values it cannot judge."""
    if value is NO_VALUE or value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | complex):
        return value != 0
    if isinstance(value, str | list | tuple | dict):
        return len(value) > 0
    if isinstance(value, GoStruct):
        return True
    if callable(value):
        return True
    raise TypeError(f"if/with can't use {value!r}")


# --- %v --------------------------------------------------------------------------------------


def _sort_key(key: Any) -> tuple[int, Any]:
    # internal/fmtsort: numbers by value, strings bytewise, false before true, nil first.
    if key is None:
        return (0, 0)
    if isinstance(key, bool):
        return (1, key)
    if isinstance(key, int | float):
        return (2, key)
    return (3, str(key).encode())


def sorted_items(mapping: Mapping[Any, Any]) -> list[tuple[Any, Any]]:
    return sorted(mapping.items(), key=lambda kv: _sort_key(kv[0]))


def format_v(value: Any, *, top: bool = True) -> str:
    """fmt's %v of a value (`top`: the value itself, not an element inside a container)."""
    if value is NO_VALUE:
        return "<no value>" if top else "<invalid reflect.Value>"
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_float(value, "g", 64)
    if isinstance(value, complex):
        return f"({format_float(value.real)}{_signed(value.imag)}i)"
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple):
        return "[" + " ".join(format_v(v, top=False) for v in value) + "]"
    if isinstance(value, dict):
        inner = " ".join(
            f"{format_v(k, top=False)}:{format_v(v, top=False)}" for k, v in sorted_items(value)
        )
        return f"map[{inner}]"
    if isinstance(value, GoStruct):
        stringer = value.go_method("String")  # fmt prints a Stringer by its String
        if stringer is not None:
            return str(stringer())
        fields = " ".join(format_v(value.go_field(f)[1], top=False) for f in value.go_fields)
        return ("&" if value.pointer and top else "") + "{" + fields + "}"
    if callable(value):
        return "0x0"
    return str(value)


def _signed(f: float) -> str:
    text = format_float(f)
    return text if text.startswith(("-", "+")) or math.isnan(f) else "+" + text


def printable(value: Any) -> str:
    """What `{{ value }}` writes: nil and no value print as `<no value>`."""
    if value is None or value is NO_VALUE:
        return "<no value>"
    return format_v(value)
