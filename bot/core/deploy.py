"""What applying a landscape to its cluster means, and how it is told. Pure.

The objects come from kustomize (`envs/<env>/fluxcd` and `envs/<env>`); this module orders
them, picks the Flux Kustomizations, builds the git credentials Secret, judges Flux's status
against the commit that should be running, and writes the check run and comment texts.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.core.names import DEPLOY_CHECK

FLUX_NAMESPACE = "flux-system"
GIT_SECRET = "git"
SOURCE_NAME = "environments"
SOURCE_API = "source.toolkit.fluxcd.io/v1"
KUSTOMIZATION_GROUP = "kustomize.toolkit.fluxcd.io"

Obj = dict[str, Any]


@dataclass(frozen=True)
class ApplyPlan:
    """The landscape's objects in the order they are applied. The first group (CRDs and
    Namespaces, `flux-system` always among them) has to exist, and the CRDs be Established,
    before the rest can be; the Flux Kustomizations of `envs/<env>` come last."""

    first: list[Obj]
    rest: list[Obj]
    kustomizations: list[Obj]
    #: the GitRepository `flux-system/environments`, when `fluxcd` renders it
    source: Obj | None

    @property
    def objects(self) -> list[Obj]:
        return [*self.first, *self.rest, *self.kustomizations]

    @property
    def crds(self) -> list[str]:
        return sorted(
            o["metadata"]["name"] for o in self.first if o.get("kind") == "CustomResourceDefinition"
        )


def apply_plan(fluxcd: list[Obj], landscape_objects: list[Obj]) -> ApplyPlan:
    """Order kustomize's objects of `envs/<env>/fluxcd` and `envs/<env>` (each group keeps
    kustomize's order)."""
    first = [o for o in fluxcd if o.get("kind") in ("CustomResourceDefinition", "Namespace")]
    if not any(_is(o, "Namespace", "", FLUX_NAMESPACE) for o in first):
        first.insert(0, namespace(FLUX_NAMESPACE))
    rest = [o for o in fluxcd if o not in first]
    return ApplyPlan(first, rest, flux_kustomizations(landscape_objects), source_of(fluxcd))


def _is(obj: Obj, kind: str, in_namespace: str, name: str) -> bool:
    metadata = obj.get("metadata") or {}
    found = (obj.get("kind"), metadata.get("namespace") or "", metadata.get("name"))
    return found == (kind, in_namespace, name)


def created_with(obj: Obj, objects: list[Obj]) -> str | None:
    """The CustomResourceDefinition or Namespace among `objects` that `obj` needs to exist:
    a dry run of `obj` can only be checked once that one is applied."""
    api_version = str(obj.get("apiVersion", ""))
    group = api_version.rpartition("/")[0]
    for other in objects:
        spec = other.get("spec") or {}
        if (
            other.get("kind") == "CustomResourceDefinition"
            and spec.get("group") == group
            and (spec.get("names") or {}).get("kind") == obj.get("kind")
        ):
            return f"CustomResourceDefinition {other['metadata']['name']}"
    namespace_name = (obj.get("metadata") or {}).get("namespace")
    if namespace_name and any(_is(o, "Namespace", "", namespace_name) for o in objects):
        return f"Namespace {namespace_name}"
    return None


def flux_kustomizations(objects: list[Obj]) -> list[Obj]:
    """Only the Flux Kustomizations, as openmcp-bootstrapper applies from `envs/<env>`."""
    return [
        o
        for o in objects
        if o.get("kind") == "Kustomization" and KUSTOMIZATION_GROUP in str(o.get("apiVersion"))
    ]


def namespace(name: str) -> Obj:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def git_secret(data: Mapping[str, bytes]) -> Obj:
    """The `flux-system/git` Secret with the keys Flux's source-controller reads."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": GIT_SECRET, "namespace": FLUX_NAMESPACE},
        "type": "Opaque",
        "data": {k: base64.b64encode(v).decode() for k, v in sorted(data.items())},
    }


def source_of(objects: list[Obj]) -> Obj | None:
    """The GitRepository `flux-system/environments` the landscape renders."""
    return next((o for o in objects if _is(o, "GitRepository", FLUX_NAMESPACE, SOURCE_NAME)), None)


def missing_secret_keys(source: Obj, keys: set[str]) -> tuple[list[str], str]:
    """The keys Flux needs in the Secret for `source` that `keys` lacks, and why it needs them."""
    spec = source.get("spec") or {}
    url = str(spec.get("url", ""))
    if url.startswith("ssh://"):
        need, why = ["identity", "known_hosts"], f"to clone {url} over SSH"
    elif spec.get("provider") == "github":
        need = ["githubAppID", "githubAppInstallationID", "githubAppPrivateKey"]
        why = "for `provider: github` (GitHub App authentication)"
    elif keys & {"bearerToken"}:
        need, why = [], ""
    else:
        need, why = ["username", "password"], f"to clone {url} over HTTPS"
    return [k for k in need if k not in keys], why


def revision_commit(revision: str) -> str:
    """The commit of a Flux revision: `main@sha1:abc…` (or the older `main/abc…`)."""
    if "@sha1:" in revision:
        return revision.rpartition("@sha1:")[2]
    return revision.rpartition("/")[2]


def ready_condition(obj: Obj) -> Obj | None:
    conditions = (obj.get("status") or {}).get("conditions") or []
    return next((c for c in conditions if c.get("type") == "Ready"), None)


def is_current(obj: Obj) -> bool:
    """Whether the controller has reconciled the object's latest spec (its generation)."""
    ready = ready_condition(obj) or {}
    observed = ready.get("observedGeneration", (obj.get("status") or {}).get("observedGeneration"))
    return bool(observed == (obj.get("metadata") or {}).get("generation"))


@dataclass(frozen=True)
class Readiness:
    state: Literal["waiting", "ready", "failed"]
    #: one line per Flux object: where it is
    lines: tuple[str, ...] = ()
    #: on failure: which object, and Flux's message
    message: str = ""

    @classmethod
    def judged(cls, lines: list[str], failed: str) -> Readiness:
        """Failed with the first failure, ready when every line is Ready, else waiting."""
        if failed:
            return cls("failed", tuple(lines), failed)
        if all(": Ready at " in line for line in lines):
            return cls("ready", tuple(lines))
        return cls("waiting", tuple(lines))


def _name(obj: Obj) -> str:
    metadata = obj.get("metadata") or {}
    return f"{obj.get('kind')} {metadata.get('namespace')}/{metadata.get('name')}"


def flux_readiness(source: Obj | None, kustomizations: list[Obj], commit: str) -> Readiness:
    """Whether Flux runs `commit`: the source has its artifact, every Kustomization applied it."""
    if source is None:
        return Readiness("waiting", (f"GitRepository {FLUX_NAMESPACE}/{SOURCE_NAME}: missing",))
    lines = []
    failed = ""
    for obj in [source, *kustomizations]:
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        ready = ready_condition(obj)
        message = str((ready or {}).get("message") or "not reconciled yet")
        if spec.get("suspend"):
            failed = failed or f"{_name(obj)} is suspended: Flux will not reconcile it"
            lines.append(f"{_name(obj)}: suspended")
            continue
        if obj is source:
            revision = str((status.get("artifact") or {}).get("revision") or "")
        else:
            revision = str(status.get("lastAppliedRevision") or "")
        at_commit = bool(revision) and revision_commit(revision) == commit
        current = is_current(obj)
        if ready is not None and ready.get("status") == "True" and at_commit:
            lines.append(f"{_name(obj)}: Ready at {revision}")
        elif ready is not None and ready.get("status") == "False" and current:
            attempted = status.get("lastAttemptedRevision") or revision
            if obj is not source and revision_commit(str(attempted)) == commit:
                failed = failed or f"{_name(obj)}: {message}"
            lines.append(f"{_name(obj)}: not Ready: {message}")
        else:
            lines.append(f"{_name(obj)}: waiting ({message})")
    return Readiness.judged(lines, failed)


@dataclass(frozen=True)
class DeployReport:
    """What one apply did, for the check run, the comment and the command reply."""

    environment: str
    cluster: str
    commit: str
    version: str
    conclusion: Literal["success", "failure"]
    #: (object, created/configured/unchanged)
    applied: tuple[tuple[str, str], ...] = ()
    readiness: Readiness = field(default_factory=lambda: Readiness("waiting"))
    seconds: float = 0.0
    problem: str = ""

    @property
    def title(self) -> str:
        if self.conclusion == "success":
            return (
                f"{self.environment} is at openmcp {self.version}: {len(self.applied)} objects "
                f"applied, Ready in {duration(self.seconds)}"
            )
        return f"{self.environment} is not at {self.commit[:12]}: {self.problem}"

    @property
    def summary(self) -> str:
        """The check run's summary: where, what was applied, Flux's state, and for a failure
        the next step (the cause is the title's, and not said again)."""
        counts: dict[str, int] = {}
        for _, outcome in self.applied:
            counts[outcome] = counts.get(outcome, 0) + 1
        release = f", openmcp {self.version}" if self.version else ""
        parts = [f"Cluster `{self.cluster}`, commit {self.commit}{release}."]
        if self.applied:
            tally = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
            parts.append(f"Applied {len(self.applied)} objects by server-side apply: {tally}.")
        cause = self.problem.partition(": ")[2]  # an object's message: its line says no more
        lines = [line for line in self.readiness.lines if not cause or cause not in line]
        if lines:
            besides = ", besides that" if len(lines) < len(self.readiness.lines) else ""
            parts.append(f"Flux{besides}:\n" + "\n".join(f"- {line}" for line in lines))
        if self.conclusion == "failure":
            parts.append(f"**Next:** {self.next_step}")
        return "\n\n".join(parts)

    @property
    def next_step(self) -> str:
        if not self.applied:  # refused before anything changed
            return (
                "once the cause is fixed, comment `/bootstrap apply` or press **Apply again** "
                f"on the `{DEPLOY_CHECK}` check run."
            )
        return (
            "fix the cause in a pull request into the landscape branch (merging it applies "
            "the fix), or, when it was the cluster's, press **Apply again** on the "
            f"`{DEPLOY_CHECK}` check run or comment `/bootstrap apply`."
        )

    @property
    def text(self) -> str:
        """The check run's details: every object and what applying it did."""
        if not self.applied:
            return ""
        rows = "\n".join(f"| {ref} | {outcome} |" for ref, outcome in self.applied)
        return "| object | server-side apply |\n|---|---|\n" + rows

    def comment(self) -> str:
        """The result first (the cause in it), then where and what, then the next step."""
        mark = "✅" if self.conclusion == "success" else "❌"
        return f"{mark} **{self.title}** (`{DEPLOY_CHECK}`)\n\n{self.summary}"


def refused(environment: str, cluster: str, commit: str, why: str) -> DeployReport:
    return DeployReport(environment, cluster, commit, "", "failure", problem=why)


def duration(seconds: float) -> str:
    whole = round(seconds)
    minutes, rest = divmod(whole, 60)
    return f"{minutes}m{rest:02d}s" if minutes else f"{rest}s"
