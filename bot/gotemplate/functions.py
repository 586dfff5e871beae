"""Template functions with Go signatures, so arguments are checked and converted as Go does.

A Go function's parameter types decide how the executor evaluates each argument (a literal `3`
is an int for an `int` parameter, an error for a `string` one) and which values it accepts
(`wrong type for value; expected string; got float64`). `Func` records those types; functions
raise `FuncError` for the errors Go functions return.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.core.failures import Failure

ANY = "interface {}"
VALUE = "reflect.Value"


class FuncError(Failure):
    """An error a template function returns (`error calling NAME: message`)."""


#: the most one function call may build: Go's functions have no limit but memory, and a
#: template comes from whoever opens a pull request, so what would be larger is refused before
#: it is allocated (a real landscape's templates build kilobytes)
MAX_BUILT_CHARS = 1 << 20
MAX_BUILT_ITEMS = 10_000


def check_built(size: int, what: str, *, items: bool = False) -> None:
    """Refuse a call whose result would hold `size` characters (or list items)."""
    limit = MAX_BUILT_ITEMS if items else MAX_BUILT_CHARS
    if size > limit:
        unit = "items" if items else "characters"
        raise FuncError(f"{what} would build {size} {unit}; a template may build at most {limit}")


@dataclass(frozen=True)
class Func:
    impl: Callable[..., Any]
    params: tuple[str, ...] = ()
    variadic: str | None = None  # element type of a final ...T parameter
    builtin: bool = False

    @property
    def arity(self) -> int:
        return len(self.params) + (1 if self.variadic else 0)


def go(*params: str, variadic: str | None = None) -> Callable[[Callable[..., Any]], Func]:
    """Decorator: declare a Python function's Go signature."""

    def wrap(impl: Callable[..., Any]) -> Func:
        return Func(impl, tuple(params), variadic)

    return wrap


def from_callable(impl: Callable[..., Any]) -> Func:
    """A caller-supplied Python function: every parameter is interface{}."""
    if isinstance(impl, Func):
        return impl
    try:
        signature = inspect.signature(impl)
    except (TypeError, ValueError):
        return Func(impl, (), ANY)
    fixed = 0
    variadic = None
    for parameter in signature.parameters.values():
        if parameter.kind is parameter.VAR_POSITIONAL:
            variadic = ANY
        elif (
            parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD)
            and parameter.default is parameter.empty
        ):
            fixed += 1
    return Func(impl, (ANY,) * fixed, variadic)
