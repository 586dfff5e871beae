"""A config a hostile (or careless) pull request writes is refused where it goes wrong, never
crashed on: other encodings, control characters, nesting without end."""

from __future__ import annotations

import pytest

from bot.core.fileset import FileSet
from bot.services.pipeline import LandscapeError, read_config
from tests.reference_case import config_text

PATH = ".bootstrap/config.yaml"
TEXT = config_text("ghcr.io/example//github.com/openmcp-project/openmcp:v0.0.1")


def refused(data: bytes) -> str:
    with pytest.raises(LandscapeError) as err:
        read_config(FileSet({PATH: data}), PATH)
    assert err.value.stage == "config"
    (problem,) = err.value.problems
    return str(problem)


def test_a_utf8_config_with_a_byte_order_mark_is_read():
    config, _ = read_config(FileSet({PATH: TEXT.encode("utf-8-sig")}), PATH)
    assert config.environment


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_utf16_is_refused_with_what_to_do(encoding):
    data = TEXT.encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    assert refused(data) == f"{PATH}:1:1: error: yaml: the file is UTF-16; save it as UTF-8"


def test_bytes_that_are_not_utf8_are_refused_where_they_stand():
    data = TEXT.encode() + "# café\n".encode("latin-1")
    line = TEXT.count("\n") + 1
    assert refused(data) == (
        f"{PATH}:{line}:6: error: yaml: line {line}: invalid UTF-8 at column 6; "
        f"save the file as UTF-8"
    )


def test_control_characters_are_refused_not_crashed_on():
    assert "special characters are not allowed" in refused(b"environment: dev\x00\n")


def test_nesting_without_end_is_refused_at_its_line():
    text = "environment: dev\nextra: " + "[" * 50_000 + "]" * 50_000 + "\n"
    assert refused(text.encode()).startswith(f"{PATH}:2:")
