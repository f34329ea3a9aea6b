"""Search-space specs given on the command line: ``PATH:TYPE:...`` for any dotted config parameter.

    level_params_list[0].model_kwargs.alpha:float:1e-4:1e-1:log
    level_params_list[1].algo_kwargs.batch_size:int:64:512:64       (low, high, step)
    level_params_list[0].model_kwargs.hidden_layers:cat:[[32,32],[64,64]]
    level_params_list[0].algo_kwargs.goal_sampling_strategy:cat:future,episode

The original asked for each parameter's type and bounds interactively (reference 6.7), which cannot run in a
batch job; here everything is in the spec. Paths are checked for syntax up front; whether they exist is checked
by train.py's strict config layer, whose error is reported with the first failed trial.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, cast

from graph_rl.config import ConfigError, parse_path

if TYPE_CHECKING:
    import optuna

__all__ = ["ParamSpec", "parse_spec", "SpecError"]

Section = Literal["graph_params", "run_params"]
Kind = Literal["float", "int", "cat"]


class SpecError(ValueError):
    """A malformed search-space spec; the message names the spec and the expected form."""


def _number(text: str, spec: str, kind: type) -> Any:
    try:
        return kind(float(text)) if kind is int and "e" in text.lower() else kind(text)
    except ValueError:
        raise SpecError(f"{spec!r}: {text!r} is not a valid {kind.__name__}") from None


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


@dataclass(frozen=True)
class ParamSpec:
    """One searched parameter: where it goes (``section``, dotted ``path``) and how it is sampled."""

    section: Section
    path: str
    kind: Kind
    low: float = 0.0
    high: float = 0.0
    log: bool = False
    step: int | None = None
    choices: tuple[Any, ...] = ()

    @property
    def name(self) -> str:
        """Optuna parameter name: the path, prefixed by ``run_params.`` for run parameters."""
        return self.path if self.section == "graph_params" else f"run_params.{self.path}"

    def suggest(self, trial: optuna.Trial) -> Any:
        """Draw a value; categorical choices that optuna cannot store (lists, dicts) travel as JSON strings."""
        if self.kind == "float":
            return trial.suggest_float(self.name, self.low, self.high, log=self.log)
        if self.kind == "int":
            return trial.suggest_int(self.name, int(self.low), int(self.high), step=self.step or 1, log=self.log)
        stored = [c if c is None or isinstance(c, (bool, int, float, str)) else json.dumps(c) for c in self.choices]
        return self.decode(trial.suggest_categorical(self.name, stored))

    def decode(self, stored: Any) -> Any:
        """The config value behind an optuna-stored value (undoes the JSON-string encoding of ``suggest``)."""
        if self.kind == "cat" and isinstance(stored, str) and stored not in self.choices:
            return json.loads(stored)
        return stored

    def override(self, value: Any) -> str:
        """``PATH=VALUE`` for train.py's ``--graph_params``/``--run_params``."""
        return f"{self.path}={json.dumps(value)}"


def parse_spec(spec: str, section: Section = "graph_params") -> ParamSpec:
    """Parse ``PATH:float:LOW:HIGH[:log]``, ``PATH:int:LOW:HIGH[:log|:STEP]`` or ``PATH:cat:V1,V2,...|[JSON list]``.

    Raises:
        SpecError: malformed spec, unknown type, empty range or bad path syntax.
    """
    path, _, rest = spec.partition(":")
    kind, _, args = rest.partition(":")
    try:
        parse_path(path)
    except ConfigError as err:
        raise SpecError(f"{spec!r}: {err}") from None
    if kind == "cat":
        choices = json.loads(args) if args.startswith("[") else [_json_or_text(c) for c in args.split(",")]
        if not isinstance(choices, list) or len(choices) < 2 or "" in choices:
            raise SpecError(f"{spec!r}: expected PATH:cat:V1,V2,... or PATH:cat:[JSON list] with at least two choices")
        return ParamSpec(section, path, "cat", choices=tuple(choices))
    if kind not in ("float", "int"):
        raise SpecError(
            f"{spec!r}: expected PATH:float:LOW:HIGH[:log], PATH:int:LOW:HIGH[:log|:STEP] or PATH:cat:V1,V2,..."
        )
    parts = args.split(":")
    if len(parts) not in (2, 3):
        raise SpecError(f"{spec!r}: expected LOW:HIGH and an optional 'log'{' or STEP' if kind == 'int' else ''}")
    number = float if kind == "float" else int
    low, high = _number(parts[0], spec, number), _number(parts[1], spec, number)
    log, step = False, None
    if len(parts) == 3:
        if parts[2] == "log":
            log = True
        elif kind == "int":
            step = _number(parts[2], spec, int)
            if step < 1:
                raise SpecError(f"{spec!r}: step must be >= 1")
        else:
            raise SpecError(f"{spec!r}: the optional fourth field of a float is 'log', got {parts[2]!r}")
    if not low < high:
        raise SpecError(f"{spec!r}: need LOW < HIGH, got {low} and {high}")
    if log and low <= 0:
        raise SpecError(f"{spec!r}: a log range needs LOW > 0, got {low}")
    return ParamSpec(section, path, cast(Kind, kind), low=low, high=high, log=log, step=step)
