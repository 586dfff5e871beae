"""What a server-side dry run of a landscape against its cluster found, and how it is told. Pure.

Every object the apply would send is sent with `dryRun=All`: the API server runs admission and
schema validation and stores nothing. An object whose kind or namespace only this change
creates cannot be checked before that exists; it is listed as checked at apply time instead
of being called an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.core.names import DRY_RUN_CHECK

Outcome = Literal["created", "configured", "unchanged", "deferred", "refused"]
#: how each outcome reads in a sentence
_WORDS: dict[str, str] = {
    "created": "to create",
    "configured": "to change",
    "unchanged": "unchanged",
    "deferred": "checked at apply time",
    "refused": "refused",
}


@dataclass(frozen=True)
class Checked:
    """One object's dry run: what applying it would do, or why it was refused (or deferred)."""

    ref: str
    outcome: Outcome
    detail: str = ""
    #: for a deferred object: what it waits for (a CRD, a Namespace the change creates)
    needs: str = ""

    @classmethod
    def deferred(cls, ref: str, needs: str) -> Checked:
        return cls(ref, "deferred", f"checked once {needs} exists", needs)


@dataclass(frozen=True)
class DryRunReport:
    environment: str
    cluster: str
    commit: str
    checked: tuple[Checked, ...] = ()
    #: why nothing could be checked (not bound, credentials that cannot work, no API server)
    problem: str = ""
    #: which git credentials the apply would use, and that they fit the GitRepository
    credentials: str = ""
    #: the API server could not be reached: no verdict either way
    unavailable: bool = False

    @property
    def refused(self) -> tuple[Checked, ...]:
        return tuple(c for c in self.checked if c.outcome == "refused")

    @property
    def conclusion(self) -> Literal["success", "failure"]:
        return "failure" if self.problem or self.refused else "success"

    def _tally(self, *, why: bool = False) -> str:
        counts: dict[str, int] = {}
        for item in self.checked:
            counts[item.outcome] = counts.get(item.outcome, 0) + 1
        tally = ", ".join(f"{counts[o]} {_WORDS[o]}" for o in _WORDS if o in counts)
        if why and "deferred" in counts:
            tally += " (they need CRDs or Namespaces this change creates)"
        return tally

    @property
    def title(self) -> str:
        where = f"`{self.cluster}`"
        if self.problem:
            commit = self.commit[:12]
            return f"{self.environment} at {commit} was not checked on {where}: {self.problem}"
        if self.refused:
            first = self.refused[0]
            return (
                f"{where} refuses {len(self.refused)} of {len(self.checked)} objects of "
                f"{self.environment} at {self.commit[:12]}: {first.ref}: {first.detail}"
            )
        return f"{where} accepts {self.environment} at {self.commit[:12]}: {self._tally(why=True)}"

    @property
    def summary(self) -> str:
        parts = [
            f"Server-side dry run (`dryRun=All`) of commit {self.commit} against cluster "
            f"`{self.cluster}`: the API server ran admission and schema validation and stored "
            f"nothing."
        ]
        if self.credentials:
            parts.append(self.credentials)
        if self.checked:
            parts.append(f"{len(self.checked)} objects: {self._tally()}.")
        if self.refused:
            parts.append("Refused:\n" + "\n".join(f"- {c.ref}: {c.detail}" for c in self.refused))
        deferred = [c for c in self.checked if c.outcome == "deferred"]
        if deferred:
            parts.append(_deferred_text(deferred))
        if self.problem:
            parts.append(f"**{self.problem}**")
        return "\n\n".join(parts)

    def verdict(self) -> str:
        """One line for a pull request body: a mark and the title."""
        return f"{self.mark} **Dry run:** {self.title}"

    @property
    def mark(self) -> str:
        return "⏳" if self.unavailable else ("✅" if self.conclusion == "success" else "❌")

    def comment(self) -> str:
        return f"{self.mark} **{self.title}** (`{DRY_RUN_CHECK}`)\n\n{self.summary}"

    @property
    def text(self) -> str:
        """The check run's details: every object and what the dry run said."""
        if not self.checked:
            return ""
        rows = "\n".join(
            f"| {c.ref} | {_WORDS[c.outcome]} | {_cell(c.detail)} |" for c in self.checked
        )
        return "| object | dry run | detail |\n|---|---|---|\n" + rows


def _deferred_text(deferred: list[Checked]) -> str:
    """Why objects were not checked, grouped by what they wait for: a first install (or a new
    provider) brings CRDs and Namespaces the API server does not know before the apply."""
    waiting: dict[str, list[str]] = {}
    for item in deferred:
        waiting.setdefault(item.needs or item.detail, []).append(item.ref)
    count = len(deferred)
    lines = "\n".join(
        f"- {needs}: {len(refs)} object{'s' if len(refs) != 1 else ''} ({', '.join(refs[:3])}"
        f"{', …' if len(refs) > 3 else ''})"
        for needs, refs in waiting.items()
    )
    return (
        f"{count} object{'s wait' if count != 1 else ' waits'} for a kind or namespace this "
        f"change creates, so the API server cannot check {'them' if count != 1 else 'it'} "
        "before the apply. That is expected on a first install or a new provider: the apply "
        "creates the CustomResourceDefinitions and Namespaces first, waits until they are "
        f"established, then applies the rest, which the API server checks then.\n\n{lines}"
    )


def _cell(text: str) -> str:
    """`text` inside one markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")
