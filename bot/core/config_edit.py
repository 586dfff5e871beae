"""Edit the bootstrap config's `component.location` version in the text itself. Pure.

An upgrade changes one thing in a file people maintain by hand, so it is a text edit: comments,
quoting, key order and blank lines stay as they are, and the diff is one line. The location is
`<repository>//<component>[:<version>]`; only the version after the component name changes.
"""

from __future__ import annotations

import yaml

from bot.core.config import CONFIG_PATH
from bot.core.failures import Failure


class ConfigEditError(Failure, ValueError):
    """The config's `component.location` cannot be edited as text (it is missing, or written
    in a form the edit would have to re-encode, such as a block scalar)."""


def with_version(location: str, version: str) -> str:
    """`location` naming `version` instead of its current one."""
    head, separator, tail = location.rpartition("//")
    if not separator or not tail:
        raise ConfigEditError(f"component.location names no component: {location!r}")
    component = tail.partition(":")[0]
    return f"{head}//{component}:{version}"


def _location_node(text: str) -> yaml.ScalarNode:
    try:
        document = next(yaml.compose_all(text, Loader=yaml.SafeLoader), None)
    except yaml.YAMLError as err:
        raise ConfigEditError(f"{CONFIG_PATH} is not YAML the edit can follow: {err}") from None
    found = None
    if isinstance(document, yaml.MappingNode):
        for key, value in document.value:
            if key.value == "component" and isinstance(value, yaml.MappingNode):
                for inner_key, inner in value.value:
                    if inner_key.value == "location":
                        found = inner  # the last one wins, as when the config is read
    if not isinstance(found, yaml.ScalarNode) or not isinstance(found.value, str):
        raise ConfigEditError(f"{CONFIG_PATH} has no component.location string")
    return found


def set_component_location(text: str, location: str) -> str:
    """The config text with `component.location` set to `location`, every other byte
    unchanged (a mirror's location replaces the upstream one)."""
    node = _location_node(text)
    if node.style in ("|", ">"):
        raise ConfigEditError("component.location is a block scalar; write it on one line")
    start, end = node.start_mark.index, node.end_mark.index
    source = text[start:end]
    at = source.find(node.value)
    if at < 0:  # escapes or line folding inside the scalar: not a plain copy of the value
        raise ConfigEditError("component.location is written with escapes; write it plainly")
    edited = text[:start] + source[:at] + location + source[at + len(node.value) :] + text[end:]
    if _location_node(edited).value != location:
        raise ConfigEditError("component.location could not be edited in place")
    return edited


def set_component_version(text: str, version: str) -> str:
    """The config text with `component.location` at `version`, every other byte unchanged."""
    node = _location_node(text)
    if node.style in ("|", ">"):
        raise ConfigEditError("component.location is a block scalar; write it on one line")
    start, end = node.start_mark.index, node.end_mark.index
    source = text[start:end]
    old_value, new_value = node.value, with_version(node.value, version)
    tail = old_value.rpartition("//")[2]
    at = source.rfind(tail)
    if at < 0:  # escapes or line folding inside the scalar: not a plain copy of the value
        raise ConfigEditError("component.location is written with escapes; write it plainly")
    new_tail = new_value.rpartition("//")[2]
    edited = text[:start] + source[:at] + new_tail + source[at + len(tail) :] + text[end:]
    if _location_node(edited).value != new_value:
        raise ConfigEditError("component.location could not be edited in place")
    return edited
