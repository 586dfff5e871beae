"""What a push payload says it changed. Pure.

GitHub lists at most `PAYLOAD_COMMITS` commits in a push payload, each with the paths it added,
modified and removed; a longer push may hide any change, so it counts as touching everything.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.core.config import CONFIG_PATH
from bot.core.discovery import DISCOVERY_PATH

PAYLOAD_COMMITS = 20
#: paths whose change in a push means the cluster may run something else now
RENDERED_PREFIXES = ("envs/", "resources/")


def touched_paths(push: Mapping[str, Any]) -> frozenset[str] | None:
    """Every path the push's commits touch; None when the payload cannot list them all."""
    commits = push.get("commits") or []
    if len(commits) >= PAYLOAD_COMMITS:
        return None
    return frozenset(
        path
        for commit in commits
        for kind in ("added", "modified", "removed")
        for path in commit.get(kind) or []
    )


def changes_rendered_files(push: Mapping[str, Any]) -> bool:
    """Whether the push touches rendered files."""
    touched = touched_paths(push)
    return touched is None or any(p.startswith(RENDERED_PREFIXES) for p in touched)


def changes_discovery(push: Mapping[str, Any]) -> bool:
    """Whether the push touches the discovery file (or, without one, the default config)."""
    touched = touched_paths(push)
    return touched is None or bool(touched & {DISCOVERY_PATH, CONFIG_PATH})
