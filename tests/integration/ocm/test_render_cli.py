"""`bootstrap-bot render` and `ocm` as a script or a person uses them: previews that never
write, a check that says what to run, JSON for scripts, quiet and verbose, and listings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli.render import MAX_DIFF_LINES, read_tree
from tests.integration.ocm.test_render_landscape import CONSTRUCTOR, cli, write
from tests.peers.net import LOOPBACK, free_port
from tests.reference_case import ROOT_COMPONENT, config_text, landscape_tree

pytestmark = pytest.mark.peers


@pytest.fixture
def ctf(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    code, _, err = cli(capsys, "ocm", "build", str(CONSTRUCTOR), "--to", str(tmp_path / "ctf"))
    assert code == 0, err
    return str(tmp_path / "ctf")


@pytest.fixture
def landscape(tmp_path: Path, ctf: str) -> Path:
    location = f"{ctf}//{ROOT_COMPONENT}:v0.0.1"
    return write(tmp_path / "landscape", landscape_tree(config_text(location)))


def test_previews_never_write(capsys, landscape):
    before = read_tree(landscape)
    code, out, _ = cli(capsys, "render", "--repo", str(landscape), "--dry-run")
    assert code == 0 and "Files: 23 added" in out and read_tree(landscape) == before
    # --diff alone is a preview too, cut at its limit: a fresh landscape's diff is all of it
    code, out, _ = cli(capsys, "render", "--repo", str(landscape), "--diff")
    assert code == 0 and read_tree(landscape) == before
    diff = out.split("objects:", 1)[1]
    assert "more diff lines (--diff-lines 0 prints all)" in out
    assert len(diff.splitlines()) < MAX_DIFF_LINES + 100
    code, whole, _ = cli(capsys, "render", "--repo", str(landscape), "--diff", "--diff-lines", "0")
    assert "more diff lines" not in whole and len(whole) > len(out)


def test_a_check_that_fails_says_what_to_run(capsys, landscape):
    code, _, err = cli(capsys, "render", "--repo", str(landscape), "--check")
    assert code == 1
    assert f"{landscape} is not up to date: run `bootstrap-bot render --repo {landscape}`" in err


def test_json_for_scripts_quiet_and_verbose(capsys, landscape):
    code, out, _ = cli(capsys, "render", "--repo", str(landscape), "--check", "--output", "json")
    result = json.loads(out)
    assert code == 1 and result["upToDate"] is False and result["written"] is False
    assert len(result["files"]["added"]) == 23
    kinds = {o["kind"] for o in result["objects"]["added"]}
    assert {"Kustomization", "ServiceProvider"} <= kinds

    # the render's notes are for -v only; -q prints nothing but problems
    code, out, err = cli(capsys, "render", "--repo", str(landscape), "-q")
    assert (code, out) == (0, "") and "note:" not in err
    code, out, err = cli(capsys, "render", "--repo", str(landscape), "--check", "-v")
    assert code == 0 and out == "The rendered manifests are up to date.\n"
    assert "note: no CRDs: resource service-provider-test-crds of " in err

    config = landscape / ".bootstrap/config.yaml"
    config.write_text(config.read_text().replace("environment: dev", "environment: [dev]"))
    code, out, _ = cli(capsys, "render", "--repo", str(landscape), "--output", "json")
    failed = json.loads(out)
    assert code == 1 and failed["stage"] == "config" and failed["written"] is False
    (problem, *_) = failed["problems"]
    assert problem["file"] == ".bootstrap/config.yaml" and problem["line"] > 0


def test_ocm_lists_components_and_gets_the_newest_version(capsys, ctf):
    code, out, _ = cli(capsys, "ocm", "list", ctf, "-o", "json")
    assert code == 0 and ROOT_COMPONENT in json.loads(out)
    code, out, _ = cli(capsys, "ocm", "versions", f"{ctf}//{ROOT_COMPONENT}", "-o", "json")
    assert (code, json.loads(out)) == (0, ["v0.0.1"])
    code, out, _ = cli(capsys, "ocm", "get", f"{ctf}//{ROOT_COMPONENT}", "-o", "json")
    assert code == 0 and json.loads(out)["component"]["version"] == "v0.0.1"


def test_ocm_lists_a_registry_s_components_from_its_catalog(capsys, oci_registry, tmp_path):
    repository = f"{oci_registry.host}/listed"
    options = ["--plain-http-loopback"]
    assert cli(capsys, "ocm", "build", str(CONSTRUCTOR), "--to", repository, *options)[0] == 0
    code, out, err = cli(capsys, "ocm", "list", repository, *options)
    assert code == 0, err
    assert ROOT_COMPONENT in out.splitlines()


def test_a_bad_flag_shows_the_subcommand_s_usage(capsys):
    code, _, err = cli_exit(capsys, "ocm", "get", "--bogus", "x")
    assert code == 2 and err.startswith("usage: bootstrap-bot ocm get")
    assert "see 'bootstrap-bot ocm get --help'" in err


def cli_exit(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        return cli(capsys, *argv)
    except SystemExit as exit_:
        out, err = capsys.readouterr()
        return int(exit_.code or 0), out, err


def config_line(landscape: Path, text: str) -> int:
    lines = (landscape / ".bootstrap/config.yaml").read_text().splitlines()
    return next(n for n, line in enumerate(lines, 1) if text in line)


def edit_config(landscape: Path, old: str, new: str) -> None:
    config = landscape / ".bootstrap/config.yaml"
    edited = config.read_text().replace(old, new, 1)
    assert edited != config.read_text()
    config.write_text(edited)


@pytest.mark.parametrize(
    ("old", "new", "at", "said", "available"),
    [
        pytest.param(
            ":v0.0.1", ":v0.0.2", "location:", "version `v0.0.2` is not in ",
            "available: `v0.0.1`; did you mean `v0.0.1`?", id="version",
        ),
        pytest.param(
            "openmcp-project/openmcp:", "openmcp-project/openmpc:", "location:",
            "component `github.com/openmcp-project/openmpc` is not in ",
            f"; did you mean `{ROOT_COMPONENT}`?", id="component",
        ),
        pytest.param(
            "    - name: test\n      config:", "    - name: tset\n      config:", "name: tset",
            "cluster provider `tset` is not in ", "available: `test`; did you mean `test`?",
            id="provider",
        ),
    ],
)  # fmt: skip
def test_what_is_not_there_is_told_at_its_line_with_what_is(
    capsys, landscape, old, new, at, said, available
):
    edit_config(landscape, old, new)
    code, _, err = cli(capsys, "render", "--repo", str(landscape))
    assert code == 1
    assert f".bootstrap/config.yaml:{config_line(landscape, at)}:13: error: {said}" in err
    assert available in err


def test_an_unreachable_registry_is_told_where_the_config_names_it(capsys, landscape):
    free = free_port()  # nothing listens there
    edit_config(landscape, "location: ", f"location: {LOOPBACK}:{free}//{ROOT_COMPONENT}:v0.0.1 #")
    code, _, err = cli(capsys, "render", "--repo", str(landscape), "--plain-http-loopback")
    line = config_line(landscape, "location:")
    assert code == 1
    assert f".bootstrap/config.yaml:{line}:13: error: registry http://{LOOPBACK}:{free} " in err
    assert "the release cannot be read now; try again later" in err
