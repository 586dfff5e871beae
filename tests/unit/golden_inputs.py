"""Fixed inputs for the golden texts of reports, comments and bodies: a pull request that
enables a provider, one that removes a CRD, a hand edit, a first install's dry run, a deploy
that went Ready and one Flux refused."""

from __future__ import annotations

from collections.abc import Callable

from bot.core import deploy, replies, reports
from bot.core.changes import ChangeSummary, ObjectChange, ObjectKey
from bot.core.discovery import DiscoveryProblem, Landscape
from bot.core.dry_run import Checked, DryRunReport
from bot.core.hand_edits import HandEdit, instead
from bot.core.impact import Change, Impact
from bot.core.problems import Problem
from bot.core.upgrade_pr import UpgradeRecord, declined_note, declined_text, upgrade_body

COMMIT = "0123456789abcdef0123456789abcdef01234567"
MERGED = "fedcba9876543210fedcba9876543210fedcba98"
URL = "https://github.com/example-org/landscape/pull/7"
ROOT = "github.com/openmcp-project/openmcp"

PROVIDER = ObjectKey("ClusterProvider", "", "kind", "openmcp.cloud/v1alpha1")
PROVIDER_CRD = ObjectKey(
    "CustomResourceDefinition",
    "",
    "kindclusters.kind.clusters.openmcp.cloud",
    "apiextensions.k8s.io/v1",
)
OPENMCP = ObjectKey("Kustomization", "flux-system", "openmcp", "kustomize.toolkit.fluxcd.io/v1")
OLD_CRD = ObjectKey(
    "CustomResourceDefinition", "", "legacy.openmcp.cloud", "apiextensions.k8s.io/v1"
)
DEPLOYMENT = ObjectKey("Deployment", "openmcp-system", "openmcp-operator", "apps/v1")

#: a pull request that enables the kind cluster provider
ENABLES_PROVIDER = ChangeSummary(
    files_added=(
        "resources/openmcp/cluster-providers/kind.yaml",
        "resources/openmcp/crds/kindclusters.kind.clusters.openmcp.cloud.yaml",
    ),
    files_changed=(".bootstrap/config.yaml", "resources/openmcp/kustomization.yaml"),
    files_removed=(),
    objects_added=(ObjectChange(PROVIDER_CRD), ObjectChange(PROVIDER)),
    objects_changed=(),
    objects_removed=(),
)
#: an upgrade: a deployment's image, a CRD dropped
UPGRADES = ChangeSummary(
    files_added=(),
    files_changed=(".bootstrap/config.yaml", "resources/openmcp/deployment.yaml"),
    files_removed=("resources/openmcp/crds/legacy.openmcp.cloud.yaml",),
    objects_added=(),
    objects_changed=(
        ObjectChange(
            DEPLOYMENT,
            ("spec.template.spec.containers", "spec.template.spec.containers.image"),
        ),
        ObjectChange(OPENMCP, ("spec.path",)),
    ),
    objects_removed=(ObjectChange(OLD_CRD),),
)
NOTHING = ChangeSummary((), (), (), (), (), ())
WARNING = Problem("unknown field `extra`", ".bootstrap/config.yaml", 9, 3, severity="warning")

IMPACT = Impact(
    Change(ROOT, "v0.0.1", "v0.0.2"),
    (
        Change("github.com/openmcp-project/cluster-provider-kind", "v0.1.0", "v0.2.0"),
        Change("example.com/internal/policies", None, "1.0.0"),
    ),
    (
        Change(
            "openmcp-operator-image",
            "ghcr.io/openmcp-project/images/openmcp-operator:v0.1.0",
            "ghcr.io/openmcp-project/images/openmcp-operator:v0.2.0",
            "github.com/openmcp-project/openmcp-operator",
        ),
    ),
    (Change("legacy.openmcp.cloud", "v1", None),),
)
RECORD = UpgradeRecord("dev", "v0.0.1", "v0.0.2", "sha256:abc")

FIRST_INSTALL = DryRunReport(
    "dev",
    "kind-dev",
    COMMIT,
    (
        Checked("Namespace openmcp-system", "created"),
        Checked("GitRepository flux-system/environments", "created"),
        Checked.deferred("ClusterProvider kind", f"CustomResourceDefinition {PROVIDER_CRD.name}"),
        Checked.deferred(
            "Kustomization flux-system/openmcp",
            "CustomResourceDefinition kustomizations.kustomize.toolkit.fluxcd.io",
        ),
        Checked.deferred(
            "Kustomization flux-system/bootstrap",
            "CustomResourceDefinition kustomizations.kustomize.toolkit.fluxcd.io",
        ),
    ),
    credentials="The git credentials (`deploy-key`) have what Flux needs for "
    "ssh://git@github.com/example-org/landscape.",
)
REFUSED = DryRunReport(
    "dev",
    "kind-dev",
    COMMIT,
    (
        Checked("Namespace openmcp-system", "unchanged"),
        Checked("Kustomization flux-system/openmcp", "refused", "spec.prune: Required value"),
    ),
)
UNREACHABLE = DryRunReport(
    "dev", "kind-dev", COMMIT, problem="the API server answered 503", unavailable=True
)

READY = deploy.DeployReport(
    "dev",
    "kind-dev",
    MERGED,
    "v0.0.2",
    "success",
    (("Namespace flux-system", "unchanged"), ("Kustomization flux-system/openmcp", "configured")),
    deploy.Readiness(
        "ready",
        (
            f"GitRepository flux-system/environments: Ready at main@sha1:{MERGED}",
            f"Kustomization flux-system/openmcp: Ready at main@sha1:{MERGED}",
        ),
    ),
    74.0,
)
FLUX_FAILED = deploy.DeployReport(
    "dev",
    "kind-dev",
    MERGED,
    "v0.0.2",
    "failure",
    READY.applied,
    deploy.Readiness(
        "failed",
        (
            f"GitRepository flux-system/environments: Ready at main@sha1:{MERGED}",
            "Kustomization flux-system/openmcp: not Ready: kustomize build failed: "
            "accumulating resources",
        ),
        "Kustomization flux-system/openmcp: kustomize build failed: accumulating resources",
    ),
    300.0,
    "Kustomization flux-system/openmcp: kustomize build failed: accumulating resources",
)
NOT_BOUND = deploy.refused(
    "dev",
    "kind-dev",
    MERGED,
    "cluster `kind-dev` is not configured for example-org/landscape branch `dev`: the bot's "
    "operators bind clusters to repositories and branches in its settings (`clusters:`)",
)
HAND_EDITS = (
    HandEdit(
        "envs/dev/root-kustomization.yaml", 8, instead("envs/dev/x", ".bootstrap/config.yaml")
    ),
    HandEdit(
        "resources/openmcp/extra/namespace.yaml",
        1,
        instead("resources/openmcp/extra/namespace.yaml", ".bootstrap/config.yaml"),
    ),
)


def _check(report: reports.RenderReport) -> str:
    """A check run as GitHub shows it: the title, the summary, the annotations."""
    notes = "".join(
        f"\n- annotation `{f.path}:{f.line}` ({f.level}): {f.message}" for f in report.findings
    )
    return f"## {report.title}\n\n{report.summary}" + (
        f"\n**Annotations**\n{notes}" if notes else ""
    )


def _tabled(report: deploy.DeployReport | DryRunReport) -> str:
    return f"## {report.title}\n\n{report.summary}\n\n{report.text}"


def _merging(summary: ChangeSummary) -> reports.Merging:
    return reports.Merging("dev", summary)


def _committed() -> reports.RenderReport:
    return reports.render_succeeded(
        ENABLES_PROVIDER, [WARNING], "committed", merging=_merging(ENABLES_PROVIDER)
    )


def _up_to_date() -> reports.RenderReport:
    # the bot's own re-render commit: up to date, and still what merging changes
    return reports.render_succeeded(NOTHING, [], "up-to-date", merging=_merging(ENABLES_PROVIDER))


def _failed() -> reports.RenderReport:
    problems = [Problem("environment: Required value", ".bootstrap/config.yaml", 3, 1)]
    return reports.render_failed("config", problems, [WARNING], go_message="invalid config")


def _status() -> str:
    return replies.status_text(
        landscape=Landscape("dev"),
        commit=MERGED,
        version=replies.status_release("v0.0.2", ROOT),
        render=replies.STATUS_RENDERED,
        proposal=None,
        upgrade=f"Upgrade openMCP dev to v0.0.3: {URL}",
        declined=declined_text(("v0.0.1",)),
        cluster=(
            ("last apply", replies.check_state("completed", "success", READY.title)),
            ("cluster", f"`kind-dev`: Flux has main@sha1:{MERGED}"),
            ("openMCP release deployed", "`v0.0.2` (in git: `v0.0.2`)"),
        ),
    )


TEXTS: dict[str, Callable[[], str]] = {
    "render-check-committed": lambda: _check(_committed()),
    "render-check-bot-commit": lambda: _check(_up_to_date()),
    "render-check-destructive": lambda: _check(
        reports.render_succeeded(UPGRADES, [], "committed", merging=_merging(UPGRADES))
    ),
    "render-check-fork": lambda: _check(
        reports.render_succeeded(
            ENABLES_PROVIDER, [], "not-committed-fork", merging=_merging(ENABLES_PROVIDER)
        )
    ),
    "render-check-nothing": lambda: _check(
        reports.render_succeeded(NOTHING, [], "up-to-date", merging=_merging(NOTHING))
    ),
    "render-check-hand-edited": lambda: _check(reports.render_hand_edited(HAND_EDITS, [])),
    "render-check-untouched": lambda: _check(reports.UNTOUCHED),
    "render-check-failed": lambda: _check(_failed()),
    "render-check-branch-proposed": lambda: _check(
        reports.render_succeeded(ENABLES_PROVIDER, [], "proposed", proposal=URL)
    ),
    "render-comment": lambda: reports.render_comment(
        _up_to_date(), branch="feature", commit=COMMIT
    ),
    "render-comment-hand-edited": lambda: reports.render_comment(
        reports.render_hand_edited(HAND_EDITS, []), branch="feature", commit=COMMIT
    ),
    "render-comment-failed": lambda: reports.render_comment(
        _failed(), branch="feature", commit=COMMIT
    ),
    "rerender-pr-body": lambda: "\n\n".join(
        reports.render_proposal(
            ENABLES_PROVIDER, [WARNING], branch="dev", commit=COMMIT, dry_run=FIRST_INSTALL
        )
    ),
    "upgrade-pr-body": lambda: upgrade_body(
        RECORD, environment="dev", impact=IMPACT, summary=UPGRADES, dry_run=REFUSED
    ),
    "upgrade-pr-body-pinned-downgrade": lambda: upgrade_body(
        UpgradeRecord("dev", "v0.0.2", "v0.0.1", "sha256:abc", pinned=True, downgrade=True),
        environment="dev",
        impact=Impact(Change(ROOT, "v0.0.2", "v0.0.1"), (), (), ()),
        summary=NOTHING,
        dry_run=UNREACHABLE,
    ),
    "upgrade-pr-body-mirrored": lambda: upgrade_body(
        RECORD,
        environment="dev",
        impact=IMPACT,
        summary=UPGRADES,
        mirrored=replies.mirrored("mirror.corp.example/openmcp", 9, 12, 3 * 2**20),
    ),
    "upgrade-declined": lambda: declined_note("v0.0.2", branch_kept=True),
    "dry-run-check-first-install": lambda: _tabled(FIRST_INSTALL),
    "dry-run-check-refused": lambda: _tabled(REFUSED),
    "dry-run-comment": lambda: REFUSED.comment(),
    "deploy-check-ready": lambda: _tabled(READY),
    "deploy-check-flux-failed": lambda: _tabled(FLUX_FAILED),
    "deploy-comment-ready": lambda: READY.comment(),
    "deploy-comment-flux-failed": lambda: FLUX_FAILED.comment(),
    "deploy-comment-not-bound": lambda: NOT_BOUND.comment(),
    "applied-in-pull": lambda: replies.applied(
        READY.comment(), branch="dev", commit=MERGED, pull=7
    ),
    "applied-on-branch": lambda: replies.applied(
        FLUX_FAILED.comment(), branch="dev", commit=MERGED, pull=None
    ),
    "status": _status,
    "plan": lambda: replies.plan_text(UPGRADES, branch="dev", commit=COMMIT, pull=7),
    "plan-nothing": lambda: replies.plan_text(NOTHING, branch="dev", commit=COMMIT, pull=None),
    "rerun-denied": lambda: replies.rerun_denied(
        "bootstrap-bot/deploy", Landscape("prod"), "mallory", "write", "admin"
    ),
    "taken-over": lambda: replies.taken_over(
        "bootstrap-bot/upgrade/dev", [COMMIT], replies.THEN_NEWEST_AGAIN
    ),
    "upgrade-withdrawn": lambda: replies.upgrade_withdrawn(
        replies.nothing_newer("v0.0.2", ["v0.0.3"])
    ),
    "deploy-keys-need-administration": lambda: "\n\n".join(
        reports.failure_texts(replies.DEPLOY_KEYS_NEED_ADMINISTRATION)
    ),
    "rerender-withdrawn": lambda: replies.rerender_withdrawn("dev", COMMIT),
    "upgrade-outcomes": lambda: "\n".join(
        f"- {said}"
        for said in (
            replies.UPGRADES_DISABLED,
            replies.config_does_not_load(".bootstrap/config.yaml", "line 3: bad"),
            replies.location_unreadable("no version"),
            replies.registry_unreadable("HTTP 503"),
            replies.at_version_already("dev", "v0.0.2"),
            replies.nothing_newer("v0.0.2", []),
            replies.cannot_propose("v0.0.3", "dev", "the templates could not be rendered"),
            replies.mirror_failed(
                "v0.0.3", "mirror.corp.example/openmcp", "copying …: manifest unknown"
            ),
            replies.mirrored("mirror.corp.example/openmcp", 0, 0, 0),
        )
    ),
    "status-states": lambda: "\n".join(
        f"- {said}"
        for said in (
            replies.STATUS_RENDERED,
            replies.status_stale(URL),
            replies.status_unrenderable("The bootstrap config is invalid"),
            replies.status_render_unknown("registry.test answered 503"),
            replies.STATUS_NOT_APPLIED,
            replies.STATUS_NO_MIRROR_COPY,
            replies.check_state("queued", None, "Waiting: a service the bot needs is unavailable"),
            replies.check_state("completed", "failure", FLUX_FAILED.title),
        )
    ),
    "mirror-checks": lambda: "\n\n".join(
        f"**{title}**\n\n{summary}"
        for title, summary in (
            replies.mirror_check_texts("v0.0.3", "mirror.corp.example/openmcp", None),
            replies.mirror_check_texts(
                "v0.0.3", "mirror.corp.example/openmcp", "copying …: manifest unknown"
            ),
            replies.mirror_check_texts(
                None,
                "mirror.corp.example/openmcp",
                "bot.mirror: … is not a mirror the bot's "
                "operators list (setting `registry.mirrors`)",
            ),
        )
    ),
    "discovery-check": lambda: _check(
        reports.discovery_report(
            [DiscoveryProblem("unknown key `brnach`", 4, 5)],
            [Landscape("dev"), Landscape("prod", ".bootstrap/prod.yaml")],
            ["prod"],
        )
    ),
}
