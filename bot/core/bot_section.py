"""The `bot:` section of the bootstrap config, which only bootstrap-bot reads.

openmcp-bootstrapper ignores unknown keys, so the section can live in the same file. Unlike the
rest of the config it is read strictly: exact key names, exact types, no YAML 1.1 coercion, so a
typo in an upgrade policy is an error rather than a silently different policy.

    bot:
      cluster: prod-eu            # a cluster the operator configured for this repository
      commandPermission: write    # least repository role that may run /bootstrap commands
      eso: true                   # install the External Secrets Operator (default: when the
                                  # config has `externalSecrets`)
      mirror:                     # copy each new release into the operator's mirror first
        from: ghcr.io/openmcp-project/components
        to: mirror.corp.example/openmcp
      upgrade:
        enabled: true             # propose new openMCP releases (default true)
        constraint: ">=0.19, <1"  # which versions to propose (default: any)
        allowPrereleases: false   # (default false)
        ignoredVersions: [v0.20.0]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.core.problems import did_you_mean
from bot.golang import strconv
from bot.golang.semver import Constraint, InvalidConstraint, InvalidVersion, Version
from bot.golang.yamlv2 import Mark, YamlList, YamlMap

Report = Callable[[str, Mark], None]


@dataclass(frozen=True)
class UpgradePolicy:
    """When the bot proposes a new openMCP release (the `bot.upgrade` section)."""

    enabled: bool = True
    constraint: Constraint | None = None
    allow_prereleases: bool = False
    ignored_versions: tuple[Version, ...] = ()


#: GitHub's repository roles, weakest first.
ROLES = ("none", "read", "triage", "write", "maintain", "admin")


def role_allows(role: str, minimum: str) -> bool:
    """Whether a user with `role` on the repository meets `minimum` (unknown roles do not)."""
    return role in ROLES and ROLES.index(role) >= ROLES.index(minimum)


@dataclass(frozen=True)
class BotSection:
    cluster: str | None = None
    upgrade: UpgradePolicy = field(default_factory=UpgradePolicy)
    command_permission: str = "write"
    #: install the External Secrets Operator: None follows the config's `externalSecrets`
    eso: bool | None = None
    #: releases are taken from a mirror the bot fills (`bot.mirror`)
    mirror: Mirror | None = None


@dataclass(frozen=True)
class Mirror:
    """`bot.mirror`: new releases are watched at `source` and copied into `target` (each a
    registry with its prefix) before they are proposed, from `target`."""

    source: str
    target: str
    mark: Mark | None = field(default=None, compare=False)


_BOT_FIELDS = {"cluster", "upgrade", "commandPermission", "eso", "mirror"}
_MIRROR_FIELDS = {"from", "to"}
_UPGRADE_FIELDS = {"enabled", "constraint", "allowPrereleases", "ignoredVersions"}


def read_bot_section(value: Any, mark: Mark, report: Report) -> BotSection:
    if value is None:
        return BotSection()
    fields = _strict_map(value, "bot", _BOT_FIELDS, mark, report)
    cluster = None
    if "cluster" in fields:
        item, item_mark = fields["cluster"]
        if not isinstance(item, str) or not item:
            report("bot.cluster: must be a non-empty string naming a cluster", item_mark)
        else:
            cluster = item
    upgrade = UpgradePolicy()
    if "upgrade" in fields:
        upgrade = _upgrade_policy(*fields["upgrade"], report)
    permission = "write"
    if "commandPermission" in fields:
        item, item_mark = fields["commandPermission"]
        if item not in ROLES[1:]:
            choices = ", ".join(ROLES[1:])
            hint = did_you_mean(str(item), ROLES[1:]) if isinstance(item, str) else ""
            report(f"bot.commandPermission: must be one of {choices}{hint}", item_mark)
        else:
            permission = item
    eso = None
    if "eso" in fields:
        item, item_mark = fields["eso"]
        if not isinstance(item, bool):
            report(f"bot.eso: must be true or false, not {_describe(item)}", item_mark)
        else:
            eso = item
    mirror = None
    if "mirror" in fields:
        mirror = _mirror(*fields["mirror"], report)
    return BotSection(
        cluster=cluster, upgrade=upgrade, command_permission=permission, eso=eso, mirror=mirror
    )


def _mirror(value: Any, mark: Mark, report: Report) -> Mirror | None:
    fields = _strict_map(value, "bot.mirror", _MIRROR_FIELDS, mark, report)
    if not isinstance(value, YamlMap):  # said already
        return None
    ends = {}
    for key in ("from", "to"):
        item, item_mark = fields.get(key, (None, mark))
        if not isinstance(item, str) or not item.strip():
            report(f"bot.mirror.{key}: must be a registry with its prefix, such as "
                   f"`ghcr.io/openmcp-project/components`", item_mark)  # fmt: skip
            return None
        ends[key] = item.strip()
    return Mirror(ends["from"], ends["to"], mark)


def _upgrade_policy(value: Any, mark: Mark, report: Report) -> UpgradePolicy:
    if value is None:
        return UpgradePolicy()
    fields = _strict_map(value, "bot.upgrade", _UPGRADE_FIELDS, mark, report)
    flags = {}
    for key, default in (("enabled", True), ("allowPrereleases", False)):
        item, item_mark = fields.get(key, (default, mark))
        if not isinstance(item, bool):
            report(f"bot.upgrade.{key}: must be true or false, not {_describe(item)}", item_mark)
            item = default
        flags[key] = item
    constraint = None
    if "constraint" in fields:
        item, item_mark = fields["constraint"]
        if not isinstance(item, str):
            report(
                f'bot.upgrade.constraint: must be a string such as ">=0.19, <1.0", '
                f"not {_describe(item)}; quote it",
                item_mark,
            )
        else:
            try:
                constraint = Constraint.parse(item)
            except InvalidConstraint as err:
                report(f"bot.upgrade.constraint: {err}", item_mark)
    ignored: list[Version] = []
    if "ignoredVersions" in fields:
        item, item_mark = fields["ignoredVersions"]
        if not isinstance(item, YamlList):
            report("bot.upgrade.ignoredVersions: must be a list of versions", item_mark)
        else:
            for i, (v, m) in enumerate(zip(item.items, item.marks, strict=True)):
                if not isinstance(v, str):
                    report(
                        f"bot.upgrade.ignoredVersions[{i}]: must be a version string, not "
                        f"{_describe(v)}; quote it",
                        m,
                    )
                    continue
                try:
                    ignored.append(Version.parse(v))
                except InvalidVersion as err:
                    report(f"bot.upgrade.ignoredVersions[{i}]: {err}", m)
    return UpgradePolicy(
        enabled=flags["enabled"],
        constraint=constraint,
        allow_prereleases=flags["allowPrereleases"],
        ignored_versions=tuple(ignored),
    )


def _strict_map(
    value: Any, path: str, allowed: set[str], mark: Mark, report: Report
) -> dict[str, tuple[Any, Mark]]:
    if not isinstance(value, YamlMap):
        report(f"{path}: must be a mapping, not {_describe(value)}", mark)
        return {}
    fields: dict[str, tuple[Any, Mark]] = {}
    for key, item, key_mark, value_mark, _ in value.items():
        if key not in allowed:
            suggestion = did_you_mean(str(key), allowed)
            known = ", ".join(sorted(allowed))
            report(f"{path}.{key}: unknown field (known: {known}){suggestion}", key_mark)
            continue
        fields[key] = (item, value_mark)
    for dup_key, dup_mark in value.duplicates:
        report(f"{path}.{dup_key}: written more than once", dup_mark)
    return fields


def _describe(value: Any) -> str:
    if isinstance(value, YamlMap):
        return "a mapping"
    if isinstance(value, YamlList):
        return "a list"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {strconv.format_float(float(value))}"
    return f"the string {strconv.quote(value)}"
