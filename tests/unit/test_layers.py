"""The architecture holds: DESIGN.md's import table (tests/layers.py) over bot/ and handlers/,
a test that the checker catches what it should, and the pure layers importing no I/O library
when they actually run."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.layers import LAYERS, PURE_OCM, TOP, layer_of, violations

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("aiohttp", "httpx", "gidgethub", "pygit2", "oras", "kubernetes_asyncio", "requests")


def test_the_tree_obeys_the_import_table():
    assert violations(ROOT) == []


def test_every_module_belongs_to_a_layer():
    modules = [
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for package in ("bot", "handlers")
        for p in (ROOT / package).rglob("*.py")
    ]
    assert [m for m in modules if layer_of(m) is None] == []
    # each layer is a package with the docstring that states its rule
    for layer in LAYERS:
        if layer in TOP or layer == "bot.settings":
            continue
        init = ROOT.joinpath(*layer.split("."), "__init__.py")
        assert init.read_text().startswith('"""'), layer


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of bot/ and handlers/ to plant wrong imports in."""
    for package in ("bot", "handlers"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("*.pyc"))
    return tmp_path


PLANTED = [
    (
        "bot/core/planted.py",
        "from bot.flows.deploy import deploy_landscape\n",
        "bot.core.planted:1: bot.core may not import bot.flows.deploy (layer bot.flows)",
    ),
    (
        "bot/core/planted.py",
        "from bot.ocm.registry import RegistryStore\n",
        "bot.core.planted:1: bot.core may use the pure OCM modules only, not bot.ocm.registry",
    ),
    (
        "bot/flows/planted.py",
        "import pygit2\n",
        "bot.flows.planted:1: pygit2 belongs to bot.adapters.gitrepo, not bot.flows.planted",
    ),
    (
        "bot/golang/planted.py",
        "def f():\n    import httpx\n",
        "bot.golang.planted:2: httpx belongs to bot.adapters.github, not bot.golang.planted",
    ),
    (
        "bot/gotemplate/planted.py",
        "import prometheus_client\n",
        "bot.gotemplate.planted:1: bot.gotemplate may not use prometheus_client",
    ),
    (
        "bot/adapters/planted.py",
        "from bot.adapters.gitrepo import GitRepository\n",
        "bot.adapters.planted:1: adapter bot.adapters.planted imports adapter bot.adapters.gitrepo",
    ),
    (
        "bot/services/planted.py",
        "import numpy\n",
        "bot.services.planted:1: numpy is an outside library no module owns (add it to OWNERS)",
    ),
    (
        "bot/stray.py",
        "import os\n",
        "bot.stray belongs to no layer",
    ),
]


@pytest.mark.parametrize(("path", "source", "expected"), PLANTED)
def test_a_planted_wrong_import_is_reported(tree, path, source, expected):
    (tree / path).write_text(source)
    found = violations(tree)
    assert expected in found
    # nothing else is blamed, but the cycle an upward import closes
    assert [f for f in found if f != expected and not f.startswith("cycle between")] == []


def test_a_planted_cycle_is_reported(tree):
    # two modules of one package that need each other
    (tree / "bot/flows/one.py").write_text("from bot.flows import two\n")
    (tree / "bot/flows/two.py").write_text("from bot.flows.one import x\n")
    assert violations(tree) == [
        "cycle between modules: bot.flows.one -> bot.flows.two -> bot.flows.one"
    ]
    # a package importing back up closes a cycle between packages as well
    (tree / "bot/flows/two.py").write_text("x = 1\n")
    (tree / "bot/services/up.py").write_text("from bot.flows.checks import finish_check\n")
    found = violations(tree)
    assert (
        "bot.services.up:1: bot.services may not import bot.flows.checks (layer bot.flows)" in found
    )
    assert any(f.startswith("cycle between packages: bot.flows -> bot.services") for f in found)


PURE = ["bot.golang", "bot.gotemplate", "bot.core", "bot.kit", *sorted(PURE_OCM)]


@pytest.mark.parametrize("package", PURE)
def test_pure_layers_import_no_io_library(package):
    code = (
        f"import sys, pkgutil, importlib\n"
        f"p = importlib.import_module('{package}')\n"
        f"for m in pkgutil.walk_packages(getattr(p, '__path__', []), '{package}.'):\n"
        "    importlib.import_module(m.name)\n"
        f"print(sorted(n for n in {FORBIDDEN!r} if n in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_the_lease_election_loads_only_what_it_uses():
    code = (
        "import sys, bot.adapters.leases.leader\n"
        "print(sorted(m for m in sys.modules if m.startswith(('bot.', 'handlers'))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    loaded = ast.literal_eval(result.stdout)
    assert not [
        m for m in loaded if m.startswith(("bot.flows", "bot.server", "bot.services", "handlers"))
    ]
    assert len(loaded) < 15, loaded
