"""The landscape renderer: what `openmcp-bootstrapper manage-deployment-repo` writes, as a value.

    needed = directories_needed(config, graph)          # which directory resources to fetch
    rendering = render_landscape(config, graph, directories, extra_manifests, patches)

Pure: the component graph is resolved and the directory resources (template and CRD
resources) are fetched by the caller. The steps follow bootstrapper.md §4.3 to §4.9:

1. lay the fluxcd and openmcp template resources out as `envs/<env>/…` and `resources/…`, and
   add the four generated kustomization files and the extra manifests;
2. build the template input (§4.4), rendering the user kustomization patches first;
3. template every file (`missingkey=zero`, `<no value>` is an error, OCM functions available);
4. render the ClusterProvider, ServiceProvider and PlatformService objects;
5. collect the platform CRDs of the operator and of every provider;
6. append the generated resources to `resources/openmcp/kustomization.yaml`.

The result is the content of the two directories the bot owns, `envs/<env>/` and `resources/`;
a file there that the result does not hold is stale and goes (bootstrapper.md §9 items 4, 5).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.core.config import CONFIG_PATH, BootstrapConfig, Provider
from bot.core.failures import Failure
from bot.core.fileset import FileSet, PathError, normalize
from bot.core.kustomization import KustomizationError, rewrite_resources
from bot.core.ocm_functions import OcmFunctions
from bot.core.problems import Problem
from bot.core.provider_templates import PROVIDER_KINDS, provider_template
from bot.core.suggest import not_there
from bot.golang import sigsyaml
from bot.golang.yamlv2 import YamlError, decode_first_document, to_plain
from bot.gotemplate import Limits, NoValueError, TemplateError, render, render_bootstrapper_file
from bot.gotemplate.bootstrapper import from_yaml, parse_image
from bot.gotemplate.functions import FuncError
from bot.ocm.graph import ComponentGraph, GraphError
from bot.ocm.model import ComponentVersion

EXTRA_MANIFESTS_DIR = ".bootstrap/extra-manifests"
PATCHES_FILE = ".bootstrap/kustomization-patches.yaml"
OPENMCP_KUSTOMIZATION = "resources/openmcp/kustomization.yaml"
CRDS_DIR = "resources/openmcp/crds"
FLUX_IMAGES = {
    "sourceController": "fluxcd-source-controller",
    "kustomizeController": "fluxcd-kustomize-controller",
    "helmController": "fluxcd-helm-controller",
    "notificationController": "fluxcd-notification-controller",
    "imageReflectorController": "fluxcd-image-reflector-controller",
    "imageAutomationController": "fluxcd-image-automation-controller",
}
PLATFORM_LABEL = "openmcp.cloud/cluster"
_TEMPLATE_POSITION = re.compile(r"^template: [^\n]*?:(\d+)(?::(\d+))?:")
_NO_VALUE_POSITION = re.compile(r"^line (\d+):(\d+)$", re.MULTILINE)


# --- results and failures -----------------------------------------------------------------------


class RenderError(Failure):
    """The landscape cannot be rendered; `problems` lists every reason found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def _failure(message: str, file: str = "") -> RenderError:
    return RenderError([Problem(message, file=file)])


class NeedsVersionLists(Exception):
    """A template called `listComponentVersions`: fetch these components' versions, render
    again with them in `version_lists`."""

    def __init__(self, components: set[str]) -> None:
        self.components = sorted(components)
        super().__init__(", ".join(self.components))


@dataclass(frozen=True)
class Rendering:
    files: FileSet
    #: the directories whose whole content `files` is (the bot removes anything else there)
    owned: tuple[str, ...]
    #: things the Go tool only logs: missing optional CRDs, failed OCM lookups, unknown keys
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class DirectoryResource:
    """A directory resource (a tar of files) of one component version."""

    component: str
    version: str
    resource: str
    #: False for provider CRDs: many providers have none, which is only a note
    required: bool = True

    @property
    def key(self) -> tuple[str, str, str]:
        return self.component, self.version, self.resource

    def __str__(self) -> str:
        return f"resource {self.resource} of {self.component}:{self.version}"


# --- which directory resources a render needs ---------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    fluxcd: DirectoryResource
    openmcp: DirectoryResource
    operator: ComponentVersion
    flux_images: ComponentVersion
    #: (folder, provider name, config, component version) in the Go tool's order
    providers: tuple[tuple[str, str, Mapping[str, Any] | None, ComponentVersion], ...]
    crds: tuple[DirectoryResource, ...]


def _exactly_one(found: list[ComponentVersion], message: str) -> ComponentVersion:
    if len(found) != 1:
        raise GraphError(message.format(n=len(found)))
    return found[0]


def _template_resource(graph: ComponentGraph, path: str, *, exactly_one: bool) -> DirectoryResource:
    """`ref1/…/refN/resource` from the root. The fluxcd path goes through the Go tool's
    InitializeComponents, which wants exactly one component version per reference."""
    *references, name = path.strip().split("/")
    current = graph.root
    for reference in references:
        found = graph.by_reference(reference, current)
        if exactly_one and len(found) != 1:
            raise GraphError(
                f"expected exactly one component version for reference {reference}, "
                f"got {len(found)}"
            )
        current = found[0]
    if current.resource(name) is None:
        raise GraphError(
            f"resource {name} not found in component version {current.name}:{current.version}"
        )
    return DirectoryResource(current.name, current.version, name)


def _crds_of(cv: ComponentVersion, *, required: bool) -> DirectoryResource:
    if "/" not in cv.name:
        raise GraphError(f"cannot derive the CRD resource name of component {cv.name}: no '/'")
    return DirectoryResource(cv.name, cv.version, f"{cv.name.rsplit('/', 1)[1]}-crds", required)


def _plan(config: BootstrapConfig, graph: ComponentGraph) -> _Plan:
    try:
        fluxcd = _template_resource(
            graph, config.component.fluxcd_template_resource_path, exactly_one=True
        )
        openmcp = _template_resource(
            graph, config.component.openmcp_operator_template_resource_path, exactly_one=False
        )
        operator = _exactly_one(
            graph.by_reference("openmcp-operator"),
            "expected exactly one openmcp-operator component version, got {n}",
        )
        flux_images = _exactly_one(
            graph.for_resource(FLUX_IMAGES["sourceController"]),
            "expected exactly one fluxcd component version with resource "
            "fluxcd-source-controller, got {n}",
        )
        providers = []
        for folder, reference_prefix, entries in (
            ("cluster-providers", "cluster-provider", config.providers.cluster_providers),
            ("service-providers", "service-provider", config.providers.service_providers),
            ("platform-services", "platform-service", config.providers.platform_services),
        ):
            for entry in entries:
                try:
                    found = graph.by_reference(f"{reference_prefix}-{entry.name}")
                except GraphError:
                    raise _unknown_provider(graph, reference_prefix, entry) from None
                cv = _exactly_one(
                    found,
                    f"expected exactly one component version for {reference_prefix}-{entry.name}, "
                    "got {n}",
                )
                providers.append((folder, entry.name, entry.config, cv))
        crds = (
            _crds_of(operator, required=True),
            *(_crds_of(cv, required=False) for *_, cv in providers),
        )
    except GraphError as err:
        raise _failure(str(err), file=CONFIG_PATH) from None
    return _Plan(fluxcd, openmcp, operator, flux_images, tuple(providers), crds)


def _unknown_provider(graph: ComponentGraph, prefix: str, entry: Provider) -> RenderError:
    """A provider the release does not ship, at its name in the config, with those it does."""
    names = sorted(
        {
            r.name.removeprefix(f"{prefix}-")
            for cv in graph.versions.values()
            for r in cv.references
            if r.name.startswith(f"{prefix}-")
        }
    )
    noun = prefix.replace("-", " ")
    said = not_there(noun, entry.name, f"release {graph.root.name}:{graph.root.version}", names)
    return RenderError([Problem.at("error", said, CONFIG_PATH, entry.mark)])


def directories_needed(config: BootstrapConfig, graph: ComponentGraph) -> list[DirectoryResource]:
    """The directory resources `render_landscape` will read: both template resources, then the
    CRD resources of the operator and of every configured provider."""
    plan = _plan(config, graph)
    return [plan.fluxcd, plan.openmcp, *plan.crds]


# --- the steps ----------------------------------------------------------------------------------


def _generated_files(env: str) -> dict[str, bytes]:
    """The four kustomization files the Go tool writes itself (bootstrapper.md §4.3)."""
    kustomize = "kustomize.config.k8s.io/v1beta1"
    flux = "kustomize.toolkit.fluxcd.io/v1"
    documents: dict[str, Any] = {
        f"envs/{env}/kustomization.yaml": {
            "apiVersion": kustomize,
            "kind": "Kustomization",
            "patches": [{"path": "root-kustomization.yaml"}],
            "resources": ["../../resources", "openmcp"],
        },
        f"envs/{env}/root-kustomization.yaml": {
            "apiVersion": flux,
            "kind": "Kustomization",
            "metadata": {"name": "bootstrap", "namespace": "default"},
            "spec": {"path": f"./envs/{env}"},
        },
        "resources/kustomization.yaml": {
            "apiVersion": kustomize,
            "kind": "Kustomization",
            "resources": ["root-kustomization.yaml"],
        },
        "resources/root-kustomization.yaml": {
            "apiVersion": flux,
            "kind": "Kustomization",
            "metadata": {
                "annotations": {"kustomize.toolkit.fluxcd.io/prune": "disabled"},
                "name": "bootstrap",
                "namespace": "default",
            },
            "spec": {
                "dependsOn": [{"name": "flux-system", "namespace": "flux-system"}],
                "interval": "10m0s",
                "path": "<templated>",
                "prune": True,
                "sourceRef": {
                    "kind": "GitRepository",
                    "name": "environments",
                    "namespace": "flux-system",
                },
            },
            "status": {},
        },
    }
    return {path: sigsyaml.marshal(doc).encode() for path, doc in documents.items()}


def _layout(
    env: str, fluxcd: FileSet, openmcp: FileSet, plan: _Plan
) -> tuple[dict[str, bytes], dict[str, str]]:
    """The template tree (§4.3) and, for every file, where it came from."""
    files: dict[str, bytes] = {}
    origins: dict[str, str] = {}
    problems = []
    trees = ((plan.fluxcd, fluxcd, "fluxcd"), (plan.openmcp, openmcp, "openmcp"))
    for resource, content, tree in trees:
        for source, target in (
            ("templates/overlays", f"envs/{env}/{tree}"),
            ("templates/resources", f"resources/{tree}"),
        ):
            if not content.has_directory(source):
                problems.append(Problem(f"{resource} has no directory {source}"))
                continue
            for path, data in content.under(source).items():
                files[f"{target}/{path}"] = data
                origins[f"{target}/{path}"] = f"{resource}: {source}/{path}"
    if problems:
        raise RenderError(problems)
    for path, data in _generated_files(env).items():
        files[path] = data
        origins[path] = "generated"
    return files, origins


def _image(cv: ComponentVersion, resource_name: str) -> dict[str, str]:
    resource = cv.resource(resource_name)
    if resource is None:
        raise _failure(
            f"resource {resource_name} not found in component version {cv.name}:{cv.version}"
        )
    parsed = parse_image(str(resource.access.get("imageReference") or ""))
    if not parsed:
        raise _failure(f"image reference of {resource_name} in {cv.name}:{cv.version} is empty")
    return {"version": parsed["tag"], **parsed}


def _template_input(config: BootstrapConfig, plan: _Plan) -> dict[str, Any]:
    """`.Values` as bootstrapper.md §4.4 lists it (images are added after the user patches)."""
    operator_images = plan.operator.resources_of_type("ociImage")
    reference = operator_images[0].access.get("imageReference") if operator_images else None
    if reference is None:
        raise _failure(
            "no image resource found for openmcp-operator component version "
            f"{plan.operator.name}:{plan.operator.version}"
        )
    env = config.environment
    secrets = list(config.image_pull_secrets)
    values: dict[str, Any] = {
        "openmcpOperator": {
            "version": plan.operator.version,
            **parse_image(str(reference)),
            "imagePullSecrets": secrets or None,
            "environment": env,
            "config": config.openmcp_operator_config,
        },
        "user": config.template_input,
        "fluxCDEnvPath": f"./envs/{env}/fluxcd",
        "fluxCDResourcesPath": "../../../resources/fluxcd",
        "openMCPResourcesPath": "../../../resources/openmcp",
        "git": {
            "repoUrl": config.repository.url,
            "pushBranch": config.repository.push_branch,
            "pullBranch": config.repository.pull_branch,
            "provider": config.repository.provider,
        },
        "images": {},
    }
    if secrets:
        values["imagePullSecrets"] = [{"name": s} for s in secrets]
    return values


def _values(
    config: BootstrapConfig,
    plan: _Plan,
    patches: str | None,
    ocm: OcmFunctions,
    limits: Limits | None = None,
) -> dict[str, Any]:
    """The whole `.Values`; the user patches see it before the flux images are added."""
    values = _template_input(config, plan)
    if patches is not None:
        values["userKustomizationPatches"] = _user_patches(patches, values, ocm, limits)
    values["images"] = {key: _image(plan.flux_images, name) for key, name in FLUX_IMAGES.items()}
    return values


def template_values(
    config: BootstrapConfig, graph: ComponentGraph, patches: str | None, ocm: OcmFunctions
) -> dict[str, Any]:
    """`.Values` as every template of this landscape sees it (bootstrapper.md §4.4)."""
    return _values(config, _plan(config, graph), patches, ocm)


def _template_problem(err: TemplateError, file: str, origin: str) -> Problem:
    """A template failure, located in the file the user can change when there is one (an extra
    manifest, the patches file), else in the output file with the template it came from."""
    if isinstance(err, NoValueError) and err.sites:
        return _no_value_problem(err, file, origin)
    line = column = 0
    found = _TEMPLATE_POSITION.match(err.message) or _NO_VALUE_POSITION.search(err.message)
    if found:
        line = int(found.group(1))
        column = int(found.group(2) or 0)
    message = err.message
    if origin.startswith(".bootstrap/"):
        file = origin
    elif origin and origin != file:
        message += f" (from {origin})"
    return Problem(message, file=file, line=line, column=column, detail=err.excerpt)


_VALUES_PATH = re.compile(r"\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)")
#: where in the bootstrap config a `.Values` path comes from (bootstrapper.md §4.4)
_CONFIG_KEYS = (("user.", "templateInput."), ("openmcpOperator.config.", "openmcpOperator.config."))


def _no_value_problem(err: NoValueError, file: str, origin: str) -> Problem:
    """`{{ .Values.user.x }}` printed nothing: said at that action in the template (the file
    the user can change, or the generated file with the template it came from), with the
    config key it reads when it reads one; Go's own message is the detail."""
    where, action = err.sites[0]
    _, line, column = where.rsplit(":", 2)
    said = f"`{action}` gives no value"
    path = _VALUES_PATH.search(action)
    key = path.group(1).removeprefix(".") if path else ""
    for prefix, config_key in _CONFIG_KEYS:
        if key.startswith(prefix):
            said += f": `{config_key}{key.removeprefix(prefix)}` is not set in the bootstrap config"
            break
    else:
        if path:
            said += f": `.Values.{key}` is none of the values the render provides"
    if len(err.sites) > 1:
        said += f" (and {len(err.sites) - 1} more actions in this file)"
    if origin and origin != file and not origin.startswith(".bootstrap/"):
        said += f" (the release's template, rendered to {file})"
    place = origin or file  # the line and column are the template's
    return Problem(said, file=place, line=int(line), column=int(column) + 1, detail=err.detail)


def _user_patches(
    text: str, values: dict[str, Any], ocm: OcmFunctions, limits: Limits | None
) -> list[Any]:
    try:
        rendered = render_bootstrapper_file(
            text, {"Values": values}, name=PATCHES_FILE, funcs=ocm.table(), limits=limits
        )
        document = from_yaml(rendered)
    except TemplateError as err:
        raise RenderError([_template_problem(err, PATCHES_FILE, PATCHES_FILE)]) from None
    except FuncError as err:
        raise _failure(f"rendered patches: {err}", file=PATCHES_FILE) from None
    patches = document.get("patches") if isinstance(document, dict) else None
    if patches is None:
        raise _failure(f"no patches found in user patches file {PATCHES_FILE}", file=PATCHES_FILE)
    return patches if isinstance(patches, list) else [patches]


def _decode(data: bytes) -> str:
    # Go templates bytes; bytes that are not UTF-8 pass through untouched.
    return data.decode("utf-8", errors="surrogateescape")


def _encode(text: str) -> bytes:
    return text.encode("utf-8", errors="surrogateescape")


def _template_all(
    files: Mapping[str, bytes],
    origins: Mapping[str, str],
    values: dict[str, Any],
    ocm: OcmFunctions,
    limits: Limits,
) -> dict[str, bytes]:
    """TemplateDir: every file, in lexical order; all failures are collected, not just one."""
    out: dict[str, bytes] = {}
    problems = []
    funcs = ocm.table()
    for path in sorted(files, key=str.encode):
        origin = origins.get(path, "")
        # Go names templates by their temporary path; the user's own file is the better name.
        name = origin if origin.startswith(".bootstrap/") else path
        try:
            text = render_bootstrapper_file(
                _decode(files[path]), {"Values": values}, name=name, funcs=funcs, limits=limits
            )
        except TemplateError as err:
            problems.append(_template_problem(err, path, origin))
            continue
        out[path] = _encode(text)
    if problems:
        raise RenderError(problems)
    return out


def _providers(config: BootstrapConfig, plan: _Plan) -> tuple[dict[str, bytes], list[str]]:
    """The ClusterProvider, ServiceProvider and PlatformService objects (§4.6)."""
    files: dict[str, bytes] = {}
    listed = []
    secrets = list(config.image_pull_secrets) or None
    for folder, name, provider_config, cv in plan.providers:
        images = cv.resources_of_type("ociImage")
        if not images:
            raise _failure(f"image resource not found for component {cv.name}", file=CONFIG_PATH)
        data = {
            "values": {
                "name": name,
                "image": {
                    "location": images[0].access.get("imageReference") or "",
                    "imagePullSecrets": secrets,
                },
                "config": provider_config,
            }
        }
        path = f"resources/openmcp/{folder}/{name}.yaml"
        try:
            text = render(
                provider_template(PROVIDER_KINDS[folder]), data, name=path, missingkey="error"
            )
        except TemplateError as err:
            raise _failure(err.message, file=CONFIG_PATH) from None
        files[path] = _encode(text)
        listed.append(f"{folder}/{name}.yaml")
    return files, listed


def _crds(
    templated: Mapping[str, bytes], plan: _Plan, directories: Mapping[tuple[str, str, str], FileSet]
) -> tuple[dict[str, bytes], list[str], list[str]]:
    """The CRD directory (§4.7): every CRD resource unpacked into it, then only the top-level
    YAML files labelled for the platform cluster are kept and listed."""
    notes = []
    content: dict[str, bytes] = {
        p.removeprefix(CRDS_DIR + "/"): d
        for p, d in templated.items()
        if p.startswith(CRDS_DIR + "/")
    }
    for wanted in plan.crds:
        if wanted.key in directories:
            content.update(directories[wanted.key])
        elif wanted.required:
            raise _failure(f"{wanted} was not provided")
        else:
            notes.append(f"no CRDs: {wanted} does not exist")
    listed = []
    kept: dict[str, bytes] = {}
    for name in sorted(content, key=str.encode):
        top_level_yaml = "/" not in name and name.endswith((".yaml", ".yml"))
        if not top_level_yaml:
            kept[name] = content[name]
            continue
        try:
            document = to_plain(decode_first_document(_decode(content[name])))
        except YamlError as err:
            raise _failure(
                f"cannot parse CRD file: {err.message}", file=f"{CRDS_DIR}/{name}"
            ) from None
        if not isinstance(document, dict) or not document.get("kind"):
            raise _failure("Object 'Kind' is missing", file=f"{CRDS_DIR}/{name}")
        labels = (document.get("metadata") or {}).get("labels") or {}
        if isinstance(labels, dict) and labels.get(PLATFORM_LABEL) == "platform":
            kept[name] = content[name]
            listed.append(f"crds/{name}")
    return {f"{CRDS_DIR}/{n}": d for n, d in kept.items()}, listed, notes


def _check_environment(env: str) -> None:
    try:
        if normalize(env) != env:
            raise PathError(env)
    except PathError:
        raise _failure(
            f"environment {env!r} cannot be a directory name under envs/",
            file=CONFIG_PATH,
        ) from None


# --- the whole render -----------------------------------------------------------------------------


def render_landscape(
    config: BootstrapConfig,
    graph: ComponentGraph,
    directories: Mapping[tuple[str, str, str], FileSet],
    extra_manifests: FileSet | None = None,
    patches: str | None = None,
    *,
    version_lists: Mapping[str, Sequence[str]] | None = None,
) -> Rendering:
    """The content of `envs/<env>/` and `resources/` for this config and component graph.

    `directories` holds the directory resources `directories_needed` listed, by (component,
    version, resource). `extra_manifests` is the content of `.bootstrap/extra-manifests/`,
    `patches` the text of `.bootstrap/kustomization-patches.yaml`. Raises RenderError with every
    problem found, or NeedsVersionLists when a template lists versions not passed in.
    """
    env = config.environment
    _check_environment(env)
    plan = _plan(config, graph)
    missing = [str(d) for d in (plan.fluxcd, plan.openmcp) if d.key not in directories]
    if missing:
        raise RenderError([Problem(f"{m} was not provided") for m in missing])
    files, origins = _layout(env, directories[plan.fluxcd.key], directories[plan.openmcp.key], plan)

    # 2. The template input.
    ocm = OcmFunctions(graph, config.component.repository, version_lists)
    limits = Limits.shared()  # every template of the render spends one budget of steps
    values = _values(config, plan, patches, ocm, limits)
    extras = extra_manifests or FileSet()
    for path, data in extras.items():
        files[f"resources/openmcp/extra/{path}"] = data
        origins[f"resources/openmcp/extra/{path}"] = f"{EXTRA_MANIFESTS_DIR}/{path}"

    # 3. Template every file.
    templated = _template_all(files, origins, values, ocm, limits)
    if ocm.missing_version_lists:
        raise NeedsVersionLists(ocm.missing_version_lists)

    # 4. and 5. Providers and CRDs.
    provider_files, provider_resources = _providers(config, plan)
    crd_files, crd_resources, crd_notes = _crds(templated, plan, directories)
    output = {p: d for p, d in templated.items() if not p.startswith(CRDS_DIR + "/")}
    output.update(provider_files)
    output.update(crd_files)

    # 6. The resources list of the openmcp kustomization.
    if OPENMCP_KUSTOMIZATION not in output:
        raise _failure(f"{plan.openmcp} has no templates/resources/kustomization.yaml")
    extra_resources = [
        f"extra/{name}" for name in extras.top_level_files() if name.endswith((".yaml", ".yml"))
    ]
    try:
        text, warnings = rewrite_resources(
            _decode(output[OPENMCP_KUSTOMIZATION]),
            [*crd_resources, *provider_resources, *extra_resources],
            file=OPENMCP_KUSTOMIZATION,
        )
    except KustomizationError as err:
        raise RenderError(
            [Problem(p.message, file=p.file, line=p.line, column=p.column) for p in err.problems]
        ) from None
    output[OPENMCP_KUSTOMIZATION] = _encode(text)
    notes = [*ocm.notes, *crd_notes, *(str(w) for w in warnings)]
    return Rendering(FileSet(output), owned=(f"envs/{env}", "resources"), notes=tuple(notes))


@dataclass(frozen=True)
class LandscapeSources:
    """What a landscape branch holds for the renderer besides the config."""

    extra_manifests: FileSet = field(default_factory=FileSet)
    patches: str | None = None


def landscape_sources(tree: FileSet) -> LandscapeSources:
    """`.bootstrap/extra-manifests/` and `.bootstrap/kustomization-patches.yaml` of a branch."""
    patches = tree.get(PATCHES_FILE)
    return LandscapeSources(
        extra_manifests=tree.under(EXTRA_MANIFESTS_DIR),
        patches=_decode(patches) if patches is not None else None,
    )
