"""`bootstrap-bot render` end to end: the reference graph built with `bootstrap-bot ocm build`
into the real registry and into a CTF, rendered into a landscape directory, compared with the
Go tool's expected repository, and checked with the real kustomize."""

from __future__ import annotations

import hashlib
import json
import shutil
import tarfile
from pathlib import Path

import pytest
import yaml

from bot.cli.main import main
from bot.cli.render import read_tree
from bot.core.fileset import FileSet
from tests.reference_case import (
    CASE,
    ROOT_COMPONENT,
    config_text,
    expected_tree,
    landscape_tree,
)

pytestmark = pytest.mark.peers

ROOT_DIR = Path(__file__).parents[3]
EXAMPLES = ROOT_DIR / "examples"
CONSTRUCTOR = CASE / "component-constructor.yaml"


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write(root: Path, files: FileSet) -> Path:
    for path, data in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)
    return root


@pytest.fixture(params=["registry", "ctf"])
def repository(request, tmp_path, capsys) -> tuple[str, list[str]]:
    """The reference graph, built by `bootstrap-bot ocm build`; returns the repository as the
    config names it and the options to reach it."""
    if request.param == "ctf":
        repository, options = str(tmp_path / "ctf"), []
    else:
        registry = request.getfixturevalue("oci_registry")
        prefix = f"render-{hashlib.sha256(str(tmp_path).encode()).hexdigest()[:8]}"
        # No scheme: the Go tool splits the location at the first `//`.
        repository, options = f"{registry.host}/{prefix}", ["--plain-http-loopback"]
    code, _, err = cli(capsys, "ocm", "build", str(CONSTRUCTOR), "--to", repository, *options)
    assert code == 0, err
    return repository, options


@pytest.fixture
def landscape(tmp_path, repository) -> Path:
    location = f"{repository[0]}//{ROOT_COMPONENT}:v0.0.1"
    return write(tmp_path / "landscape", landscape_tree(config_text(location)))


def test_reference_case_renders_byte_identical_to_the_go_tool(capsys, landscape, repository):
    code, out, err = cli(capsys, "render", "--repo", str(landscape), *repository[1])
    assert code == 0, err
    rendered = {p: d for p, d in read_tree(landscape).items() if not p.startswith(".bootstrap/")}
    expected = expected_tree(repository[0])
    assert sorted(rendered) == sorted(expected)
    for path, data in expected.items():
        assert rendered[path] == data, path
    assert "Files: 23 added, 0 changed, 0 removed." in out
    assert "  + Kustomization default/bootstrap (kustomize.toolkit.fluxcd.io/v1)" in out


def test_rerendering_an_up_to_date_tree_changes_nothing(capsys, landscape, repository):
    assert cli(capsys, "render", "--repo", str(landscape), *repository[1])[0] == 0
    before = read_tree(landscape)
    code, out, _ = cli(capsys, "render", "--repo", str(landscape), "--check", *repository[1])
    assert (code, out) == (0, "The rendered manifests are up to date.\n")
    assert cli(capsys, "render", "--repo", str(landscape), *repository[1])[0] == 0
    assert read_tree(landscape) == before


def test_removing_a_provider_removes_its_file_and_entry(capsys, landscape, repository):
    options = repository[1]
    assert cli(capsys, "render", "--repo", str(landscape), *options)[0] == 0
    config = landscape / ".bootstrap/config.yaml"
    config.write_text(config.read_text().replace("  serviceProviders:\n    - name: test\n", ""))

    code, out, _ = cli(capsys, "render", "--repo", str(landscape), "--check", "--diff", *options)
    assert code == 1  # out of date, and --check wrote nothing
    assert (landscape / "resources/openmcp/service-providers/test.yaml").exists()
    assert "  - resources/openmcp/service-providers/test.yaml" in out
    assert "  - ServiceProvider test (openmcp.cloud/v1alpha1)" in out
    assert "--- a/resources/openmcp/service-providers/test.yaml\n+++ /dev/null" in out
    assert "-- service-providers/test.yaml\n" in out  # the kustomization entry, in the diff

    assert cli(capsys, "render", "--repo", str(landscape), *options)[0] == 0
    assert not (landscape / "resources/openmcp/service-providers").exists()
    kustomization = yaml.safe_load((landscape / "resources/openmcp/kustomization.yaml").read_text())
    assert "service-providers/test.yaml" not in kustomization["resources"]


def test_stale_files_in_owned_directories_go_and_others_stay(capsys, landscape, repository):
    (landscape / "resources/openmcp/old-template.yaml").parent.mkdir(parents=True)
    (landscape / "resources/openmcp/old-template.yaml").write_text("kind: Stale\n")
    (landscape / "envs/prod").mkdir(parents=True)
    (landscape / "envs/prod/keep.yaml").write_text("another environment's file\n")
    (landscape / "README.md").write_text("mine\n")
    code, out, _ = cli(capsys, "render", "--repo", str(landscape), *repository[1])
    assert code == 0 and "  - resources/openmcp/old-template.yaml" in out
    assert not (landscape / "resources/openmcp/old-template.yaml").exists()
    assert (landscape / "envs/prod/keep.yaml").exists() and (landscape / "README.md").exists()


def snapshot(root: Path) -> dict[str, bytes]:
    return dict(read_tree(root))


def test_a_config_error_leaves_the_directory_untouched(capsys, landscape, repository):
    assert cli(capsys, "render", "--repo", str(landscape), *repository[1])[0] == 0
    config = landscape / ".bootstrap/config.yaml"
    config.write_text(config.read_text().replace("environment: dev", "environment: {name: dev}"))
    before = snapshot(landscape)
    code, out, err = cli(capsys, "render", "--repo", str(landscape), *repository[1])
    assert code == 1 and out == ""
    assert ".bootstrap/config.yaml:9:14: error: environment: expected a string, got a map" in err
    assert "    openmcp-bootstrapper: json: cannot unmarshal object into Go struct field " in err
    assert "nothing written" in err
    assert snapshot(landscape) == before


def test_a_template_error_names_the_file_and_line_and_writes_nothing(capsys, landscape, repository):
    extra = landscape / ".bootstrap/extra-manifests/info.yaml"
    extra.write_text("kind: ConfigMap\ndata:\n  x: {{ .Values.user.missing }}\n")
    before = snapshot(landscape)
    code, _, err = cli(capsys, "render", "--repo", str(landscape), *repository[1])
    assert code == 1
    assert f"{landscape}/.bootstrap/extra-manifests/info.yaml:3:9: error: " in err
    assert "`{{.Values.user.missing}}` gives no value: `templateInput.missing` is not set" in err
    assert 'contains fields with "no value"' in err  # Go's message, below it
    assert snapshot(landscape) == before


def test_a_render_kustomize_cannot_build_fails_with_kustomizes_error(capsys, landscape, repository):
    patches = landscape / ".bootstrap/kustomization-patches.yaml"
    patches.write_text("patches:\n- path: does-not-exist.yaml\n")
    before = snapshot(landscape)
    code, _, err = cli(capsys, "render", "--repo", str(landscape), *repository[1])
    assert code == 1
    assert "error: kustomize build envs/dev: " in err and "does-not-exist.yaml" in err
    assert "/tmp/" not in err.split("kustomize build", 1)[1].split("\n", 1)[0]
    assert snapshot(landscape) == before


def test_an_unknown_component_version_is_an_ocm_failure(capsys, tmp_path, repository):
    location = f"{repository[0]}//{ROOT_COMPONENT}:v9.9.9"
    landscape = write(tmp_path / "l", landscape_tree(config_text(location)))
    code, _, err = cli(capsys, "render", "--repo", str(landscape), *repository[1])
    assert code == 1 and "error: version `v9.9.9` is not in " in err
    assert "available: `v0.0.1`" in err  # from the registry's tag list, or the archive's index


# --- the bundled example ------------------------------------------------------------------------


def test_the_example_renders_and_builds_with_kustomize(capsys, tmp_path):
    demo = tmp_path / "demo"
    shutil.copytree(EXAMPLES, demo)
    code, out, err = cli(capsys, "render", "--repo", str(demo / "landscape"))
    assert code == 0, err
    assert "  + ConfigMap openmcp-system/landscape-info (v1)" in out
    assert "  + Kustomization flux-system/flux-system (kustomize.toolkit.fluxcd.io/v1)" in out
    info = (demo / "landscape/resources/openmcp/extra/landscape-info.yaml").read_text()
    assert 'openmcp: "v0.0.1"' in info and "    - v0.0.1\n    - v0.0.2\n" in info
    overlay = (demo / "landscape/envs/dev/openmcp/kustomization.yaml").read_text()
    assert "value: platform-team" in overlay  # the example's kustomization patch
    assert cli(capsys, "render", "--repo", str(demo / "landscape"), "--check")[0] == 0


def test_the_bundled_component_archive_is_the_reference_graph(capsys, tmp_path):
    """examples/openmcp.ctf.tgz holds exactly what `ocm build` makes of the reference inputs
    and of the example's second release."""
    for constructor in (CONSTRUCTOR, EXAMPLES / "releases" / "openmcp-v0.0.2.yaml"):
        assert cli(capsys, "ocm", "build", str(constructor), "--to", str(tmp_path / "ctf"))[0] == 0
    fresh = {
        p.relative_to(tmp_path / "ctf").as_posix(): p.read_bytes()
        for p in (tmp_path / "ctf").rglob("*")
        if p.is_file()
    }
    with tarfile.open(EXAMPLES / "openmcp.ctf.tgz") as archive:
        bundled = {
            m.name.removeprefix("./"): archive.extractfile(m).read()  # type: ignore[union-attr]
            for m in archive.getmembers()
            if m.isfile()
        }
    assert bundled == fresh, "run `make example-ctf` and commit examples/openmcp.ctf.tgz"


@pytest.mark.parametrize("linked", ["resources", "envs", "envs/dev/kustomization.yaml"])
def test_render_never_writes_through_a_symlink(capsys, landscape, repository, tmp_path, linked):
    outside = tmp_path / "outside"
    outside.mkdir()
    target = landscape / linked
    target.parent.mkdir(parents=True, exist_ok=True)
    if linked.endswith(".yaml"):
        (outside / "victim.yaml").write_text("mine\n")
        target.symlink_to(outside / "victim.yaml")
    else:
        target.symlink_to(outside, target_is_directory=True)
    before = read_tree(landscape)

    code, _, err = cli(capsys, "render", "--repo", str(landscape), *repository[1])

    assert code == 1
    assert f"{linked.split('/')[0] if not linked.endswith('.yaml') else linked} is a symlink" in err
    assert "nothing written" in err
    assert read_tree(landscape) == before
    assert sorted(p.name for p in outside.iterdir()) == (
        ["victim.yaml"] if linked.endswith(".yaml") else []
    )
    if linked.endswith(".yaml"):
        assert (outside / "victim.yaml").read_text() == "mine\n"


def test_a_render_larger_than_a_branch_may_hold_writes_nothing(
    capsys, landscape, repository, monkeypatch
):
    extra = landscape / ".bootstrap/extra-manifests/big.yaml"
    extra.write_text("kind: ConfigMap\ndata:\n  x: " + "y" * 1_200_000 + "\n")
    monkeypatch.setattr("bot.core.fileset.MAX_TOTAL_BYTES", 2 * 1024 * 1024)
    before = snapshot(landscape)
    code, _, err = cli(capsys, "render", "--repo", str(landscape), *repository[1])
    assert code == 1
    assert "error: the rendered branch: more than 2 MiB in all; at most that much is read" in err
    assert snapshot(landscape) == before


def test_the_example_previews_what_the_app_would_post_about_its_next_release(capsys, tmp_path):
    demo = tmp_path / "demo"
    shutil.copytree(EXAMPLES, demo)
    assert cli(capsys, "render", "--repo", str(demo / "landscape"), "-q")[0] == 0
    code, out, err = cli(
        capsys, "preview", "--repo", str(demo / "landscape"), "--out", str(demo / "app")
    )
    assert code == 0, err
    assert out.startswith("Upgrade openMCP dev to v0.0.2: v0.0.1 → v0.0.2\n")
    body = (demo / "app/upgrade-pr-body.md").read_text()
    assert body.startswith("**Upgrades `incoming`: `v0.0.1` → [`v0.0.2`](")
    assert "| `ghcr.io/fluxcd/source-controller` | `v1.6.2` | `v1.7.0` |" in body
    check = (demo / "app/render-check.md").read_text()
    assert check.startswith("## Merging into incoming: ") and "Deployment `flux-system/" in check
    page = (demo / "app/upgrade-pr-body.html").read_text()
    assert "<table>" in page and "<th>component</th>" in page
    assert (demo / "app/pr-comment.md").read_text().startswith("### ✅ bootstrap-bot render: ")
    # the landscape is untouched: a preview never writes there
    assert cli(capsys, "render", "--repo", str(demo / "landscape"), "--check")[0] == 0


def test_a_landscape_wanting_eso_from_a_release_without_it_fails_at_the_location(
    capsys, landscape, repository
):
    config = landscape / ".bootstrap/config.yaml"
    config.write_text(config.read_text() + "bot:\n  eso: true\n")
    before = snapshot(landscape)
    code, _, err = cli(capsys, "render", "--repo", str(landscape), *repository[1])
    assert code == 1
    line = next(n for n, t in enumerate(config.read_text().splitlines(), 1) if "location:" in t)
    assert (
        f".bootstrap/config.yaml:{line}:13: error: failed to get external-secrets-operator-" in err
    )
    assert "not found in component version github.com/openmcp-project/openmcp" in err
    assert snapshot(landscape) == before
    code, _, err = cli(capsys, "eso", "--repo", str(landscape), *repository[1])
    assert code == 1 and f".bootstrap/config.yaml:{line}:13: error: failed to get" in err


def test_eso_prints_the_objects_of_a_landscape_that_wants_it(capsys, tmp_path, eso_release):
    location = f"{eso_release}//{ROOT_COMPONENT}:v0.0.2"
    text = config_text(location) + "externalSecrets:\n  imagePullSecrets: [{name: pull}]\n"
    landscape = write(tmp_path / "l", landscape_tree(text))
    code, out, err = cli(capsys, "eso", "--repo", str(landscape), "--plain-http-loopback")
    assert code == 0, err
    source, release = yaml.safe_load_all(out)
    assert source["spec"]["ref"]["tag"] == "external-secrets-v2.0.0"
    assert release["spec"]["values"]["imagePullSecrets"] == [{"name": "pull"}]
    code, out, _ = cli(
        capsys, "eso", "--repo", str(landscape), "--plain-http-loopback", "-o", "json"
    )
    assert code == 0 and [o["kind"] for o in json.loads(out)] == ["OCIRepository", "HelmRelease"]
    # a landscape without externalSecrets wants none, and is told so
    plain = write(tmp_path / "p", landscape_tree(config_text(location)))
    code, out, err = cli(capsys, "eso", "--repo", str(plain), "--plain-http-loopback")
    assert (code, out) == (0, "") and "wants no External Secrets Operator" in err
