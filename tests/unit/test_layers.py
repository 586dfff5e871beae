"""The pure layers stay pure: importing bot.core or bot.gotemplate pulls in no network, git,
registry or cluster library."""

from __future__ import annotations

import subprocess
import sys

import pytest

FORBIDDEN = ("aiohttp", "httpx", "gidgethub", "pygit2", "oras", "kubernetes_asyncio", "requests")


@pytest.mark.parametrize("package", ["bot.core", "bot.gotemplate"])
def test_pure_layers_import_no_io_library(package):
    code = (
        f"import sys, pkgutil, importlib, {package} as p\n"
        f"for m in pkgutil.walk_packages(p.__path__, '{package}.'):\n"
        "    importlib.import_module(m.name)\n"
        f"print(sorted(n for n in {FORBIDDEN!r} if n in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
