"""When the bot tries again after an outage, and the marker a waiting check run carries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.retries import FIRST_WAIT, RetryPlan, next_retry, read_retry, retry_due

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
ROUND = timedelta(minutes=10)


def test_the_wait_doubles_up_to_the_round_interval():
    plan, waits = None, []
    for _ in range(7):
        plan = next_retry(plan, now=NOW, longest=ROUND)
        waits.append((plan.at - NOW).total_seconds())
    assert waits == [30, 60, 120, 240, 480, 600, 600]
    assert plan is not None and plan.attempt == 7


def test_a_peer_that_says_how_long_is_waited_for_at_least_that_long():
    plan = next_retry(None, now=NOW, longest=ROUND, hint=900)
    assert plan.at == NOW + timedelta(seconds=900)
    assert next_retry(None, now=NOW, longest=ROUND, hint=1).at == NOW + FIRST_WAIT


def test_the_marker_round_trips_and_garbage_is_no_plan():
    plan = RetryPlan(3, NOW + timedelta(minutes=4))
    text = f"registry down. Nothing is wrong.\n\n{plan.marker}"
    assert read_retry(text) == plan
    assert plan.clock_time == "10:04 UTC"
    assert read_retry("no marker here") is None
    assert read_retry("<!-- bootstrap-bot:retry 1 not-a-time -->") is None
    assert read_retry("<!-- bootstrap-bot:retry " + "9" * 100_000 + " -->") is None


def test_a_step_due_before_the_next_round_is_done_in_this_one():
    soon = RetryPlan(1, NOW + timedelta(minutes=5))
    later = RetryPlan(6, NOW + timedelta(minutes=15))
    assert retry_due(soon, now=NOW, within=ROUND)
    assert not retry_due(later, now=NOW, within=ROUND)
    assert retry_due(None, now=NOW, within=ROUND)  # queued without a plan: due
