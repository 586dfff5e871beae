"""The upgrade's edit of `component.location`: one version changes, nothing else."""

from __future__ import annotations

import difflib

import pytest
import yaml

from bot.core.config_edit import ConfigEditError, set_component_version, with_version

COMMENTED = """\
# The dev landscape. Keep this file short: the bot proposes upgrades.
component:
  # Bumped by bootstrap-bot; pin by hand with /bootstrap upgrade VERSION.
  location: "registry.example:5000/openmcp//github.com/openmcp-project/openmcp:v0.0.1"   # release
environment: dev   # never change

repository:
  url: https://github.com/example-org/landscape
  pushBranch: incoming
"""


def test_only_the_version_changes():
    edited = set_component_version(COMMENTED, "v0.0.2")
    changed = [
        line
        for line in difflib.unified_diff(COMMENTED.splitlines(), edited.splitlines(), lineterm="")
        if line.startswith(("+", "-")) and not line.startswith(("+++", "---"))
    ]
    assert changed == [
        '-  location: "registry.example:5000/openmcp//github.com/openmcp-project/openmcp:v0.0.1"'
        "   # release",
        '+  location: "registry.example:5000/openmcp//github.com/openmcp-project/openmcp:v0.0.2"'
        "   # release",
    ]
    assert yaml.safe_load(edited)["component"]["location"].endswith("/openmcp:v0.0.2")


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        (
            "  location: ghcr.io/o//github.com/openmcp-project/openmcp:v0.0.1\n",
            "  location: ghcr.io/o//github.com/openmcp-project/openmcp:v1.2.3-rc.1\n",
        ),
        (
            "  location: 'ghcr.io/o//github.com/openmcp-project/openmcp:v0.0.1'\n",
            "  location: 'ghcr.io/o//github.com/openmcp-project/openmcp:v1.2.3-rc.1'\n",
        ),
        (  # no version yet
            "  location: ghcr.io/o//github.com/openmcp-project/openmcp\n",
            "  location: ghcr.io/o//github.com/openmcp-project/openmcp:v1.2.3-rc.1\n",
        ),
        (
            " {location: ghcr.io/o//github.com/openmcp-project/openmcp:v0.0.1}\n",
            " {location: ghcr.io/o//github.com/openmcp-project/openmcp:v1.2.3-rc.1}\n",
        ),
    ],
)
def test_every_inline_style_keeps_its_style(written, expected):
    text = f"component:\n{written}environment: dev\n"
    assert set_component_version(text, "v1.2.3-rc.1") == f"component:\n{expected}environment: dev\n"


def test_what_cannot_be_edited_in_place_is_refused():
    with pytest.raises(ConfigEditError, match=r"no component\.location"):
        set_component_version("environment: dev\n", "v1")
    with pytest.raises(ConfigEditError, match="block scalar"):
        set_component_version("component:\n  location: |\n    a//b:v1\n", "v2")
    with pytest.raises(ConfigEditError, match="escapes"):
        set_component_version('component:\n  location: "a//b\\x3av1"\n', "v2")


def test_with_version():
    assert with_version("host:5000/p//a/b:v1", "v2") == "host:5000/p//a/b:v2"
    assert with_version("ctf::./x.ctf//a/b", "v2") == "ctf::./x.ctf//a/b:v2"
