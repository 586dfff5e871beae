"""When the bot tries a step again after a peer's outage, and how a check run remembers it. Pure.

A job stopped by a `Temporary` leaves its check runs queued, saying what they wait for and when
the bot tries again, with a hidden marker (`<!-- bootstrap-bot:retry 3 2026-12-02T10:42:00Z -->`)
that a resync, in this process or another after a restart, reads: a waiting run is redone once its
time has come. The wait doubles from FIRST_WAIT for each attempt, up to the poll interval, so a
long outage costs a few requests per landscape and a round, and its end is noticed within one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.core.names import RETRY_MARKER, comment_marker

FIRST_WAIT = timedelta(seconds=30)
_STAMP = "%Y-%m-%dT%H:%M:%SZ"
#: bounded: the marker is the bot's own, found in a summary the bot wrote
_WHEN = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"
_MARKER = re.compile(re.escape(comment_marker(RETRY_MARKER)[:-4]) + rf" (\d{{1,6}}) ({_WHEN}) -->")


@dataclass(frozen=True)
class RetryPlan:
    #: how many times the step met the outage
    attempt: int
    #: when the bot tries again (UTC)
    at: datetime

    @property
    def marker(self) -> str:
        return comment_marker(f"{RETRY_MARKER} {self.attempt} {self.at.strftime(_STAMP)}")

    @property
    def clock_time(self) -> str:
        """The retry time as people read it in a check run: `10:42 UTC`."""
        return self.at.strftime("%H:%M UTC")


def next_retry(
    previous: RetryPlan | None,
    *,
    now: datetime,
    longest: timedelta,
    hint: float | None = None,
) -> RetryPlan:
    """The plan after one more failed attempt: the wait doubles up to `longest`; a peer that
    said how long to wait (`Retry-After`) is waited for at least that long."""
    attempt = 1 if previous is None else min(previous.attempt + 1, 999_999)
    wait = min(FIRST_WAIT * 2 ** min(attempt - 1, 30), longest)
    if hint is not None:
        wait = max(wait, timedelta(seconds=hint))
    return RetryPlan(attempt, (now + wait).replace(microsecond=0))


def read_retry(text: str) -> RetryPlan | None:
    """The plan a waiting check run's summary carries, if any."""
    found = _MARKER.search(text)
    if found is None:
        return None
    at = datetime.strptime(found.group(2), _STAMP).replace(tzinfo=UTC)
    return RetryPlan(int(found.group(1)), at)


def retry_due(plan: RetryPlan | None, *, now: datetime, within: timedelta) -> bool:
    """Whether a waiting step should be redone now, when the next chance comes `within` from
    now (a step due before the next round is done in this one: early costs one try, late a
    whole round)."""
    return plan is None or plan.at <= now + within


@dataclass(frozen=True)
class Schedule:
    """When a check run that is not completed is worked on again: one waiting for a peer when
    its retry is due before the next round (`round_interval` from now); one in progress when
    its job ran out of time (`job_budget`) or, with `orphaned_before`, when it was started
    before this process, the only one there is."""

    round_interval: timedelta = timedelta(minutes=10)
    job_budget: timedelta = timedelta(minutes=30)
    orphaned_before: datetime | None = None
