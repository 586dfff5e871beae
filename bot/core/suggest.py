"""What is there instead, when a name is not: the available names and the nearest one. Pure."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

#: the most names listed after "available:"
MAX_LISTED = 10


def listed(names: Sequence[str], *, most: int = MAX_LISTED) -> str:
    """`a`, `b` and 3 more; "none" for none."""
    if not names:
        return "none"
    shown = ", ".join(f"`{n}`" for n in names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def did_you_mean(wanted: str, known: Iterable[str]) -> str:
    """ "; did you mean `x`?" for the nearest known name, or "" when none is near."""
    near = difflib.get_close_matches(wanted, list(known), n=1, cutoff=0.6)
    return f"; did you mean `{near[0]}`?" if near else ""


def not_there(what: str, wanted: str, where: str, known: Sequence[str]) -> str:
    """ "<what> `x` is not in <where>; available: …; did you mean `y`?"."""
    return (
        f"{what} `{wanted}` is not in {where}; available: {listed(known)}"
        f"{did_you_mean(wanted, known)}"
    )
