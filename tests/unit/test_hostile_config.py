"""A config a hostile (or careless) pull request writes is refused where it goes wrong, never
crashed on: other encodings, control characters, nesting without end, aliases without end,
sizes without end."""

from __future__ import annotations

import tracemalloc

import pytest

from bot.core.config import (
    MAX_CONFIG_BYTES,
    ConfigError,
    load_bootstrap_config,
    read_bot_settings,
)
from bot.core.fileset import FileSet
from bot.golang.yamlv2 import allowed_alias_ratio, decode_first_document, to_plain
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


def laughs(levels: int) -> str:
    """The billion laughs: each level a list of nine aliases of the level before."""
    lines = [f"l0: &l0 [{', '.join(['lol'] * 9)}]"]
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "environment: dev\n" + "\n".join(lines) + "\n"


@pytest.mark.parametrize("levels", [5, 9, 30])
def test_aliases_that_expand_without_end_are_refused_as_yaml_v2_refuses_them(levels):
    tracemalloc.start()
    try:
        said = refused(laughs(levels).encode())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert said.endswith("yaml: document contains excessive aliasing")
    assert said.startswith(f"{PATH}:")
    assert peak < 4 * 1024 * 1024


def test_a_few_aliases_are_read_as_yaml_v2_reads_them():
    text = TEXT.replace("environment:", "x-common: &common {verbosity: debug}\nenvironment:", 1)
    config, _ = read_config(FileSet({PATH: laughs(3).encode() + text.encode()}), PATH)
    assert config.environment


def test_mostly_aliased_but_small_documents_pass_yaml_v2_s_ratio():
    # 100 aliases of a 10-item list: 1,100 values, 91% of them through an alias
    text = "a: &a [" + ", ".join(f"x{i}" for i in range(10)) + "]\n"
    text += "b: [" + ", ".join(["*a"] * 100) + "]\n"
    assert to_plain(decode_first_document(text))["b"][99][9] == "x9"


def test_allowed_alias_ratio_is_yaml_v2_s():
    assert allowed_alias_ratio(1000) == 0.99
    assert allowed_alias_ratio(2_200_000) == pytest.approx(0.545)
    assert allowed_alias_ratio(10_000_000) == 0.10


def test_a_config_past_the_size_limit_is_refused_before_it_is_read():
    data = TEXT.encode() + b"#" * MAX_CONFIG_BYTES
    assert refused(data) == (
        f"{PATH}: error: the config is {len(data):,} bytes; at most {MAX_CONFIG_BYTES:,} are read"
    )


def test_a_config_text_past_the_size_limit_is_not_parsed_wherever_it_comes_from():
    text = TEXT + "#" * MAX_CONFIG_BYTES  # as the commands and the deploy read it from GitHub
    with pytest.raises(ConfigError) as caught:
        load_bootstrap_config(text)
    assert str(caught.value) == (
        f"{PATH}: error: the config is {len(text):,} characters; "
        f"at most {MAX_CONFIG_BYTES:,} are read"
    )
    assert caught.value.go_message is None  # the Go tool would read it
    assert read_bot_settings(text) is None  # fails closed
    assert read_bot_settings(TEXT) is not None
