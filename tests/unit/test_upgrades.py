"""Which openMCP release the bot proposes."""

from __future__ import annotations

from typing import Any

import pytest

from bot.core.bot_section import UpgradePolicy
from bot.core.upgrades import (
    NotAvailable,
    is_newer,
    parse_versions,
    requested_version,
    same_version,
    select_upgrade,
)
from bot.golang.semver import Constraint, Version

TAGS = ["v0.1.0", "latest", "v0.2.0-rc.1", "v0.2.0", "0.10", "v0.3.0+build.7", "sha256-abc.sig"]


def pick(current: str, policy: UpgradePolicy | None = None, **kwargs: Any) -> str | None:
    found = select_upgrade(current, TAGS, policy or UpgradePolicy(), **kwargs)
    return None if found is None else str(found)


def test_versions_sort_as_relaxed_semver_and_non_versions_are_skipped():
    assert [str(v) for v in parse_versions(TAGS)] == [
        "v0.1.0",
        "v0.2.0-rc.1",
        "v0.2.0",
        "v0.3.0+build.7",
        "0.10",
    ]


def test_the_newest_release_above_the_current_one():
    assert pick("v0.1.0") == "0.10"
    assert pick("0.10.0") is None  # nothing newer
    assert pick("v0.11") is None
    assert pick("not-a-version") is None


def test_the_policy_decides():
    assert pick("v0.1.0", UpgradePolicy(enabled=False)) is None
    below = UpgradePolicy(constraint=Constraint.parse("<0.10"))
    assert pick("v0.1.0", below) == "v0.3.0+build.7"
    ignored = UpgradePolicy(ignored_versions=(Version.parse("0.10.0"),))
    assert pick("v0.1.0", ignored) == "v0.3.0+build.7"
    # config-ignored versions are skipped one by one
    skipped = UpgradePolicy(ignored_versions=(Version.parse("0.10.0"), Version.parse("v0.3.0")))
    assert pick("v0.1.0", skipped) == "v0.2.0"  # build metadata ignored


def test_a_declined_version_holds_back_everything_up_to_it():
    assert pick("v0.1.0", declined=["0.10"]) is None  # not falling back to v0.3.0
    assert pick("v0.1.0", declined=["v0.2.0"]) == "0.10"
    assert pick("v0.1.0", declined=["v0.3.0+other"]) == "0.10"
    assert pick("v0.1.0", declined=["not-a-version"]) == "0.10"


def test_prereleases_only_when_allowed():
    only_rc = ["v0.1.0", "v0.2.0-rc.1"]
    assert select_upgrade("v0.1.0", only_rc, UpgradePolicy()) is None
    allowed = UpgradePolicy(allow_prereleases=True)
    assert str(select_upgrade("v0.1.0", only_rc, allowed)) == "v0.2.0-rc.1"
    ranged = UpgradePolicy(constraint=Constraint.parse(">=0.1"), allow_prereleases=True)
    assert str(select_upgrade("v0.1.0", only_rc, ranged)) == "v0.2.0-rc.1"
    # A prerelease is older than its release.
    assert select_upgrade("v0.2.0", only_rc, allowed) is None


def test_an_exact_request_must_exist_and_says_when_it_goes_down():
    up = requested_version("v0.1.0", TAGS, Version.parse("0.2"))
    assert (str(up.version), up.downgrade) == ("v0.2.0", False)
    down = requested_version("0.10", TAGS, Version.parse("v0.1.0"))
    assert (str(down.version), down.downgrade) == ("v0.1.0", True)
    with pytest.raises(NotAvailable):
        requested_version("v0.1.0", TAGS, Version.parse("v9.9.9"))


def test_versions_compare_as_releases():
    assert same_version("v0.1", "0.1.0") and not same_version("v0.1.0", "v0.1.1")
    assert same_version("latest", "latest") and not same_version("latest", "v0.1.0")
    assert is_newer("v0.2.0", "0.1") and not is_newer("v0.1.0", "v0.1.0")
    assert not is_newer("latest", "v0.1.0")
