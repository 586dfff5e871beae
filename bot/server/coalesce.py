"""Pushes to one branch that queue up behind each other become one job. No I/O.

A burst of pushes to a branch (a merge train, a script) would otherwise render the branch once
a push, each time at a head already gone. A push whose branch has a push job queued and not
yet started joins that job instead (`absorb`); the job, when it starts, takes the pushes that
joined it as one (`take`, `bot.core.pushes.merge_pushes`) and runs once, at the newest head.
A job already running is never joined: what it read may predate the new push.
"""

from __future__ import annotations

import logging

from gidgethub.sansio import Event

from bot.core.pushes import merge_pushes
from bot.server.webhook import serialisation_key

log = logging.getLogger(__name__)
#: pushes one queued job may take in (the rest start a job of their own); the merged commits
#: are cut to GitHub's own list length anyway
MAX_JOINED = 100


def _branch(event: Event) -> tuple[str, str] | None:
    if event.event != "push" or not isinstance(event.data.get("ref"), str):
        return None
    return serialisation_key(event), event.data["ref"]


class QueuedPushes:
    """The push jobs queued and not started, by repository and ref, with the pushes each one
    has taken in."""

    def __init__(self) -> None:
        self._queued: dict[tuple[str, str], list[Event]] = {}

    def absorb(self, event: Event) -> bool:
        """Whether the push joined a queued job for its branch (so it needs no job of its own)."""
        branch = _branch(event)
        joined = self._queued.get(branch) if branch is not None else None
        if joined is None or len(joined) >= MAX_JOINED:
            return False
        joined.append(event)
        return True

    def queued(self, event: Event) -> None:
        """A job for this push was queued: later pushes to its branch may join it."""
        branch = _branch(event)
        if branch is not None:
            self._queued[branch] = [event]

    def take(self, event: Event) -> Event:
        """The event the job queued for `event` runs now: its pushes as one. Later pushes to
        the branch start a job of their own."""
        branch = _branch(event)
        if branch is None:
            return event
        joined = self._queued.get(branch)
        if not joined or joined[0] is not event:
            return event
        del self._queued[branch]
        if len(joined) == 1:
            return event
        merged = merge_pushes([push.data for push in joined])
        log.info(
            "%d pushes to %s run as one (deliveries %s)",
            len(joined),
            branch[1],
            ", ".join(str(push.delivery_id) for push in joined),
        )
        return Event(merged, event="push", delivery_id=event.delivery_id)

    def __len__(self) -> int:
        return len(self._queued)
