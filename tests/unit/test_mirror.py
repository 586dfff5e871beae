"""The mirror's copies reach only registries the operator allows: skopeo opens its own
connections, so each artifact's registry is checked before it is copied."""

from __future__ import annotations

import pytest

from bot.ocm.egress import EgressPolicy, EgressRefused
from bot.ocm.location import image_parts
from bot.services.mirror import _check_egress


def _registry_of(reference: str) -> str:
    return image_parts(reference)[0]


def test_the_registry_an_artifact_is_pulled_from():
    assert _registry_of("nginx:1.27") == "docker.io"
    assert _registry_of("library/nginx@sha256:" + "a" * 64) == "docker.io"
    assert _registry_of("ghcr.io/fluxcd/source-controller:v1.6.2") == "ghcr.io"
    assert _registry_of("localhost:5000/app:v1") == "localhost:5000"
    assert _registry_of("mirror:5000/eso/controller@sha256:" + "b" * 64) == "mirror:5000"


def test_an_artifact_in_a_registry_the_operator_does_not_allow_is_not_copied():
    with pytest.raises(EgressRefused, match="not one the bot's operators allow"):
        _check_egress(EgressPolicy(allowed=("ghcr.io",)), "evil.example")
    with pytest.raises(EgressRefused, match=r"169\.254\.169\.254, which is not a public address"):
        _check_egress(EgressPolicy(), "169.254.169.254")
    with pytest.raises(EgressRefused):
        _check_egress(EgressPolicy(), "127.0.0.1:5000")  # loopback only when allowed
    _check_egress(EgressPolicy(loopback=True), "127.0.0.1:5000")


def test_skopeo_s_outages_are_told_from_its_refusals():
    from bot.ocm.skopeo import _unreachable

    assert _unreachable("received unexpected HTTP status: 503 Service Unavailable")
    assert _unreachable("read tcp 127.0.0.1:1->127.0.0.1:2: read: connection reset by peer")
    assert _unreachable("toomanyrequests: too many requests")
    assert not _unreachable("reading manifest sha256:5003a29f: manifest unknown")
    assert not _unreachable("unauthorized: authentication required")


def test_a_skopeo_that_hangs_is_stopped_and_a_refusal_is_told_in_its_words(tmp_path, monkeypatch):
    from bot.ocm import skopeo
    from bot.ocm.skopeo import CopyFailed, CopyUnavailable, SkopeoCopier

    tool = tmp_path / "skopeo"
    tool.write_text(
        '#!/bin/sh\ncase "$2" in\n  slow) exec sleep 30 ;;\n'
        '  *) echo "Copying blob sha256:1"; echo "manifest unknown" >&2; exit 1 ;;\nesac\n'
    )
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    monkeypatch.setattr(skopeo, "TIMEOUT_SECONDS", 0.5)
    copier = SkopeoCopier(on_line=print)
    with pytest.raises(CopyUnavailable, match=r"no end in 0\.5 s"):
        copier._run(["copy", "slow"], "copying x")
    with pytest.raises(CopyFailed, match="copying x: manifest unknown"):
        copier._run(["copy", "other"], "copying x", shown="x")
