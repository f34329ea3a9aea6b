"""Typed, strictly validated configuration loaded from JSON, with dotted-path overrides."""

from graph_rl.config.overrides import apply_overrides, get_path, parse_override, parse_path, resolve
from graph_rl.config.schema import ConfigError, from_dict, suggest, to_dict

__all__ = [
    "ConfigError",
    "from_dict",
    "to_dict",
    "resolve",
    "suggest",
    "apply_overrides",
    "get_path",
    "parse_override",
    "parse_path",
]
