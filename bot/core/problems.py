"""Findings about a file a user wrote, located by line and column."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from bot.golang.yamlv2 import Mark

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One finding about a config file, located in it."""

    severity: Severity
    message: str
    file: str
    mark: Mark
    #: a check openmcp-bootstrapper does not make (or makes only later, after cloning)
    bot_only: bool = False

    def __str__(self) -> str:
        return f"{self.file}:{self.mark.line}:{self.mark.column}: {self.severity}: {self.message}"


def by_position(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.mark.line, p.mark.column))


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """ "; did you mean 'x'?" for the known name closest to a misspelt one, else ""."""
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""
