"""A repository's heads as one `git ls-remote` shows them, and what of them a resync watches.
Pure.

A resync round asks git (not the REST API, so nothing is charged against GitHub's rate limit)
for the branch heads and pull request heads of a repository. What the bot does for a
repository depends only on its default branch (the discovery file), its landscape branches,
its own bot branches, the pull requests' heads and the releases in the registries; when none
of them moved since a refresh that found nothing to do, the next one would find nothing either.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bot.core.names import BOT_BRANCHES

BRANCH_REFS = "refs/heads/"
PULL_REFS = "refs/pull/"
#: refs one listing may hold; a repository with more is refreshed in full every round (the
#: count is checked once libgit2 has read the advertisement, which GitHub itself bounds)
MAX_REFS = 50_000


@dataclass(frozen=True)
class Heads:
    """Branches and pull request heads: ref name -> commit."""

    refs: Mapping[str, str]

    def branch(self, name: str) -> str | None:
        return self.refs.get(BRANCH_REFS + name)

    def fingerprint(self, default_branch: str, landscapes: Iterable[str]) -> str:
        """A digest of every head a refresh of the repository reads: the default branch, the
        landscape branches (missing ones too), the bot's branches and every pull request."""
        watched = {BRANCH_REFS + default_branch, *(BRANCH_REFS + b for b in landscapes)}
        lines = [f"{ref} {self.refs.get(ref, '-')}" for ref in sorted(watched)]
        lines += [
            f"{ref} {sha}"
            for ref, sha in sorted(self.refs.items())
            if ref not in watched and _watched_always(ref)
        ]
        return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def _watched_always(ref: str) -> bool:
    if ref.startswith(BRANCH_REFS + BOT_BRANCHES):
        return True
    return ref.startswith(PULL_REFS) and ref.endswith("/head")


def heads_of(advertised: Iterable[tuple[str, str]]) -> Heads:
    """The heads among a remote's advertised refs (tags, merge refs and HEAD are not)."""
    refs = {
        name: sha
        for name, sha in advertised
        if name.startswith(BRANCH_REFS) or (name.startswith(PULL_REFS) and name.endswith("/head"))
    }
    return Heads(refs)
