"""Findings about a file a user wrote, located by line and column: the one record every
reader (config, kustomization patches, discovery) and the renderer report problems in."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from bot.golang.yamlv2 import Mark

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One finding, located where the user can act: a file, and a line (and column) when known."""

    message: str
    file: str = ""
    line: int = 0
    column: int = 0
    #: more context, e.g. the template source around the failure (never the template input)
    detail: str = ""
    severity: Severity = "error"
    #: a check openmcp-bootstrapper does not make (or makes only later, after cloning)
    bot_only: bool = False

    @classmethod
    def at(
        cls, severity: Severity, message: str, file: str, mark: Mark, *, bot_only: bool = False
    ) -> Problem:
        """A finding at a YAML node's position."""
        return cls(message, file, mark.line, mark.column, severity=severity, bot_only=bot_only)

    def __str__(self) -> str:
        where = self.file
        if where and self.line:
            where += f":{self.line}" + (f":{self.column}" if self.column else "")
        text = f"{self.severity}: {self.message}"
        return f"{where}: {text}" if where else text


def by_position(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.line, p.column))


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """ "; did you mean 'x'?" for the known name closest to a misspelt one, else ""."""
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""
