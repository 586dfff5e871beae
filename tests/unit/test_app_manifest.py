"""The GitHub App manifest asks for the least it needs, and says why for each permission."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).parents[2]
MANIFEST = ROOT / "app-manifest.yml"
EXAMPLES = ROOT / "tests" / "fixtures" / "webhooks" / "examples.json"

# The App's REST calls (bot/github.py) and the permission GitHub requires for each family.
NEEDED = {
    "contents": "write",
    "pull_requests": "write",
    "issues": "write",
    "checks": "write",
    "metadata": "read",
}


def test_the_manifest_asks_for_exactly_the_permissions_the_flows_use():
    manifest = yaml.safe_load(MANIFEST.read_text())
    assert manifest["default_permissions"] == NEEDED
    assert manifest["hook_attributes"]["active"] is True
    assert manifest["public"] is False


def test_every_permission_and_event_is_explained_by_a_comment_above_it():
    lines = MANIFEST.read_text().splitlines()
    manifest = yaml.safe_load(MANIFEST.read_text())
    for key in [*manifest["default_permissions"], *manifest["default_events"]]:
        index = next(i for i, line in enumerate(lines) if re.match(rf"\s+(- )?{key}\b", line))
        assert lines[index - 1].strip().startswith("#"), f"{key} has no comment saying why"


def test_the_events_are_real_github_webhook_events():
    known = set(json.loads(EXAMPLES.read_text()))
    manifest = yaml.safe_load(MANIFEST.read_text())
    assert set(manifest["default_events"]) <= known


def test_the_app_manifest_command_fills_in_the_webhook_url(capsys):
    from bot.cli.main import main

    url = "https://bootstrap-bot.example.com/webhook"
    assert main(["app-manifest", "--webhook-url", url, "--name", "acme-bootstrap-bot"]) == 0
    printed = json.loads(capsys.readouterr().out)
    expected = yaml.safe_load(MANIFEST.read_text())
    expected["hook_attributes"]["url"] = url
    expected["name"] = "acme-bootstrap-bot"
    expected["url"] = "https://bootstrap-bot.example.com/"  # no one else's App page
    assert printed == expected
    assert "administration" not in printed["default_permissions"]


def test_deploy_keys_are_the_opt_in_for_administration(capsys):
    from bot.cli.main import main

    url = "https://bot.example.com/webhook"
    home = "https://example.com/ops/bootstrap-bot"
    assert (
        main(["app-manifest", "--webhook-url", url, "--deploy-keys", "--homepage-url", home]) == 0
    )
    printed = json.loads(capsys.readouterr().out)
    assert printed["default_permissions"]["administration"] == "write" and printed["url"] == home


@pytest.mark.parametrize(("name", "code"), [("a" * 34, 0), ("a" * 35, 2), ("", 2)])
def test_an_app_name_is_what_github_allows(capsys, name, code):
    from bot.cli.main import main

    assert (
        main(["app-manifest", "--webhook-url", "https://b.example/webhook", "--name", name]) == code
    )
    if code:
        assert "GitHub allows 1 to 34" in capsys.readouterr().err


@pytest.mark.parametrize("url", ["http://bot.example.com/webhook", "bot.example.com", "https://"])
def test_the_app_manifest_command_wants_an_https_webhook_url(capsys, url):
    from bot.cli.main import main

    assert main(["app-manifest", "--webhook-url", url]) == 2
    assert "is not an https:// URL" in capsys.readouterr().err
