"""Go's text/template in pure Python, for rendering the openMCP GitOps templates byte for byte.

    from bot.gotemplate import render, TemplateError
    render("{{ .Values.name | quote }}", {"Values": {"name": "x"}}, missingkey="zero")

`data` is plain Python values, seen the way the Go tool sees its decoded inputs: every number
is a float64 (so `{{ eq .n 3 }}` fails for a number `n`, as in Go), dicts are
map[string]interface{}, None is nil. Every parse or execution error raises `TemplateError`,
whose message is the one Go reports. Nothing here does I/O.

Layer rule: imports golang only (and RE2, in `sprig`, for Go's regexp); pure, no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from bot.core.failures import Failure
from bot.gotemplate.bootstrapper import (
    HeaderError,
    bootstrapper_funcs,
    error_snippet,
    no_value_message,
    split_header,
)
from bot.gotemplate.builtins import BUILTINS
from bot.gotemplate.executor import ExecError, Limits, Template, execute
from bot.gotemplate.functions import Func, from_callable
from bot.gotemplate.parser import ParseError, parse
from bot.gotemplate.values import GoStruct, StringMap

__all__ = [
    "GoStruct",
    "Limits",
    "NoValueError",
    "StringMap",
    "TemplateError",
    "render",
    "render_bootstrapper_file",
]

MISSINGKEY_MODES = ("default", "invalid", "zero", "error")


class TemplateError(Failure):
    """A template Go would refuse to parse or fail to execute; `str()` is Go's message."""

    def __init__(self, message: str, *, source: str = "", pos: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.source = source
        self.pos = pos

    @property
    def excerpt(self) -> str:
        """The Go tool's "template source" snippet around the failure (empty if unknown)."""
        return error_snippet(self.message, self.source) if self.source else ""

    @property
    def detail(self) -> str:
        """Go's message with the source snippet, as the Go tool prints it (never the input)."""
        excerpt = self.excerpt
        return f"{self.message}\ntemplate source:\n{excerpt}" if excerpt else self.message


def go_data(value: Any) -> Any:
    """Python data as the Go tool's decoded inputs: numbers are float64, tuples are lists."""
    if isinstance(value, bool) or value is None or isinstance(value, str | float | GoStruct):
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, StringMap):
        return value
    if isinstance(value, Mapping):
        return {str(k): go_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [go_data(v) for v in value]
    return value


def build_funcs(
    funcs: Mapping[str, Callable[..., Any]] | None, *, sprig: bool = True
) -> dict[str, Func]:
    """Builtins, then (as the Go tool layers them) sprig and its own functions, then `funcs`."""
    table = dict(BUILTINS)
    if sprig:
        table.update(bootstrapper_funcs())
    for name, impl in (funcs or {}).items():
        table[name] = from_callable(impl)
    return table


def render(
    source: str,
    data: object,
    *,
    name: str = "template",
    missingkey: str = "error",
    funcs: Mapping[str, Callable[..., Any]] | None = None,
    limits: Limits | None = None,
    delims: tuple[str, str] = ("{{", "}}"),
    sprig: bool = True,
    sites: list[tuple[str, str]] | None = None,
) -> str:
    """Execute `source` as Go's text/template with `Option("missingkey=...")`; `sites` gets
    the first actions that printed `<no value>` (`name:line:column`, the action).

    The functions are text/template's builtins, sprig, the bootstrapper's toYaml, fromYaml and
    parseImage, and `funcs` (which win); `sprig=False` leaves only the builtins and `funcs`.
    """
    if missingkey not in MISSINGKEY_MODES:
        raise TemplateError(f'unrecognized option: "missingkey={missingkey}"')
    table = build_funcs(funcs, sprig=sprig)
    try:
        trees = parse(name, source, table, *delims)
    except ParseError as err:
        raise TemplateError(str(err), source=source) from None
    except RecursionError:
        # Go's growing stacks take deeper nesting than Python's; real templates nest a few levels.
        raise TemplateError(f"template: {name}: nesting too deep to parse", source=source) from None
    template = Template(name, source, trees, table, missingkey, limits or Limits())
    try:
        output = execute(template, name, go_data(data))
    except ExecError as err:
        raise TemplateError(str(err), source=source, pos=err.pos) from None
    except RecursionError:
        raise TemplateError(f"template: {name}: nesting too deep", source=source) from None
    if sites is not None:
        sites.extend(template.no_values)
    return output


def render_bootstrapper_file(
    source: str,
    data: object,
    *,
    name: str,
    funcs: Mapping[str, Callable[..., Any]] | None = None,
    limits: Limits | None = None,
) -> str:
    """Render one template file as the Go tool's TemplateDir does: the `#?bootstrap` header,
    `missingkey=zero`, and a failure when `<no value>` appears anywhere in the output."""
    try:
        text, delims = split_header(source)
    except HeaderError as err:
        raise TemplateError(str(err), source=source) from None
    sites: list[tuple[str, str]] = []
    output = render(text, data, name=name, missingkey="zero", funcs=funcs, limits=limits,
                    delims=delims, sites=sites)  # fmt: skip
    message = no_value_message(name, output)
    if message is not None:
        raise NoValueError(message, source=output, sites=sites)
    return output


class NoValueError(TemplateError):
    """Output with `<no value>` in it (the Go tool's NoValueError, whose message this keeps),
    and the actions in the template that printed it: `name:line:column` and the action."""

    def __init__(self, message: str, *, source: str, sites: list[tuple[str, str]]) -> None:
        super().__init__(message, source=source)
        self.sites = sites
