"""The one failure hierarchy (after kopf's PermanentError / TemporaryError).

- `Failure`: the user's to fix: a config that does not load, a template that does not render,
  an unknown version, a cluster that refuses the manifests, no permission. It carries the text
  for that user and, where there is one, the place (file:line:col). It is told where they acted
  (a check run, a reply) and changes nothing.
- `Temporary`: a peer's: a registry, GitHub, git or an API server unreachable, answering 5xx or
  429, timing out. It carries a hint of when to try again. It is retried and never recorded as
  the user's failure.
- anything else is a bug: logged with the job's correlation id, and every check run or reply it
  touched is completed with that id, so nothing the bot started stays in progress.

This module is a leaf: it imports nothing of bot, and every layer may derive its errors from
these two classes (tests/layers.py lets every layer import it, and nothing else of core).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """Where in a repository a failure is: a file, and the line and column when known."""

    path: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        parts = [self.path]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)


class Failure(Exception):
    """The user's to fix; `str()` is the text for them."""

    #: where it is, when a file is to blame
    location: Location | None = None

    @property
    def text(self) -> str:
        """What the user is told: the place first, when there is one."""
        message = str(self)
        if self.location is None or message.startswith(str(self.location)):
            return message
        return f"{self.location}: {message}"


class Temporary(Exception):
    """A peer's outage; worth trying again (after `retry_after` seconds, when it said)."""

    def __init__(self, *args: object, retry_after: float | None = None) -> None:
        super().__init__(*args)
        self.retry_after = retry_after
