"""The External Secrets Operator of a landscape, as openmcp-bootstrapper's `deploy-eso` installs
it, with that command's bugs fixed. Pure.

The Go tool finds the component version holding the resource `external-secrets-operator-image`
(the root, else depth-first through the references), takes the resource
`external-secrets-operator-chart` from the same version, and writes into `flux-system` an
OCIRepository for the chart and a HelmRelease installing it as the Helm release `eso` into the
namespace `external-secrets`. The field values are the Go tool's; deliberately different:

- a resource without an image reference (a `localBlob`, as in a release transferred into a
  CTF archive) is a Failure naming it, where the Go tool dereferences a nil pointer;
- a registry port is not a tag (`parse_image`);
- the chart's digest is kept (`spec.ref.digest`, which Flux prefers to the tag), and so is the
  image's: the chart writes its images as `repository:tag`, so the tag carries it
  (`v2.9.0@sha256:…`);
- the webhook's and the cert-controller's images and pull secrets are the controller's too,
  so a cluster pulls nothing from upstream that the release does not name;
- no pull secrets is no `imagePullSecrets` value (the Go tool writes null, with the same effect);
- the OCIRepository `external-secrets-image`, which nothing references, is not made: its only
  effect would be source-controller pulling a layer of the controller's image into its storage.
"""

from __future__ import annotations

from typing import Any

from bot.core.config import BootstrapConfig
from bot.core.deploy import Readiness, is_current, ready_condition
from bot.core.failures import Failure
from bot.gotemplate.bootstrapper import parse_image
from bot.ocm.graph import ComponentGraph, GraphError
from bot.ocm.model import ComponentVersion, Resource

CHART_RESOURCE = "external-secrets-operator-chart"
IMAGE_RESOURCE = "external-secrets-operator-image"
NAMESPACE = "flux-system"
CHART_SOURCE = "external-secrets-chart"
RELEASE = "external-secrets-operator"
RELEASE_NAME = "eso"
TARGET_NAMESPACE = "external-secrets"
SOURCE_API = "source.toolkit.fluxcd.io/v1"
HELM_API = "helm.toolkit.fluxcd.io/v2"

Obj = dict[str, Any]


class EsoError(Failure, LookupError):
    """The release does not hold what ESO is installed from; the Go tool's words where it has
    them."""


def wants_eso(config: BootstrapConfig) -> bool:
    """`bot.eso` when it is set, else whether the config has `externalSecrets`."""
    if config.bot.eso is not None:
        return config.bot.eso
    return config.external_secrets.present


def eso_objects(config: BootstrapConfig, graph: ComponentGraph) -> list[Obj]:
    """The OCIRepository of the chart, then the HelmRelease, as applied (in `flux-system`)."""
    try:
        holder = graph.for_resource(IMAGE_RESOURCE)[0]
    except GraphError as err:
        raise EsoError(f"failed to get {IMAGE_RESOURCE} component: {err}") from None
    chart_resource = holder.resource(CHART_RESOURCE)
    if chart_resource is None:
        raise EsoError(
            f"failed to get {CHART_RESOURCE} resource: resource {CHART_RESOURCE} not found in "
            f"component version {holder.name}"
        )
    image_resource = holder.resource(IMAGE_RESOURCE)
    assert image_resource is not None  # for_resource found it there
    chart = _image(holder, chart_resource)
    image = _image(holder, image_resource)
    secrets = config.external_secrets

    ref = {k: chart[k] for k in ("tag", "digest") if chart[k]}
    spec: Obj = {"url": f"oci://{chart['image']}", "ref": ref, "interval": "0s", "timeout": "1m0s"}
    if secrets.repository_secret_ref is not None:
        spec["secretRef"] = {"name": secrets.repository_secret_ref}
    source = _object(SOURCE_API, "OCIRepository", CHART_SOURCE, spec)

    tag = f"{image['tag']}@{image['digest']}" if image["digest"] else image["tag"]
    pinned: Obj = {"repository": image["image"], "tag": tag}
    pull_secrets = [{"name": name} for name in secrets.image_pull_secrets]
    values: Obj = {"image": dict(pinned)}
    for component in ("webhook", "certController"):
        values[component] = {"image": dict(pinned)}
        if pull_secrets:
            values[component]["imagePullSecrets"] = pull_secrets
    if pull_secrets:
        values["imagePullSecrets"] = pull_secrets
    release = _object(
        HELM_API,
        "HelmRelease",
        RELEASE,
        {
            "chartRef": {"kind": "OCIRepository", "name": CHART_SOURCE, "namespace": NAMESPACE},
            "interval": "0s",
            "releaseName": RELEASE_NAME,
            "targetNamespace": TARGET_NAMESPACE,
            "install": {"createNamespace": True},
            "values": values,
        },
    )
    return [source, release]


def chart_revision(objects: list[Obj]) -> str:
    """What the chart's OCIRepository asks for, as Flux writes an artifact's revision
    (`tag@sha256:…`; a digest alone, or a tag alone when no digest is pinned)."""
    ref = next(o for o in objects if o["kind"] == "OCIRepository")["spec"]["ref"]
    return "@".join(part for part in (ref.get("tag", ""), ref.get("digest", "")) if part)


def eso_readiness(source: Obj | None, release: Obj | None, revision: str) -> Readiness:
    """Whether ESO runs the chart `revision` asks for (see `chart_revision`): the chart's
    OCIRepository has an artifact of it, and the HelmRelease is Ready, has reconciled its
    latest spec, and last attempted that artifact (`lastAttemptedRevisionDigest`, which
    helm-controller sets for charts from an OCIRepository)."""
    lines: list[str] = []
    failed = ""
    digest = ""
    for obj, name in ((source, f"OCIRepository {NAMESPACE}/{CHART_SOURCE}"),
                      (release, f"HelmRelease {NAMESPACE}/{RELEASE}")):  # fmt: skip
        if obj is None:
            lines.append(f"{name}: missing")
            continue
        status = obj.get("status") or {}
        ready = ready_condition(obj)
        message = str((ready or {}).get("message") or "not reconciled yet")
        current = is_current(obj)
        if obj is source:
            artifact = str((status.get("artifact") or {}).get("revision") or "")
            at = artifact == revision or (
                "@" not in revision and artifact.partition("@")[0] == revision
            )
            digest = artifact.rpartition("@")[2] if at else ""
            shown = artifact
        else:
            attempted = str(status.get("lastAttemptedRevisionDigest") or "")
            at = bool(digest) and attempted == digest
            shown = f"chart {status.get('lastAttemptedRevision') or '?'} ({attempted[:19]})"
        if ready is not None and ready.get("status") == "True" and at and current:
            lines.append(f"{name}: Ready at {shown}")
        elif ready is not None and ready.get("status") == "False" and current:
            failed = failed or f"{name}: {message}"
            lines.append(f"{name}: not Ready: {message}")
        else:
            lines.append(f"{name}: waiting ({message})")
    return Readiness.judged(lines, failed)


def _image(cv: ComponentVersion, resource: Resource) -> dict[str, str]:
    reference = resource.access.get("imageReference")
    if not isinstance(reference, str) or not reference:
        raise EsoError(
            f"resource {resource.name} of {cv.name}:{cv.version} has access type "
            f"{resource.access_type or 'none'} and no image reference: ESO is installed from "
            f"OCI artifacts, so the release must keep its resources in a registry (an "
            f"`ociArtifact` access), not as local blobs"
        )
    return parse_image(reference)


def _object(api_version: str, kind: str, name: str, spec: Obj) -> Obj:
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": spec,
    }
