"""The `bootstrap-bot` command: render a landscape, inspect OCM content, run the GitHub App.

Exit codes: 0 success, 1 the input was refused (the message says where and why), 2 bad usage.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

import yaml

from bot import __version__, cli_ocm
from bot.core.config import ConfigError, LoadedConfig, load_bootstrap_config, resolved_document

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n(see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="bootstrap-bot",
        description="Keep openMCP landscapes rendered, reviewed and applied through pull requests.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    render = commands.add_parser(
        "render",
        help="render a landscape from its bootstrap config",
        description=(
            "Read a bootstrap config exactly as openmcp-bootstrapper does (defaults, validation) "
            "and report every problem with file:line:col. Renders the landscape's manifests; "
            "until the renderer is part of this build, it prints the resolved config instead."
        ),
    )
    render.add_argument(
        "config", type=Path, metavar="CONFIG", help="path to .bootstrap/config.yaml"
    )
    render.set_defaults(handler=_render)

    ocm = commands.add_parser(
        "ocm",
        help="inspect and build OCM component versions (OCI registry or CTF archive)",
        description=(
            "Inspect and build OCM component versions. A LOCATION is "
            "[type::][http://|https://]host[:port][/prefix]//component[:version], or a CTF "
            "directory or .tar/.tgz path before the //."
        ),
    )
    cli_ocm.add_commands(ocm)
    ocm.set_defaults(handler=cli_ocm.run)

    serve = commands.add_parser(
        "serve",
        help="run the GitHub App webhook server",
        description=(
            "Run the GitHub App. Settings come from BOOTSTRAP_BOT_* environment variables and "
            "the YAML file named by BOOTSTRAP_BOT_SETTINGS_FILE."
        ),
    )
    serve.add_argument(
        "--check",
        action="store_true",
        help="validate the settings, print them with secrets redacted, and exit",
    )
    serve.set_defaults(handler=_serve)
    return parser


def _render(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    path: Path = args.config
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        err.write(f"bootstrap-bot: cannot read config file {path}: {exc.strerror}\n")
        return EXIT_REFUSED
    try:
        loaded = load_bootstrap_config(text, file=str(path))
    except ConfigError as exc:
        _report(exc, err)
        return EXIT_REFUSED
    _warnings(loaded, err)
    err.write("note: manifest rendering is not part of this build; printing the resolved config\n")
    out.write(yaml.safe_dump(resolved_document(loaded.config), sort_keys=False))
    return EXIT_OK


def _report(exc: ConfigError, err: TextIO) -> None:
    for problem in exc.errors + exc.warnings:
        err.write(f"{problem}\n")
    count = len(exc.errors)
    err.write(f"bootstrap-bot: the config has {count} error{'s' if count != 1 else ''}\n")
    if exc.go_message:
        err.write(f"openmcp-bootstrapper would say: {exc.go_message}\n")


def _warnings(loaded: LoadedConfig, err: TextIO) -> None:
    for problem in loaded.warnings:
        err.write(f"{problem}\n")


def _serve(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from bot.settings import SettingsError, load_settings

    try:
        settings = load_settings()
    except SettingsError as exc:
        err.write(f"{exc}\n")
        return EXIT_REFUSED
    summary: dict[str, Any] = settings.redacted()
    out.write(yaml.safe_dump(summary, sort_keys=False))
    if args.check:
        return EXIT_OK
    err.write("bootstrap-bot serve: the webhook server is not part of this build yet\n")
    return EXIT_REFUSED


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.handler(args, sys.stdout, sys.stderr)
    return code
