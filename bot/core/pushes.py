"""What a push payload says it changed, and several queued pushes to one branch as one. Pure.

GitHub lists at most `PAYLOAD_COMMITS` commits in a push payload, each with the paths it added,
modified and removed; a longer push may hide any change, so it counts as touching everything.
So does a forced push: the commits it dropped changed paths its list does not show.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from bot.core.config import CONFIG_PATH
from bot.core.discovery import DISCOVERY_PATH

PAYLOAD_COMMITS = 20
#: paths whose change in a push means the cluster may run something else now
RENDERED_PREFIXES = ("envs/", "resources/")


def touched_paths(push: Mapping[str, Any]) -> frozenset[str] | None:
    """Every path the push's commits touch; None when the payload cannot list them all."""
    commits = push.get("commits") or []
    if len(commits) >= PAYLOAD_COMMITS or push.get("forced"):
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


def merge_pushes(pushes: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Pushes to one ref, oldest first, as the one push from the first one's `before` to the
    last one's `after`: their commits in order (at most `PAYLOAD_COMMITS`, as GitHub lists
    them, so a long series counts as touching everything), forced when any was or when one
    did not start where the one before it ended (a push in between, or history rewritten)."""
    first, last = pushes[0], pushes[-1]
    commits = [commit for push in pushes for commit in push.get("commits") or []]
    chained = all(
        later.get("before") == earlier.get("after") for earlier, later in itertools.pairwise(pushes)
    )
    return {
        **last,
        "before": first.get("before"),
        "created": bool(first.get("created")),
        "forced": not chained or any(bool(push.get("forced")) for push in pushes),
        "commits": commits[:PAYLOAD_COMMITS],
    }
