"""The `bootstrap-bot` command line: help, usage errors, render and serve --check."""

from __future__ import annotations

import argparse
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from bot import __version__
from bot.cli.main import build_parser, main

ROOT = Path(__file__).parents[2]
CONSOLE_SCRIPT = Path(sys.executable).parent / "bootstrap-bot"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_console_script_is_installed_and_shows_help():
    result = subprocess.run([str(CONSOLE_SCRIPT), "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    for command in ("render", "ocm", "serve"):
        assert command in result.stdout


def test_version(capsys):
    assert run(capsys, "--version") == (0, f"bootstrap-bot {__version__}\n", "")


@pytest.mark.parametrize("command", ["render", "ocm", "serve"])
def test_every_command_has_help(capsys, command):
    code, out, _ = run(capsys, command, "--help")
    assert code == 0 and out.startswith(f"usage: bootstrap-bot {command}")


def parsers(
    parser: argparse.ArgumentParser, command: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every command of the CLI, as its words and its parser."""
    yield command, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from parsers(sub, (*command, name))


@pytest.mark.parametrize("command", [c for c, _ in parsers(build_parser())], ids=" ".join)
def test_every_help_ends_with_examples(capsys, command):
    code, out, _ = run(capsys, *command, "--help")
    assert code == 0
    examples = out.rsplit("\nexample", 1)
    assert len(examples) == 2 and " bootstrap-bot " in examples[1], out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ((), "the following arguments are required: COMMAND"),
        (("deploy",), "invalid choice: 'deploy'"),
        (("render", "a.yaml"), "unrecognized arguments: a.yaml"),
        (("render", "--frobnicate"), "unrecognized arguments: --frobnicate"),
    ],
)
def test_bad_usage_exits_2_with_a_clear_message(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert message in err and "see 'bootstrap-bot" in err


def test_render_reports_every_error_located_and_what_the_go_tool_would_say(capsys, tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(
        textwrap.dedent("""\
        component:
          location: ""
        repository:
          url: https://github.com/org/landscape.git
          pushBranch: main
        openmcpOperator:
          config: {a: 1}
        providers:
          clusterProviders:
            - config: {a: 1}
        enviroment: dev
    """)
    )
    code, out, err = run(capsys, "render", "--repo", str(tmp_path), "--config", str(config))
    assert code == 1 and out == ""
    lines = err.splitlines()
    assert lines[:4] == [
        f"{config}:1:1: error: environment: Required value: environment is required",
        f"{config}:2:13: error: component.location: Required value: component location is required",
        f"{config}:10:7: error: providers.clusterProviders[0].name: Required value: cluster "
        "provider name is required",
        f"{config}:11:1: warning: enviroment: unknown field, ignored by openmcp-bootstrapper; "
        "did you mean 'environment'?",
    ]
    assert lines[4] == "bootstrap-bot: the config has 3 errors"
    assert "openmcp-bootstrapper would say" not in err  # only with -v: the Go tool's words
    code, _, err = run(capsys, "render", "--repo", str(tmp_path), "--config", str(config), "-v")
    assert "openmcp-bootstrapper would say: invalid config file: [" in err


def test_render_a_directory_without_a_config(capsys, tmp_path):
    code, _, err = run(capsys, "render", "--repo", str(tmp_path))
    assert code == 1
    assert ".bootstrap/config.yaml: error: no bootstrap config here" in err
    assert "nothing written" in err and list(tmp_path.iterdir()) == []


def test_render_a_missing_config_file(capsys, tmp_path):
    code, _, err = run(capsys, "render", "--repo", str(tmp_path), "--config", "/nonexistent.yaml")
    assert code == 1 and "No such file" in err


def test_serve_check_prints_settings_without_secrets(capsys, monkeypatch, app_key):
    monkeypatch.setenv("BOOTSTRAP_BOT_WEBHOOK_SECRET", "s3cr3t-value")
    monkeypatch.setenv("BOOTSTRAP_BOT_APP_ID", "99")
    monkeypatch.setenv("BOOTSTRAP_BOT_PRIVATE_KEY", app_key.private_pem)
    code, out, _ = run(capsys, "serve", "--check")
    assert code == 0
    summary = yaml.safe_load(out)
    assert summary["app_id"] == 99 and summary["webhook_secret"] == "<redacted>"
    assert "s3cr3t-value" not in out


def test_serve_refuses_bad_settings(capsys, monkeypatch):
    monkeypatch.setenv("BOOTSTRAP_BOT_LISTEN", "nowhere")
    code, out, err = run(capsys, "serve", "--check")
    assert code == 1 and out == ""
    assert "BOOTSTRAP_BOT_LISTEN: must be HOST:PORT" in err


def test_serve_refuses_to_start_without_a_webhook_secret(capsys, monkeypatch):
    monkeypatch.delenv("BOOTSTRAP_BOT_WEBHOOK_SECRET", raising=False)
    code, _, err = run(capsys, "serve")
    assert code == 1 and "webhook_secret (BOOTSTRAP_BOT_WEBHOOK_SECRET): not set" in err


def test_ocm_needs_a_subcommand(capsys):
    code, _, err = run(capsys, "ocm")
    assert code == 2 and "the following arguments are required: OCM_COMMAND" in err


def test_serve_refuses_to_start_without_the_app_credentials(capsys, monkeypatch):
    monkeypatch.setenv("BOOTSTRAP_BOT_WEBHOOK_SECRET", "s3cr3t-value")
    for name in ("APP_ID", "PRIVATE_KEY", "PRIVATE_KEY_FILE", "SETTINGS_FILE"):
        monkeypatch.delenv(f"BOOTSTRAP_BOT_{name}", raising=False)
    code, _, err = run(capsys, "serve")
    assert code == 1 and "  app_id (BOOTSTRAP_BOT_APP_ID): not set\n" in err
    assert "  private_key (BOOTSTRAP_BOT_PRIVATE_KEY or BOOTSTRAP_BOT_PRIVATE_KEY_FILE)" in err
    assert "s3cr3t-value" not in err


def test_serve_check_refuses_what_serve_would_refuse_all_at_once(capsys, monkeypatch, tmp_path):
    for name in ("WEBHOOK_SECRET", "APP_ID", "PRIVATE_KEY", "PRIVATE_KEY_FILE"):
        monkeypatch.delenv(f"BOOTSTRAP_BOT_{name}", raising=False)
    settings = tmp_path / "settings.yaml"
    settings.write_text(
        f"registry: {{docker_config: {tmp_path}/docker.json}}\n"
        f"clusters:\n  dev:\n    kubeconfig: {tmp_path}/kubeconfig\n"
        "    repositories: [example-org/landscape]\n    branches: [main]\n"
    )
    monkeypatch.setenv("BOOTSTRAP_BOT_SETTINGS_FILE", str(settings))
    code, out, err = run(capsys, "serve", "--check")
    assert code == 1 and out == ""
    assert err.splitlines() == [
        "bootstrap-bot serve: refusing to start:",
        "  webhook_secret (BOOTSTRAP_BOT_WEBHOOK_SECRET): not set; unsigned deliveries are never "
        "accepted",
        "  app_id (BOOTSTRAP_BOT_APP_ID): not set",
        "  private_key (BOOTSTRAP_BOT_PRIVATE_KEY or BOOTSTRAP_BOT_PRIVATE_KEY_FILE): not set",
        f"  registry.docker_config: {tmp_path}/docker.json is not a file this process can read",
        f"  clusters.dev.kubeconfig: {tmp_path}/kubeconfig is not a file this process can read",
    ]


def test_serve_check_refuses_an_ocm_config_with_a_docker_config_repository(
    capsys, monkeypatch, tmp_path
):
    """As openmcp-bootstrapper refuses it; for the App that is at start, not per landscape."""
    for name in ("WEBHOOK_SECRET", "APP_ID", "PRIVATE_KEY", "PRIVATE_KEY_FILE"):
        monkeypatch.delenv(f"BOOTSTRAP_BOT_{name}", raising=False)
    case = Path(__file__).parents[1] / "fixtures" / "bootstrapper" / "ocm-config-01"
    settings = tmp_path / "settings.yaml"
    settings.write_text(f"registry: {{ocm_config: {case}/unsupported-ocm-config.yaml}}\n")
    monkeypatch.setenv("BOOTSTRAP_BOT_SETTINGS_FILE", str(settings))
    code, _, err = run(capsys, "serve", "--check")
    assert code == 1
    assert (
        "  registry: invalid OCM configuration: unsupported repository type: DockerConfig/v1; "
        "give the docker config itself instead (--docker-config, registry.docker_config)\n"
    ) in err


def test_every_option_of_every_command_says_what_it_is():
    silent = [
        f"{' '.join(command)} {'/'.join(action.option_strings) or action.dest}"
        for command, parser in parsers(build_parser())
        for action in parser._actions
        if not isinstance(action, argparse._SubParsersAction | argparse._HelpAction)
        and not action.help
    ]
    assert silent == []
