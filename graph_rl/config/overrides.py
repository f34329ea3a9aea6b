"""Command-line overrides of JSON parameters: ``level_params_list[0].model_kwargs.learning_rate=0.001``.

Values are parsed as JSON where possible (``0.001``, ``true``, ``null``, ``[64, 64]``, ``{"a": 1}``), else taken
as plain strings. Overriding a key that does not exist is an error with a close-match suggestion; a new key can
be added deliberately by prefixing the path with ``+`` (``+level_params_list[1].algo_kwargs.buffer_size=1000``).
Types are checked afterwards by the dataclass schema, so a wrong type fails with the same one-line error.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any, TypeVar, cast

from graph_rl.config.schema import ConfigError, from_dict, suggest, to_dict

T = TypeVar("T")

__all__ = ["parse_path", "parse_override", "apply_overrides", "get_path", "resolve"]

_TOKEN = re.compile(r"([A-Za-z_][A-Za-z0-9_\-]*)|\[(\d+)\]")


def parse_path(path: str) -> list[str | int]:
    """``a.b[0].c`` → ``['a', 'b', 0, 'c']``; raises ConfigError on malformed paths."""
    parts: list[str | int] = []
    for segment in path.split("."):
        pos = 0
        if not segment:
            raise ConfigError(f"override path '{path}': empty component")
        while pos < len(segment):
            m = _TOKEN.match(segment, pos)
            if m is None or (m.group(1) is not None and pos != 0):
                raise ConfigError(f"override path '{path}': cannot parse near '{segment[pos:]}'")
            parts.append(m.group(1) if m.group(1) is not None else int(m.group(2)))
            pos = m.end()
    return parts


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_override(item: str) -> tuple[list[str | int], Any, bool]:
    """``'[+]path=value'`` → (path parts, parsed value, adds_new_key)."""
    if "=" not in item:
        raise ConfigError(f"override '{item}': expected KEY=VALUE")
    key, _, raw = item.partition("=")
    add = key.startswith("+")
    return parse_path(key[1:] if add else key), _parse_value(raw), add


def _fmt(parts: list[str | int]) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else p)
    return out


def get_path(data: Any, parts: list[str | int]) -> Any:
    """Value at ``parts`` in nested dicts/lists (raises ConfigError if absent)."""
    node = data
    for i, p in enumerate(parts):
        here = _fmt(parts[: i + 1])
        if isinstance(p, int):
            if not isinstance(node, list) or p >= len(node):
                raise ConfigError(f"{here}: no such list element")
        elif not isinstance(node, dict) or p not in node:
            keys = node.keys() if isinstance(node, dict) else []
            raise ConfigError(f"{here}: unknown parameter{suggest(p, keys)}")
        node = node[p]
    return node


def apply_overrides(data: dict[str, Any], items: list[str], section: str = "") -> dict[str, Any]:
    """A deep copy of ``data`` with every ``KEY=VALUE`` item applied (strict about unknown keys)."""
    out = copy.deepcopy(data)
    for item in items:
        parts, value, add = parse_override(item)
        parent = get_path(out, parts[:-1]) if len(parts) > 1 else out
        last = parts[-1]
        where = f"{section}: " if section else ""
        if isinstance(last, int):
            if not isinstance(parent, list) or last >= len(parent):
                raise ConfigError(f"{where}{_fmt(parts)}: no such list element")
        elif not isinstance(parent, dict):
            raise ConfigError(f"{where}{_fmt(parts)}: parent is not an object")
        elif last not in parent and not add:
            raise ConfigError(
                f"{where}{_fmt(parts)}: unknown parameter{suggest(last, parent.keys())} (prefix with '+' to add a new key)"
            )
        cast(Any, parent)[last] = value
    return out


def resolve(cls: type[T], data: Any, overrides: list[str] | None = None, section: str = "") -> T:
    """Load ``data`` as ``cls``, apply ``KEY=VALUE`` overrides, validate again.

    Overrides act on the fully resolved config (defaults filled in), so every parameter the schema
    knows can be overridden even if the JSON file leaves it at its default; only names the schema
    does not know need the explicit ``+`` prefix (and then fail validation unless the target is a
    free-form mapping).
    """
    where = f"{section}." if section else ""
    obj = from_dict(cls, data, section)
    if not overrides:
        return obj
    try:
        return from_dict(cls, apply_overrides(to_dict(obj), overrides), section)
    except ConfigError as err:
        msg = str(err)
        raise ConfigError(msg if not where or msg.startswith(where) else where + msg) from None
