"""Relaxed semantic versions and version constraints, as the openMCP tooling writes them.

Versions may carry a `v` prefix and omit minor or patch (`v0.19`, `1`). Constraints follow the
syntax operators know from Helm, Flux and Renovate (Masterminds/semver): comparators `=`, `!=`,
`>`, `>=`, `<`, `<=`, tilde `~1.2`, caret `^1.2`, wildcards `1.2.x`, hyphen ranges `1.2 - 1.4`,
joined by `,` or spaces (and) and `||` (or).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import total_ordering

from bot.core.failures import Failure

_VERSION = re.compile(
    r"^v?(?P<major>0|[1-9][0-9]*)(?:\.(?P<minor>0|[1-9][0-9]*))?(?:\.(?P<patch>0|[1-9][0-9]*))?"
    r"(?:-(?P<pre>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
    r"(?:\+(?P<build>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$"
)
_PARTIAL = re.compile(
    r"^v?(?P<major>[0-9]+|[xX*])(?:\.(?P<minor>[0-9]+|[xX*]))?(?:\.(?P<patch>[0-9]+|[xX*]))?"
    r"(?:-(?P<pre>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-.]+)?$"
)
_COMPARATOR = re.compile(r"^(?P<op>!=|>=|=>|<=|=<|~>|[=><~^])?\s*(?P<version>\S+)$")
_WILDCARDS = {"x", "X", "*"}


class InvalidVersion(Failure, ValueError):
    """Text that is not a (relaxed) semantic version; `go_message` is Masterminds/semver's."""

    go_message = "Invalid Semantic Version"


class SegmentStartsZero(InvalidVersion):
    """A numeric prerelease identifier with a leading zero (`1.0.0-01`), which semver forbids."""

    go_message = "Version segment starts with 0"


class InvalidConstraint(Failure, ValueError):
    """Text that is not a version constraint."""


def _prerelease_key(pre: str) -> tuple[tuple[int, int | str], ...]:
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in pre.split("."))


@total_ordering
@dataclass(frozen=True)
class Version:
    major: int
    minor: int
    patch: int
    prerelease: str = ""
    build: str = ""
    original: str = ""

    @classmethod
    def parse(cls, text: str) -> Version:
        match = _VERSION.match(text.strip())
        if not match:
            raise InvalidVersion(f"{text!r} is not a semantic version")
        for identifier in (match["pre"] or "").split("."):
            if identifier.isdigit() and len(identifier) > 1 and identifier[0] == "0":
                raise SegmentStartsZero(f"{text!r}: prerelease {identifier} starts with 0")
        return cls(
            int(match["major"]),
            int(match["minor"] or 0),
            int(match["patch"] or 0),
            match["pre"] or "",
            match["build"] or "",
            text,
        )

    def _key(self) -> tuple[object, ...]:
        # A release sorts after its prereleases; build metadata does not count.
        pre = (1,) if not self.prerelease else (0, _prerelease_key(self.prerelease))
        return (self.major, self.minor, self.patch, pre)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key() < other._key()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __str__(self) -> str:
        return self.original or f"{self.major}.{self.minor}.{self.patch}"


@dataclass(frozen=True)
class _Bound:
    op: str  # one of == != > >= < <=
    version: Version

    def allows(self, v: Version) -> bool:
        match self.op:
            case "==":
                return v == self.version
            case "!=":
                return v != self.version
            case ">":
                return v > self.version
            case ">=":
                return v >= self.version
            case "<":
                return v < self.version
            case _:
                return v <= self.version


def _v(*parts: int, pre: str = "") -> Version:
    """A version from up to three numbers, the missing ones 0."""
    major, minor, patch = [*parts, 0, 0, 0][:3]
    return Version(major, minor, patch, pre)


def _expand(op: str, text: str) -> list[_Bound]:
    """One comparator as bounds; wildcards and ~/^ become ranges."""
    match = _PARTIAL.match(text)
    if not match:
        raise InvalidConstraint(f"{text!r} is not a version")
    parts = [match["major"], match["minor"], match["patch"]]
    # Everything after the first wildcard or missing part is a wildcard too.
    fixed: list[int] = []
    for part in parts:
        if part is None or part in _WILDCARDS:
            break
        fixed.append(int(part))
    pre = match["pre"] or ""
    if not fixed:
        return [] if op in ("=", "", ">=", "<=", "~", "^") else [_Bound("<", _v(pre="0"))]
    low = _v(*fixed, pre=pre)
    if len(fixed) == 3:
        exact_next = None
    else:
        bumped = [*fixed[:-1], fixed[-1] + 1]
        exact_next = _v(*bumped)
    if op in ("", "="):
        return (
            [_Bound("==", low)]
            if exact_next is None
            else [_Bound(">=", low), _Bound("<", exact_next)]
        )
    if op == "!=":
        if exact_next is None:
            return [_Bound("!=", low)]
        raise InvalidConstraint(f"'!={text}': a wildcard cannot be excluded")
    if op == "~":
        # ~1.2.3 and ~1.2 allow patch changes, ~1 allows minor changes.
        upper = _v(fixed[0] + 1) if len(fixed) == 1 else _v(fixed[0], fixed[1] + 1)
        return [_Bound(">=", low), _Bound("<", upper)]
    if op == "^":
        # ^ allows changes that keep the left-most non-zero part.
        if fixed[0] > 0 or len(fixed) == 1:
            upper = _v(fixed[0] + 1)
        elif len(fixed) == 2 or fixed[1] > 0:
            upper = _v(0, fixed[1] + 1)
        else:
            upper = _v(0, 0, fixed[2] + 1)
        return [_Bound(">=", low), _Bound("<", upper)]
    if op == ">":
        return [_Bound(">", low) if exact_next is None else _Bound(">=", exact_next)]
    if op == ">=":
        return [_Bound(">=", low)]
    if op == "<":
        return [_Bound("<", low)]
    return [_Bound("<=", low) if exact_next is None else _Bound("<", exact_next)]


_OP_ALIASES = {"=>": ">=", "=<": "<=", "~>": "~"}


@dataclass(frozen=True)
class Constraint:
    """A parsed constraint: any of several groups, each a list of bounds that must all hold."""

    text: str
    groups: tuple[tuple[_Bound, ...], ...]

    @classmethod
    def parse(cls, text: str) -> Constraint:
        if not text.strip():
            raise InvalidConstraint("the constraint is empty")
        groups: list[tuple[_Bound, ...]] = []
        for alternative in text.split("||"):
            tokens = _tokens(alternative)
            if not tokens:
                raise InvalidConstraint(f"{text!r} has an empty alternative around '||'")
            bounds: list[_Bound] = []
            for token in tokens:
                bounds.extend(token)
            groups.append(tuple(bounds))
        return cls(text, tuple(groups))

    def allows(self, version: Version, *, prereleases: bool = False) -> bool:
        """Whether `version` satisfies the constraint.

        A prerelease matches only when `prereleases` is set or one of the group's own bounds
        names a prerelease of the same major.minor.patch (the Masterminds rule).
        """
        for group in self.groups:
            if not all(b.allows(version) for b in group):
                continue
            if not version.prerelease or prereleases:
                return True
            same = (version.major, version.minor, version.patch)
            if any(
                b.version.prerelease and (b.version.major, b.version.minor, b.version.patch) == same
                for b in group
            ):
                return True
        return False


def _tokens(alternative: str) -> list[list[_Bound]]:
    text = alternative.strip()
    hyphen = re.fullmatch(r"(\S+)\s+-\s+(\S+)", text)
    if hyphen:
        return [_expand(">=", hyphen[1]), _expand("<=", hyphen[2])]
    # ">= 1.2" is one comparator: glue operators to their version before splitting on blanks.
    glued = re.sub(r"(!=|>=|=>|<=|=<|~>|[=><~^])\s+", r"\1", text)
    pieces = [p for p in re.split(r"[\s,]+", glued) if p]
    out: list[list[_Bound]] = []
    for piece in pieces:
        match = _COMPARATOR.match(piece)
        if not match:
            raise InvalidConstraint(f"{piece!r} is not a comparator")
        op = match["op"] or ""
        out.append(_expand(_OP_ALIASES.get(op, op), match["version"]))
    return out
