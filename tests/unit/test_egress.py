"""The operator's egress policy: which registries a landscape may name, and which addresses a
connection for them may reach."""

from __future__ import annotations

import pytest

from bot.ocm.egress import EgressPolicy, EgressRefused

PUBLIC = "140.82.121.3"


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "0.0.0.0",
     "::1", "fd00::1", "fe80::1%eth0", "::ffff:10.0.0.1", "100.64.0.1", "224.0.0.1"],
)  # fmt: skip
def test_only_public_addresses_by_default(address):
    with pytest.raises(EgressRefused, match=r"not a public address.*registry\.private"):
        EgressPolicy().check_address("registry.test", 443, address)
    EgressPolicy().check_address("registry.test", 443, PUBLIC)


def test_loopback_and_private_registries_are_the_operators_to_allow():
    EgressPolicy(loopback=True).check_address("localhost", 5000, "127.0.0.1")
    with pytest.raises(EgressRefused):
        EgressPolicy(loopback=True).check_address("internal", 5000, "10.0.0.1")
    inside = EgressPolicy(private=("*.corp.example", "mirror:5000"))
    inside.check_address("registry.corp.example", 443, "10.0.0.1")
    inside.check_address("mirror", 5000, "10.0.0.2")
    with pytest.raises(EgressRefused):
        inside.check_address("mirror", 5001, "10.0.0.2")


def test_allowed_hosts_are_globs_with_or_without_a_port():
    policy = EgressPolicy(allowed=("ghcr.io", "*.registry.example:5000"))
    policy.check_host("ghcr.io")
    policy.check_host("GHCR.io:443")
    policy.check_host("eu.registry.example:5000")
    for host in ("evil.test", "eu.registry.example", "eu.registry.example:5001"):
        with pytest.raises(EgressRefused, match=r"registry\.allowed"):
            policy.check_host(host)
    EgressPolicy().check_host("anything.test")  # no list: any host may be named
