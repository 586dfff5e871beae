"""A Flux simulator for the fake API server: source- and kustomize-controller's status writes.

No controller runs here, so the tests decide what Flux would report. Each `reconcile()`:
- a GitRepository gets an artifact at the commit `revision_of(url, branch)` names (None: the
  fetch fails), with `Ready` True, unless it is suspended;
- a Kustomization whose source has an artifact gets `Ready` True with `lastAppliedRevision` at it,
  or `Ready` False with the message `failing[name]` holds; suspended ones are left alone;
- an OCIRepository gets an artifact at its `ref` (`tag@digest`; a tag without a digest gets
  a digest of its URL and tag), `Ready` True;
- a HelmRelease whose `chartRef` OCIRepository has an artifact is installed: `Ready` True with
  `lastAttemptedRevision` (the chart version: here the tag) and `lastAttemptedRevisionDigest`
  (the artifact's digest), as helm-controller writes them, and its `history` (an install, then
  upgrades), or `Ready` False with the message `failing[name]` holds.
Statuses are written through the status subresource, so each write bumps the resourceVersion
as the real controllers' do, and an unchanged status writes nothing.
"""

from __future__ import annotations

import asyncio
import datetime
import hashlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.peers.kubernetes.store import Store

SOURCE = ("source.toolkit.fluxcd.io", "gitrepositories")
KUSTOMIZE = ("kustomize.toolkit.fluxcd.io", "kustomizations")
OCI = ("source.toolkit.fluxcd.io", "ocirepositories")
HELM = ("helm.toolkit.fluxcd.io", "helmreleases")
MANAGER = "flux-simulator"


def _condition(ready: bool, reason: str, message: str, generation: int) -> dict[str, Any]:
    return {
        "type": "Ready",
        "status": "True" if ready else "False",
        "reason": reason,
        "message": message,
        "observedGeneration": generation,
        "lastTransitionTime": "2026-01-01T00:00:00Z",
    }


@dataclass
class FluxSimulator:
    store: Store
    #: (GitRepository url, branch) -> the commit Flux would fetch, or None when it cannot
    revision_of: Callable[[str, str], str | None]
    #: Kustomization or HelmRelease name -> the message its failed reconciliation reports
    failing: dict[str, str] = field(default_factory=dict)

    def reconcile(self) -> None:
        artifacts: dict[tuple[str, str], str] = {}
        for (group, plural, namespace, name), obj in list(self.store.objects.items()):
            if (group, plural) == SOURCE and not obj["spec"].get("suspend"):
                revision = self._fetch(obj)
                if revision is not None:
                    artifacts[(namespace, name)] = revision
        for (group, plural, namespace, name), obj in list(self.store.objects.items()):
            if (group, plural) != KUSTOMIZE or obj["spec"].get("suspend"):
                continue
            source = obj["spec"].get("sourceRef") or {}
            revision = artifacts.get((source.get("namespace") or namespace, source.get("name", "")))
            generation = obj["metadata"]["generation"]
            status = dict(obj.get("status") or {})
            if revision is None:
                condition = _condition(
                    False, "ArtifactFailed", "Source artifact not found", generation
                )
            elif name in self.failing:
                condition = _condition(
                    False, "ReconciliationFailed", self.failing[name], generation
                )
                status["lastAttemptedRevision"] = revision
            else:
                message = f"Applied revision: {revision}"
                condition = _condition(True, "ReconciliationSucceeded", message, generation)
                status["lastAppliedRevision"] = status["lastAttemptedRevision"] = revision
            status["conditions"] = [condition]
            status["observedGeneration"] = generation
            self._write(KUSTOMIZE, namespace, name, status)
        charts = {
            (namespace, name): self._pull(obj)
            for (group, plural, namespace, name), obj in list(self.store.objects.items())
            if (group, plural) == OCI and not obj["spec"].get("suspend")
        }
        for (group, plural, _, _), obj in list(self.store.objects.items()):
            if (group, plural) == HELM and not obj["spec"].get("suspend"):
                self._install(obj, charts)

    def _pull(self, repo: dict[str, Any]) -> str:
        """The OCIRepository's artifact revision, written to its status."""
        spec, metadata = repo["spec"], repo["metadata"]
        ref = spec.get("ref") or {}
        tag = ref.get("tag", "latest")
        digest = ref.get("digest") or (
            "sha256:" + hashlib.sha256(f"{spec['url']}:{tag}".encode()).hexdigest()
        )
        revision = f"{tag}@{digest}" if "tag" in ref or "digest" not in ref else digest
        status = dict(repo.get("status") or {})
        status["artifact"] = {
            "revision": revision,
            "digest": digest,
            "path": f"ocirepository/{metadata['namespace']}/{metadata['name']}/{digest}.tar.gz",
            "url": "http://source-controller.flux-system.svc/ocirepository/chart.tar.gz",
            "lastUpdateTime": datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC).isoformat(),
        }
        message = f"stored artifact for digest '{revision}'"
        status["conditions"] = [_condition(True, "Succeeded", message, metadata["generation"])]
        status["observedGeneration"] = metadata["generation"]
        self._write(OCI, metadata["namespace"], metadata["name"], status)
        return revision

    def _install(self, release: dict[str, Any], charts: dict[tuple[str, str], str]) -> None:
        spec, metadata = release["spec"], release["metadata"]
        namespace, name = metadata["namespace"], metadata["name"]
        ref = spec.get("chartRef") or {}
        revision = charts.get((ref.get("namespace") or namespace, ref.get("name", "")))
        generation = metadata["generation"]
        status = dict(release.get("status") or {})
        if revision is None:
            message = "HelmChart or OCIRepository not found"
            condition = _condition(False, "ArtifactFailed", message, generation)
        else:
            version, _, digest = revision.rpartition("@")
            status["lastAttemptedRevision"] = version or digest
            status["lastAttemptedRevisionDigest"] = digest
            target = f"{spec.get('targetNamespace', namespace)}/{spec.get('releaseName', name)}"
            installed = status.get("history") or []
            action = "upgrade" if installed else "install"
            if name in self.failing:
                message = f"Helm {action} failed for release {target}: {self.failing[name]}"
                reason = f"{action.capitalize()}Failed"
                condition = _condition(False, reason, message, generation)
            else:
                message = f"Helm {action} succeeded for release {target} with chart {version}"
                condition = _condition(True, f"{action.capitalize()}Succeeded", message, generation)
                if not installed or installed[0].get("chartVersion") != version:
                    status["history"] = [{"chartVersion": version, "digest": digest}, *installed]
        status["conditions"] = [condition]
        status["observedGeneration"] = generation
        self._write(HELM, namespace, name, status)

    def _fetch(self, repo: dict[str, Any]) -> str | None:
        namespace, name = repo["metadata"]["namespace"], repo["metadata"]["name"]
        branch = (repo["spec"].get("ref") or {}).get("branch", "master")
        commit = self.revision_of(repo["spec"]["url"], branch)
        generation = repo["metadata"]["generation"]
        status = dict(repo.get("status") or {})
        if commit is None:
            url = repo["spec"]["url"]
            message = f"failed to checkout and determine revision: unable to clone '{url}'"
            status["conditions"] = [_condition(False, "GitOperationFailed", message, generation)]
            revision = None
        else:
            revision = f"{branch}@sha1:{commit}"
            status["artifact"] = {
                "revision": revision,
                "path": f"gitrepository/{namespace}/{name}/{commit}.tar.gz",
                "url": f"http://source-controller.flux-system.svc/gitrepository/{namespace}/{name}/{commit}.tar.gz",
                "lastUpdateTime": datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC).isoformat(),
            }
            message = f"stored artifact for revision '{revision}'"
            status["conditions"] = [_condition(True, "Succeeded", message, generation)]
        status["observedGeneration"] = generation
        self._write(SOURCE, namespace, name, status)
        return revision

    def _write(
        self, kind: tuple[str, str], namespace: str, name: str, status: dict[str, Any]
    ) -> None:
        rtype = self.store.types[kind]
        self.store.write_status(rtype, namespace, name, status, MANAGER)

    @asynccontextmanager
    async def running(self, interval: float = 0.02) -> AsyncIterator[FluxSimulator]:
        """Reconcile every `interval` seconds until the block ends."""

        async def loop() -> None:
            while True:
                self.reconcile()
                await asyncio.sleep(interval)

        task = asyncio.create_task(loop())
        try:
            yield self
        finally:
            task.cancel()
