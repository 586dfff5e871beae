"""Relaxed versions and constraints in the syntax Helm, Flux and Renovate users write."""

from __future__ import annotations

import pytest

from bot.golang.semver import Constraint, InvalidConstraint, InvalidVersion, Version


def test_versions_sort_by_semver_precedence():
    texts = ["v1.0.0", "v1.0.0-rc.10", "v0.9", "v1.0.0-rc.2", "v1.0.0-alpha", "1.0.0-alpha.beta"]
    assert [str(v) for v in sorted(map(Version.parse, texts))] == [
        "v0.9",
        "v1.0.0-alpha",
        "1.0.0-alpha.beta",
        "v1.0.0-rc.2",
        "v1.0.0-rc.10",
        "v1.0.0",
    ]


def test_build_metadata_does_not_count():
    assert Version.parse("1.2.3+build.7") == Version.parse("v1.2.3")


@pytest.mark.parametrize("text", ["", "latest", "1.2.3.4", "01.2.3", "v", "1.2.3-", "sha256-abc"])
def test_invalid_versions(text):
    with pytest.raises(InvalidVersion):
        Version.parse(text)


@pytest.mark.parametrize(
    ("constraint", "version", "allowed"),
    [
        (">= 0.19, < 1.0", "v0.19.1", True),
        (">= 0.19, < 1.0", "v1.0.0", False),
        (">=0.19 <1.0", "0.25.0", True),
        ("=>1.2", "1.2.0", True),
        ("~0.19", "0.19.9", True),
        ("~0.19", "0.20.0", False),
        ("~1", "1.9.0", True),
        ("~>1.2.3", "1.2.9", True),
        ("^0.2.3", "0.2.9", True),
        ("^0.2.3", "0.3.0", False),
        ("^1.2", "1.99.0", True),
        ("^1.2", "2.0.0", False),
        ("^0.0.3", "0.0.4", False),
        ("1.2.x", "1.2.7", True),
        ("1.2.x", "1.3.0", False),
        ("*", "5.0.0", True),
        ("1.2 - 1.4", "1.4.9", True),
        ("1.2 - 1.4.0", "1.4.1", False),
        ("!=1.2.3", "1.2.3", False),
        ("<1 || >=2", "2.1.0", True),
        ("<1 || >=2", "1.5.0", False),
        (">1.2", "1.3.0", True),
        (">1.2", "1.2.1", False),
        (">1.2.x", "1.2.9", False),
        (">*", "1.0.0", False),
        ("<=1.2", "1.2.9", True),
        (">=1.0", "1.1.0-rc.1", False),
        (">=1.1.0-rc.0", "1.1.0-rc.1", True),
    ],
)
def test_constraints(constraint, version, allowed):
    assert Constraint.parse(constraint).allows(Version.parse(version)) is allowed


def test_prereleases_allowed_on_request():
    assert Constraint.parse(">=1.0").allows(Version.parse("1.1.0-rc.1"), prereleases=True)


@pytest.mark.parametrize("text", ["", "   ", "foo", "1.2 ||", ">= banana", "!=1.2.x"])
def test_invalid_constraints(text):
    with pytest.raises(InvalidConstraint):
        Constraint.parse(text)
