"""The example payloads the tests send are ones GitHub's payload schemas accept."""

from __future__ import annotations

import pytest

from tests.peers.github.extract_webhook_schemas import EVENTS
from tests.peers.github.payloads import example, examples, payload_problems, signed


@pytest.mark.parametrize("event", EVENTS)
def test_every_handled_event_has_a_valid_example(event):
    assert payload_problems(event, example(event)) == []


def test_most_examples_are_valid_and_the_schema_bites():
    valid = sum(
        not payload_problems(event, payload)
        for event, payloads in examples().items()
        for payload in payloads
    )
    assert valid >= 30
    broken = example("pull_request", "opened")
    broken["action"] = "exploded"
    assert payload_problems("pull_request", broken)
    no_number = example("pull_request", "synchronize")
    del no_number["number"]
    assert any(
        "'number' is a required property" in p for p in payload_problems("pull_request", no_number)
    )
    with pytest.raises(AssertionError, match="not a payload GitHub could send"):
        signed("pull_request", no_number, "secret")
