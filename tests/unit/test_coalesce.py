"""Queued pushes to one branch join one job; a started job is never joined."""

from __future__ import annotations

from typing import Any

from gidgethub.sansio import Event

from bot.server.coalesce import MAX_JOINED, QueuedPushes


def push(ref: str, before: str, after: str, repository: str = "org/repo") -> Event:
    data: dict[str, Any] = {
        "ref": ref,
        "before": before,
        "after": after,
        "commits": [],
        "repository": {"full_name": repository},
    }
    return Event(data, event="push", delivery_id=f"{repository} {ref} {after}")


def test_pushes_join_the_queued_job_of_their_branch_until_it_starts():
    queue = QueuedPushes()
    first = push("refs/heads/main", "a", "b")
    assert not queue.absorb(first)
    queue.queued(first)
    assert queue.absorb(push("refs/heads/main", "b", "c"))
    assert queue.absorb(push("refs/heads/main", "c", "d"))
    assert not queue.absorb(push("refs/heads/dev", "a", "e"))  # another branch
    assert not queue.absorb(push("refs/heads/main", "a", "f", repository="org/other"))
    taken = queue.take(first)
    assert (taken.data["before"], taken.data["after"]) == ("a", "d")
    assert taken.delivery_id == first.delivery_id
    # started: the next push starts a job of its own
    assert len(queue) == 0 and not queue.absorb(push("refs/heads/main", "d", "g"))


def test_a_lone_push_runs_as_it_came_and_other_events_are_left_alone():
    queue = QueuedPushes()
    alone = push("refs/heads/main", "a", "b")
    queue.queued(alone)
    assert queue.take(alone) is alone
    ping = Event({"zen": "x"}, event="ping", delivery_id="1")
    assert not queue.absorb(ping)
    queue.queued(ping)
    assert queue.take(ping) is ping and len(queue) == 0


def test_a_job_takes_in_a_bounded_number_of_pushes():
    queue = QueuedPushes()
    first = push("refs/heads/main", "0", "1")
    queue.queued(first)
    joined = sum(queue.absorb(push("refs/heads/main", str(n), str(n + 1))) for n in range(1, 200))
    assert joined == MAX_JOINED - 1
