"""Reading (and, for tests and examples, writing) OCM component versions without the ocm CLI.

Pure: `location`, `model`, `layout`, `graph`, `credentials`, `egress`. I/O: `ctf`, `registry`,
`reader`, `builder`. `open_reader` turns a location into a reader over the right store.

Layer rule: imports golang only; of the outside libraries, oras, requests and urllib3 are
imported by `registry` alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.ocm.access import open_reader, open_store

__all__ = ["open_reader", "open_store"]

# The I/O half is imported on first use, so the pure modules (model, graph, location) can be
# used without pulling in the registry client.
_ACCESS = ("open_reader", "open_store")


def __getattr__(name: str) -> Any:
    if name in _ACCESS:
        from bot.ocm import access

        return getattr(access, name)
    raise AttributeError(f"module 'bot.ocm' has no attribute {name!r}")
