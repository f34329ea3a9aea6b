"""Strict config loading and dotted-path overrides."""

from dataclasses import dataclass, field
from typing import Literal

import pytest

from graph_rl.config import ConfigError, apply_overrides, from_dict, parse_path, resolve, to_dict


@dataclass(kw_only=True)
class Model:
    learning_rate: float = 1e-3
    hidden_layers: list[int] = field(default_factory=lambda: [32, 32])
    kind: Literal["a", "b"] = "a"
    budget: int | None = None


@dataclass(kw_only=True)
class Level:
    model_kwargs: Model = field(default_factory=Model)
    thresholds: dict[str, float] = field(default_factory=dict)


@dataclass(kw_only=True)
class Graph:
    n_layers: int
    level_params_list: list[Level]

    def validate(self, path: str) -> None:
        if len(self.level_params_list) != self.n_layers:
            raise ConfigError(f"{path or 'graph'}.level_params_list: expected {self.n_layers} levels")


BASE = {"n_layers": 1, "level_params_list": [{"model_kwargs": {"learning_rate": 0.1}, "thresholds": {"x": 1}}]}


def test_round_trip() -> None:
    g = from_dict(Graph, BASE)
    assert g.level_params_list[0].model_kwargs.learning_rate == 0.1
    assert g.level_params_list[0].thresholds == {"x": 1.0}
    assert from_dict(Graph, to_dict(g)) == g


def test_override_changes_value_and_parses_json() -> None:
    g = resolve(Graph, BASE, ["level_params_list[0].model_kwargs.hidden_layers=[64, 64]", "level_params_list[0].model_kwargs.budget=3"])
    assert g.level_params_list[0].model_kwargs.hidden_layers == [64, 64]
    assert g.level_params_list[0].model_kwargs.budget == 3  # a schema key absent from the JSON
    assert BASE["level_params_list"][0]["model_kwargs"] == {"learning_rate": 0.1}  # input untouched


def test_plus_adds_a_key() -> None:
    d = apply_overrides(BASE, ["+level_params_list[0].model_kwargs.kind=\"b\""])
    assert from_dict(Graph, d).level_params_list[0].model_kwargs.kind == "b"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("level_params_list[0].model_kwargs.learnig_rate=1", "level_params_list[0].model_kwargs.learnig_rate: unknown parameter (did you mean 'learning_rate'?)"),
        ("level_params_list[2].model_kwargs.learning_rate=1", "level_params_list[2]: no such list element"),
        ("level_params_list[0].model_kwargs", "expected KEY=VALUE"),
        ("level_params_list[0]..x=1", "empty component"),
    ],
)
def test_bad_overrides(override: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")):
        apply_overrides(BASE, [override])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"n_layers": 1, "level_params_list": [{"model_kwargs": {"learning_rate": "fast"}}]}, "level_params_list[0].model_kwargs.learning_rate: expected a number, got str 'fast'"),
        ({"n_layers": 1, "level_params_list": [{"model_kwargs": {"kind": "c"}}]}, "level_params_list[0].model_kwargs.kind: 'c' is not one of 'a' | 'b'"),
        ({"n_layers": 1.5, "level_params_list": []}, "n_layers: expected an integer, got float 1.5"),
        ({"n_layers": True, "level_params_list": []}, "n_layers: expected an integer, got bool True"),
        ({"level_params_list": []}, "n_layers: required parameter is missing"),
        ({"n_layers": 2, "level_params_list": [{}]}, "graph.level_params_list: expected 2 levels"),
        ({"n_layers": 1, "level_params_list": [{"model_kwargs": {"hidden_layers": [32, "x"]}}]}, "level_params_list[0].model_kwargs.hidden_layers[1]: expected an integer"),
    ],
)
def test_validation_errors_name_the_culprit(data: dict, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        from_dict(Graph, data)
    assert str(err.value).startswith(message)
    assert "\n" not in str(err.value)


def test_parse_path() -> None:
    assert parse_path("a.b[0].c[12]") == ["a", "b", 0, "c", 12]


def test_resolve_unknown_key_and_section_prefix() -> None:
    with pytest.raises(ConfigError, match=r"^graph_params\.level_params_list\[0\]\.model_kwargs\.lr: unknown parameter"):
        resolve(Graph, BASE, ["level_params_list[0].model_kwargs.lr=1"], section="graph_params")
    with pytest.raises(ConfigError, match="unknown parameter"):
        resolve(Graph, BASE, ["+level_params_list[0].model_kwargs.lr=1"])
    g = resolve(Graph, BASE, ["+level_params_list[0].thresholds.y=0.5"])  # free-form mapping: + adds a key
    assert g.level_params_list[0].thresholds == {"x": 1.0, "y": 0.5}
