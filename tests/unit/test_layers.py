"""The pure core stays pure: importing it pulls in no network, git, registry or cluster library."""

from __future__ import annotations

import subprocess
import sys

FORBIDDEN = ("aiohttp", "httpx", "gidgethub", "pygit2", "oras", "kubernetes_asyncio", "requests")


def test_core_imports_no_io_library():
    code = (
        "import sys, pkgutil, importlib, bot.core\n"
        "for m in pkgutil.walk_packages(bot.core.__path__, 'bot.core.'):\n"
        "    importlib.import_module(m.name)\n"
        f"print(sorted(n for n in {FORBIDDEN!r} if n in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
