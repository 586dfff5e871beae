"""Which openMCP release to propose for a landscape. Pure.

From the root component's versions (registry tags mapped back to versions) and the landscape's
`bot.upgrade` policy: the newest version above the current one that the constraint allows,
prereleases only when allowed, never one `bot.upgrade.ignoredVersions` lists, and nothing at or
below a version people declined (an upgrade PR closed unmerged, `/bootstrap ignore`): declining
a release means "not this one", so the bot waits for a newer one rather than falling back to an
older release. Versions compare as relaxed semver (`v` prefix and short forms allowed,
prereleases before their release, build metadata ignored); tags that are not versions
(`latest`, signatures) are skipped.

`/bootstrap upgrade VERSION` asks for one version exactly: it must exist, and may be a
downgrade, which is then said so.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.core.bot_section import UpgradePolicy
from bot.core.failures import Failure
from bot.golang.semver import InvalidVersion, Version


def parse_versions(texts: Iterable[str]) -> list[Version]:
    """The texts that are versions, in precedence order (ties in text order, for stability)."""
    versions = []
    for text in texts:
        try:
            versions.append(Version.parse(text))
        except InvalidVersion:
            continue
    return sorted(versions, key=lambda v: (v, str(v)))


def select_upgrade(
    current: str, available: Iterable[str], policy: UpgradePolicy, *, declined: Sequence[str] = ()
) -> Version | None:
    """The newest allowed version above `current` and above every `declined` one, or None."""
    if not policy.enabled:
        return None
    try:
        floor = Version.parse(current)
    except InvalidVersion:
        return None  # a current version that is not semver cannot be compared with
    floor = max([floor, *parse_versions(declined)])
    skipped = set(policy.ignored_versions)
    allowed = [
        v
        for v in parse_versions(available)
        if v > floor and v not in skipped and _allowed(v, policy)
    ]
    return allowed[-1] if allowed else None


def _allowed(version: Version, policy: UpgradePolicy) -> bool:
    if policy.constraint is not None:
        return policy.constraint.allows(version, prereleases=policy.allow_prereleases)
    return policy.allow_prereleases or not version.prerelease


@dataclass(frozen=True)
class Requested:
    version: Version
    downgrade: bool


class NotAvailable(Failure, LookupError):
    """The version asked for is not in the registry."""


def requested_version(current: str, available: Iterable[str], wanted: Version) -> Requested:
    """The exact version `/bootstrap upgrade VERSION` asked for, as the registry spells it."""
    found = [v for v in parse_versions(available) if v == wanted]
    if not found:
        raise NotAvailable(f"{wanted} is not a version of the root component in the registry")
    version = next((v for v in found if str(v) == str(wanted)), found[-1])
    try:
        downgrade = version < Version.parse(current)
    except InvalidVersion:
        downgrade = False
    return Requested(version, downgrade)


def same_version(first: str, second: str) -> bool:
    """Whether two texts name the same release (`v0.1` is `0.1.0`; non-versions by text)."""
    try:
        return Version.parse(first) == Version.parse(second)
    except InvalidVersion:
        return first == second


def is_newer(version: str, than: str) -> bool:
    """Whether `version` is a newer release than `than` (texts that are not versions are not)."""
    try:
        return Version.parse(version) > Version.parse(than)
    except InvalidVersion:
        return False
