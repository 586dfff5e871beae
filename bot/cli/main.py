"""The `bootstrap-bot` command: render a landscape, inspect OCM content, run the GitHub App.

Exit codes: 0 success, 1 the input was refused (the message says where and why), 2 bad usage.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

import yaml

from bot import __version__
from bot.cli import eso as cli_eso
from bot.cli import ocm as cli_ocm
from bot.cli import preview as cli_preview
from bot.cli import render as cli_render
from bot.cli.exits import EXIT_OK, EXIT_REFUSED, EXIT_USAGE

if TYPE_CHECKING:
    from bot.settings import Settings

#: GitHub refuses an App name longer than this
MAX_APP_NAME = 34


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n(see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="bootstrap-bot",
        description="Keep openMCP landscapes rendered, reviewed and applied through pull requests.",
        epilog="examples:\n  bootstrap-bot render --repo landscape --dry-run\n"
        "  bootstrap-bot ocm list examples/openmcp.ctf.tgz\n  bootstrap-bot serve --check --online",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    cli_render.add_command(commands)
    cli_preview.add_command(commands)
    cli_eso.add_command(commands)

    ocm = commands.add_parser(
        "ocm",
        help="inspect and build OCM component versions (OCI registry or CTF archive)",
        description=(
            "Inspect and build OCM component versions. A LOCATION is "
            "[type::][http://|https://]host[:port][/prefix]//component[:version], or a CTF "
            "directory or .tar/.tgz path before the //."
        ),
        epilog="examples:\n  bootstrap-bot ocm list examples/openmcp.ctf.tgz\n"
        "  bootstrap-bot ocm get examples/openmcp.ctf.tgz//github.com/openmcp-project/openmcp",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cli_ocm.add_commands(ocm)
    ocm.set_defaults(handler=cli_ocm.run, command_parser=ocm)

    serve = commands.add_parser(
        "serve",
        help="run the GitHub App webhook server",
        description=(
            "Run the GitHub App. Settings come from BOOTSTRAP_BOT_* environment variables and "
            "the YAML file named by BOOTSTRAP_BOT_SETTINGS_FILE."
        ),
        epilog="examples:\n"
        "  BOOTSTRAP_BOT_SETTINGS_FILE=settings.yaml bootstrap-bot serve --check\n"
        "  BOOTSTRAP_BOT_SETTINGS_FILE=settings.yaml bootstrap-bot serve",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument(
        "--check",
        action="store_true",
        help="validate the settings, print them with secrets redacted, and exit",
    )
    serve.add_argument(
        "--online",
        action="store_true",
        help="with --check: also try the App credentials, each cluster and each registry",
    )
    serve.set_defaults(handler=_serve, command_parser=serve)

    health = commands.add_parser(
        "healthcheck",
        help="exit 0 when the local server answers /healthz (a container's health check)",
        description=(
            "Ask the server this process's settings describe (BOOTSTRAP_BOT_LISTEN) for "
            "/healthz; exit 0 when it answers 200, else 1."
        ),
        epilog="example:\n  bootstrap-bot healthcheck --url http://127.0.0.1:8080/healthz",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    health.add_argument("--url", help="ask this URL instead")
    health.add_argument("--timeout", type=float, default=5.0, help="seconds (default 5)")
    health.set_defaults(handler=_healthcheck, command_parser=health)

    manifest = commands.add_parser(
        "app-manifest",
        help="print the GitHub App manifest for GitHub's manifest registration flow",
        description=(
            "Print the App's manifest as JSON, with the webhook URL filled in, for GitHub's "
            "manifest registration flow (a form posting it as `manifest` to "
            "https://github.com/settings/apps/new, or an organization's apps/new)."
        ),
        epilog="example:\n  bootstrap-bot app-manifest "
        '--webhook-url https://bot.example.com/webhook --name "bootstrap-bot (example-org)"',
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    manifest.add_argument(
        "--webhook-url", required=True, help="where GitHub delivers webhooks: https://HOST/webhook"
    )
    manifest.add_argument(
        "--name", help=f"the App's name (unique on GitHub, at most {MAX_APP_NAME} characters)"
    )
    manifest.add_argument(
        "--homepage-url", help="the App's homepage (default: the webhook URL's https://HOST/)"
    )
    manifest.add_argument(
        "--deploy-keys",
        action="store_true",
        help="also ask for `administration: write`, which clusters with `git.type: deploy-key` "
        "need (the bot creates the deploy key Flux clones with)",
    )
    manifest.add_argument(
        "--redirect-url",
        help="where GitHub sends the browser after registration, with the code that fetches "
        "the App's id, key and webhook secret",
    )
    manifest.set_defaults(handler=_app_manifest, command_parser=manifest)
    return parser


def _app_manifest(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    import json
    from importlib import resources
    from urllib.parse import urlsplit

    url = urlsplit(args.webhook_url)
    if url.scheme != "https" or not url.hostname:
        err.write(
            f"bootstrap-bot app-manifest: --webhook-url {args.webhook_url!r} is not an https:// "
            "URL; GitHub signs deliveries, but only TLS keeps them private\n"
        )
        return EXIT_USAGE
    if args.name is not None and not 0 < len(args.name) <= MAX_APP_NAME:
        err.write(
            f"bootstrap-bot app-manifest: --name {args.name!r} has {len(args.name)} characters; "
            f"GitHub allows 1 to {MAX_APP_NAME}\n"
        )
        return EXIT_USAGE
    text = resources.files("bot").joinpath("app-manifest.yml").read_text()
    manifest = yaml.safe_load(text)
    manifest["hook_attributes"]["url"] = args.webhook_url
    manifest["url"] = args.homepage_url or f"https://{url.netloc}/"
    if args.deploy_keys:
        manifest["default_permissions"]["administration"] = "write"
    if args.name:
        manifest["name"] = args.name
    if args.redirect_url:
        manifest["redirect_url"] = args.redirect_url
    out.write(json.dumps(manifest, indent=2) + "\n")
    return EXIT_OK


def _healthcheck(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    import urllib.error
    import urllib.request

    from bot.settings import SettingsError, load_settings

    url = args.url
    if url is None:
        try:
            host, _, port = load_settings().listen.rpartition(":")
        except SettingsError as exc:
            err.write(f"{exc}\n")
            return EXIT_REFUSED
        host = "127.0.0.1" if host in ("0.0.0.0", "::", "[::]") else host
        url = f"http://{host}:{port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=args.timeout) as response:
            status = response.status
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        err.write(f"bootstrap-bot healthcheck: {url}: {reason}\n")
        return EXIT_REFUSED
    out.write(f"{url}: {status}\n")
    return EXIT_OK


def _credential_problems(settings: Settings) -> list[str]:
    """The registry credential files, read as every registry request will read them: an
    operator's mistake there is refused at start, never told to a landscape as its own."""
    from bot.ocm.credentials import CredentialsError, CredentialStore

    registry = settings.registry
    try:
        docker = registry.docker_config.read_text() if registry.docker_config else None
        ocm = registry.ocm_config.read_text() if registry.ocm_config else None
        CredentialStore.from_texts(docker, ocm)
    except OSError:
        return []  # startup_problems names the file
    except CredentialsError as err:
        return [f"registry: {err}"]
    return []


def _serve(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from bot.settings import SettingsError, load_settings

    try:
        settings = load_settings()
    except SettingsError as exc:
        err.write(f"{exc}\n")
        return EXIT_REFUSED
    problems = settings.startup_problems() + _credential_problems(settings)
    if problems:  # --check refuses whatever serve would
        err.write("bootstrap-bot serve: refusing to start:\n")
        err.writelines(f"  {problem}\n" for problem in problems)
        return EXIT_REFUSED
    summary: dict[str, Any] = settings.redacted()
    out.write(yaml.safe_dump(summary, sort_keys=False))
    private_key = settings.private_key_pem()
    assert settings.app_id is not None and private_key is not None  # startup_problems said so
    import asyncio

    from bot.kit.logs import configure_logging

    if args.check and args.online:
        from bot.server.online import online_problems

        configure_logging(settings.log_level, settings.log_format)
        answered, unreachable = asyncio.run(
            online_problems(settings, app_id=settings.app_id, private_key=private_key)
        )
        out.writelines(f"ok   {line}\n" for line in answered)
        err.writelines(f"FAIL {line}\n" for line in unreachable)
        return EXIT_REFUSED if unreachable else EXIT_OK
    if args.check:
        return EXIT_OK

    from bot.server.main import serve

    configure_logging(settings.log_level, settings.log_format)
    asyncio.run(serve(settings, app_id=settings.app_id, private_key=private_key))
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # told with the usage of the command they were given to, not the top level's
        command = getattr(args, "command_parser", parser)
        command.error(f"unrecognized arguments: {' '.join(unknown)}")
    code: int = args.handler(args, sys.stdout, sys.stderr)
    return code
