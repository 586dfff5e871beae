"""Releases copied into the operator's mirrors before they are proposed (`bot.mirror`).

1. the mirror must be one the operator lists (`registry.mirrors`): the bot writes to no other
   registry, whatever a landscape's config says;
2. the release is transferred from the mirror's source as `ocm transfer --recursive
   --copy-resources` does (`bot.ocm.transfer`), OCI artifacts by skopeo; every registry it
   reaches, the artifacts' own included, passes the operator's egress policy first;
3. then it is verified from the mirror: every component version resolves there, every local
   blob has its digest, and every OCI artifact lies under the mirror and is there;
4. once per process for each release and mirror, shared by the landscapes naming it (a re-run
   elsewhere finds the versions present and copies nothing).
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter

from bot.core.bot_section import Mirror
from bot.core.failures import Failure
from bot.kit.jobs import in_thread
from bot.ocm import layout, open_store
from bot.ocm.egress import EgressPolicy
from bot.ocm.location import Repository, image_parts, parse_repository
from bot.ocm.reader import ComponentReader
from bot.ocm.skopeo import CopyUnavailable, SkopeoCopier
from bot.ocm.transfer import OCI_ARTIFACT, transfer
from bot.services.registries import open_landscape_reader, registry_options
from bot.settings import Settings


class MirrorRefused(Failure):
    """The landscape names a mirror the operator does not list, or the release cannot be
    copied or verified there."""


@dataclass(frozen=True)
class Mirrored:
    """What one transfer copied, for the pull request body."""

    target: str
    versions: int
    artifacts: int
    bytes: int


class MirrorMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.transfers = Counter(
            "bootstrap_bot_mirror_transfers",
            "Releases copied into a mirror, by outcome (copied, present, failed)",
            ["outcome"],
            registry=registry,
        )
        self.bytes = Counter(
            "bootstrap_bot_mirror_copied_bytes",
            "Bytes of local blobs copied into mirrors (OCI artifacts are copied by skopeo)",
            registry=registry,
        )


@dataclass
class Mirrors:
    settings: Settings
    metrics: MirrorMetrics
    _done: dict[tuple[str, str, str, str], Mirrored] = field(default_factory=dict)
    _locks: dict[tuple[str, str, str, str], asyncio.Lock] = field(default_factory=dict)

    def source_of(self, mirror: Mirror) -> Repository:
        """1. The repository new releases are watched at; only for a listed mirror."""
        self._listed(mirror)
        return parse_repository(mirror.source)

    async def ensure(self, mirror: Mirror, component: str, version: str) -> Mirrored:
        """2.-4. The release in the mirror, verified."""
        self._listed(mirror)
        key = (mirror.source, mirror.target, component, version)
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            if key not in self._done:
                settings = self.settings
                try:
                    copied = await in_thread(_mirror, settings, mirror, component, version)
                    await in_thread(_verify, settings, mirror, component, version)
                except Failure:
                    self.metrics.transfers.labels("failed").inc()
                    raise
                self.metrics.transfers.labels("copied" if copied.versions else "present").inc()
                self.metrics.bytes.inc(copied.bytes)
                self._done[key] = copied
            return self._done[key]

    def _listed(self, mirror: Mirror) -> None:
        if self.settings.registry.mirror(mirror.source, mirror.target) is None:
            raise MirrorRefused(
                f"bot.mirror: {mirror.source} → {mirror.target} is not a mirror the bot's "
                f"operators list (setting `registry.mirrors`)"
            )


def _mirror(settings: Settings, mirror: Mirror, component: str, version: str) -> Mirrored:
    source = parse_repository(mirror.source)
    target = parse_repository(mirror.target)
    reader = open_landscape_reader(settings, source)
    options = registry_options(settings, target)
    store = open_store(target, **options)
    egress: EgressPolicy = options["egress"]
    copier = SkopeoCopier(options["credentials"], plain_http=lambda host: _loopback(settings, host))
    checked = _CheckedCopier(copier, egress)
    report = transfer(reader, [(component, version)], store, target, copier=checked)
    if report.errors:
        raise MirrorRefused(f"copying {component}:{version} into {mirror.target}: "
                            + "; ".join(report.errors))  # fmt: skip
    return Mirrored(mirror.target, report.transferred, report.artifacts, report.bytes)


def _verify(settings: Settings, mirror: Mirror, component: str, version: str) -> None:
    target = parse_repository(mirror.target)
    reader: ComponentReader = open_landscape_reader(settings, target)
    graph = reader.resolve(component, version)
    base = "/".join(p for p in (target.host, target.prefix) if p) + "/"
    store = open_store(target, **registry_options(settings, target))
    for cv in graph.versions.values():
        for resource in cv.resources:
            if resource.is_local_blob:
                for digest in str(resource.access.get("localReference", "")).split(","):
                    reader.blob(cv, digest.strip())
            elif resource.access_type == OCI_ARTIFACT:
                image = str(resource.access.get("imageReference") or "")
                if not image.startswith(base) or "@" not in image:
                    raise MirrorRefused(
                        f"{cv.name}:{cv.version} resource {resource.name} points at {image}, "
                        f"not at a copy in {mirror.target}"
                    )
                _, path, _ = image_parts(image)
                digest = image.rpartition("@")[2]
                data, _ = store.get_manifest(path, digest)
                layout.verify(data, digest, f"the copy of {resource.name} in {mirror.target}")


class _CheckedCopier:
    """The copier, sent only to registries the egress policy allows (`_check_egress`)."""

    def __init__(self, inner: SkopeoCopier, egress: EgressPolicy) -> None:
        self.inner, self.egress = inner, egress

    def _check(self, *references: str) -> None:
        for reference in references:
            _check_egress(self.egress, image_parts(reference)[0])

    def copy(self, source: str, target: str) -> str:
        self._check(source, target)
        return self.inner.copy(source, target)

    def export(self, source: str, layout: Path) -> str:
        self._check(source)
        return self.inner.export(source, layout)

    def push(self, layout: Path, target: str) -> str:
        self._check(target)
        return self.inner.push(layout, target)

    def digest(self, source: str) -> str:
        self._check(source)
        return self.inner.digest(source)


def _loopback(settings: Settings, host: str) -> bool:
    return settings.registry.plain_http_loopback and parse_repository(host).is_loopback


def _check_egress(egress: EgressPolicy, host: str) -> None:
    """skopeo opens its own connections: the host and every address it resolves to now are
    checked first, by the rules of the bot's own connections. (The bot's own are checked
    where the socket opens; skopeo's are not, so a name whose answer changes in between is
    the one case this leaves to `registry.allowed`.)"""
    egress.check_host(host)
    name, _, port = host.rpartition(":") if host.count(":") == 1 else (host, "", "")
    name, number = name or host, int(port) if port.isdigit() else 443
    try:
        answers = socket.getaddrinfo(name, number)
    except OSError as err:
        raise CopyUnavailable(f"registry {host} cannot be resolved: {err}") from None
    for *_, address in answers:
        egress.check_address(name, number, str(address[0]))
