"""From what the user asked for to a fully resolved, validated run configuration, touching nothing on disk.

Everything that can fail because of user input (names, JSON, overrides, types, a checkpoint, a resume source)
fails here, with a one-line :class:`ConfigError` or :class:`CheckpointError`, before a run directory is created.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch

import graph_rl
from graph_rl.config import ConfigError, from_dict, resolve, suggest, to_dict
from graph_rl.config.graph_params import GraphParams
from graph_rl.config.run_params import RunParams, WandbParams

__all__ = [
    "ALGOS",
    "RunRequest",
    "RunConfig",
    "load_params",
    "resolve_names",
    "choose_device",
    "check_env_id",
    "resume_config",
]

ALGOS = ("SAC", "HAC", "HiTS", "EAT")
AUTO_CUDA_WIDTH = 256
"""``--device auto`` picks CUDA from this hidden-layer width on: below it, kernel-launch latency dominates the
tiny matrix products and one CPU thread is faster (the shipped [32, 32] networks train faster on CPU)."""
RESUME_FIXED_RUN_PARAMS = ("env", "env_kwargs", "seed")
HASH_SEED_AT_IMPORT = os.environ.get("PYTHONHASHSEED")
"""The interpreter's hash seed as far as it can be known (``seed_everything`` later overwrites the variable for
child processes, which does not change this interpreter)."""


@dataclass(kw_only=True)
class RunRequest:
    """A training run as asked for on the command line (or from Python)."""

    env: str | None = None
    algo: str | None = None
    seed: int | None = None
    logdir: Path | None = None
    device: str = "auto"
    threads: int | None = None
    run_overrides: list[str] = field(default_factory=list)
    graph_overrides: list[str] = field(default_factory=list)
    wandb_overrides: list[str] = field(default_factory=list)
    resume: str | None = None
    fork: bool = False
    """With ``resume``: start a new run from the checkpoint's state; graph overrides may then change values that
    keep the shapes (learning rates, tau, a fixed alpha, penalties, ...), and the run is written to a new directory."""
    wandb: str = "disabled"
    progress: bool | None = None
    stop_at: int | None = None


@dataclass(kw_only=True)
class RunConfig:
    """The resolved configuration of a run; ``to_dict`` is what ``config.json`` and checkpoints hold."""

    env: str
    algo: str
    run: RunParams
    graph: GraphParams
    wandb: WandbParams
    device: str
    graph_n_steps: int
    """``n_steps`` the graph was built with (it sizes replay buffers); fixed for the life of a run."""
    forked_from: str | None = None
    """The checkpoint a ``--fork`` run started from (kept in ``config.json`` of the fork and its resumptions)."""
    device_note: str = ""
    """Why ``--device auto`` picked ``device`` (empty when the device was given explicitly)."""

    @property
    def seed(self) -> int:
        return self.run.seed

    def to_dict(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "algo": self.algo,
            "seed": self.run.seed,
            "device": self.device,
            "torch_num_threads": self.run.torch_num_threads,
            "graph_n_steps": self.graph_n_steps,
            "run_params": to_dict(self.run),
            "graph_params": to_dict(self.graph),
            "wandb_params": to_dict(self.wandb),
            "versions": versions(),
            **({"forked_from": self.forked_from} if self.forked_from else {}),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str) -> RunConfig:
        """Rebuild from ``config.json`` data (of a checkpoint at ``where``)."""
        try:
            return cls(
                env=data["env"],
                algo=data["algo"],
                run=from_dict(RunParams, data["run_params"], "run_params"),
                graph=from_dict(GraphParams, data["graph_params"], "graph_params"),
                wandb=from_dict(WandbParams, data["wandb_params"], "wandb_params"),
                device=data["device"],
                graph_n_steps=data["graph_n_steps"],
                forked_from=data.get("forked_from"),
            )
        except KeyError as err:
            raise ConfigError(f"{where}: config.json lacks {err.args[0]!r}") from None
        except ConfigError as err:
            raise ConfigError(f"{where}: config.json does not fit this graph_rl version: {err}") from None


def versions() -> dict[str, str | None]:
    """Versions (and the hash seed and CPU) that the reproducibility guarantee depends on."""
    model, simd = cpu_features()
    return {
        "pythonhashseed": HASH_SEED_AT_IMPORT,
        "graph_rl": graph_rl.__version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "gymnasium": gym.__version__,
        "python": platform.python_version(),
        "cpu_model": model,
        "cpu_simd": None if simd is None else " ".join(simd),
    }


X86_VECTOR_PREFIXES = ("avx", "sse", "fma", "amx")
"""x86 ``flags`` that change which matmul kernels MKL runs (SSE, AVX, FMA, AMX)."""
ARM_VECTOR_PREFIXES = ("asimd", "sve", "sme", "fphp", "bf16", "i8mm")
"""ARM ``Features`` that do the same (NEON, SVE, SME, half precision, bfloat16, int8 matrix multiply)."""


def cpu_features(cpuinfo: Path = Path("/proc/cpuinfo")) -> tuple[str | None, list[str] | None]:
    """The first CPU's model and vector extensions. BLAS libraries (MKL on x86, and those on ARM) pick their kernels
    by the extensions, so the same code and seed give other bits on another CPU, and a chaotic learner turns them
    into another run. x86 lists them as ``flags``, ARM as ``Features``; an ARM CPU without a ``model name`` is named
    by its implementer and part codes. None where ``cpuinfo`` is absent (not Linux)."""
    try:
        lines = cpuinfo.read_text().splitlines()
    except OSError:
        return None, None
    fields: dict[str, str] = {}
    for line in lines:  # the first CPU's entry
        key, sep, value = line.partition(":")
        if sep:
            fields.setdefault(key.strip(), value.strip())
    if "flags" in fields:
        simd = sorted(f for f in fields["flags"].split() if f.startswith(X86_VECTOR_PREFIXES))
    else:
        simd = sorted(f for f in fields.get("Features", "").split() if f.startswith(ARM_VECTOR_PREFIXES))
    model = fields.get("model name")
    if model is None and "CPU part" in fields:
        model = f"implementer {fields.get('CPU implementer', '?')} part {fields['CPU part']}"
    return model, simd


def resolve_names(env: str | None, algo: str | None, data_root: Path) -> tuple[str, str, Path | None]:
    """Check ``--env``/``--algo`` (case-insensitive) against ``data_root/<Env>/<Algo>/``; returns the
    canonical (env, algo, params dir). An ``--env`` that names no folder but a gymnasium id (``module:Id`` imports
    the module first) gets params dir None: generic defaults."""
    if env is None or algo is None:
        raise ConfigError(f"--{'env' if env is None else 'algo'}: required unless resuming")
    envs = sorted(p.name for p in data_root.iterdir() if p.is_dir()) if data_root.is_dir() else []
    by_lower = {a.lower(): a for a in ALGOS}
    if algo.lower() not in by_lower:
        raise ConfigError(f"--algo {algo}: unknown algorithm{suggest(algo, ALGOS)} (available: {', '.join(ALGOS)})")
    algo = by_lower[algo.lower()]
    env = {e.lower(): e for e in envs}.get(env.lower(), env)
    if env not in envs:
        import_env_module(env, f"--env {env}")
        if (env.partition(":")[2] if ":" in env else env) in gym.registry:
            return env, algo, None
        available = ", ".join(envs) or "none"
        raise ConfigError(
            f"--env {env}: unknown environment{suggest(env, envs)} (a params folder: {available}; or a gymnasium id, "
            "module:Id to import its module)"
        )
    params_dir = data_root / env / algo
    if not params_dir.is_dir():
        shipped = sorted(p.name for p in (data_root / env).iterdir() if p.is_dir())
        raise ConfigError(f"--algo {algo}: no parameters for {env} in {params_dir} (available: {', '.join(shipped)})")
    return env, algo, params_dir


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: missing") from None
    except json.JSONDecodeError as err:
        raise ConfigError(f"{path}: malformed JSON ({err.msg} at line {err.lineno} column {err.colno})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object")
    return data


def load_params(request: RunRequest, data_root: Path) -> RunConfig:
    """Load a fresh run's parameter files and apply the request's overrides, seed and thread count."""
    env, algo, params_dir = resolve_names(request.env, request.algo, data_root)
    if params_dir is None:  # a gymnasium id without a params folder: generic defaults derived from the env
        from graph_rl.session.defaults import generic_graph_params, generic_run_params

        run = resolve(RunParams, generic_run_params(env), _cli_overrides(request), "run_params")
        graph_data = generic_graph_params(run.env, algo, run.n_steps, run.success_reward)
        wandb_data: dict[str, Any] = {}
    else:
        run = resolve(RunParams, _read_json(params_dir / "run_params.json"), _cli_overrides(request), "run_params")
        graph_data = _read_json(params_dir / "graph_params.json")
        wandb_path = params_dir / "wandb_params.json"
        wandb_data = _read_json(wandb_path) if wandb_path.is_file() else {}
    graph = resolve(GraphParams, graph_data, request.graph_overrides, "graph_params")
    wandb = resolve(WandbParams, wandb_data, request.wandb_overrides, "wandb_params")
    if graph.algorithm != algo:
        where = params_dir / "graph_params.json" if params_dir is not None else "graph_params"
        raise ConfigError(f"{where}: algorithm is {graph.algorithm!r}, expected {algo!r}")
    check_env_id(run)
    device, note = choose_device(request.device, graph)
    return RunConfig(
        env=env,
        algo=algo,
        run=run,
        graph=graph,
        wandb=wandb,
        device=device,
        device_note=note,
        graph_n_steps=run.n_steps,
    )


def _cli_overrides(request: RunRequest) -> list[str]:
    extra = [f"seed={request.seed}"] if request.seed is not None else []
    extra += [f"torch_num_threads={request.threads}"] if request.threads is not None else []
    return [*request.run_overrides, *extra]


def resume_config(request: RunRequest, saved: dict[str, Any], where: str) -> RunConfig:
    """The config of a resumed run: the checkpoint's, with the overrides that keep the run the same run."""
    config = RunConfig.from_dict(saved, where)
    for flag, value, saved_value in (("--env", request.env, config.env), ("--algo", request.algo, config.algo)):
        if value is not None and value.lower() != saved_value.lower():
            raise ConfigError(f"{flag} {value}: the checkpoint was trained with {saved_value}")
    graph = resolve(GraphParams, to_dict(config.graph), request.graph_overrides, "graph_params")
    if to_dict(graph) != to_dict(config.graph) and not request.fork:
        raise ConfigError(
            "--graph_params: cannot change the graph of a resumed run (its checkpoint fixes it; "
            "--fork starts a new run from the checkpoint with other values)"
        )
    config.graph = graph
    if request.fork and request.resume is not None:
        config.forked_from = request.resume if request.resume.startswith("wandb:") else where
    run = resolve(RunParams, to_dict(config.run), _cli_overrides(request), "run_params")
    for key in RESUME_FIXED_RUN_PARAMS:
        if getattr(run, key) != getattr(config.run, key):
            raise ConfigError(f"run_params.{key}: cannot change on resume (the checkpoint's RNG and env depend on it)")
    config.run = run
    config.wandb = resolve(WandbParams, to_dict(config.wandb), request.wandb_overrides, "wandb_params")
    check_env_id(config.run)
    config.device, config.device_note = choose_device(request.device, config.graph)
    return config


def check_env_id(run: RunParams) -> None:
    """The env id must be registered (``import envs`` registers the Platforms family). Gymnasium's ``module:Id``
    form imports ``module`` first, as ``gymnasium.make`` does (e.g. ``gymnasium_robotics:PointMaze_UMaze-v3``)."""
    import_env_module(run.env, "run_params.env")
    env_id = run.env.partition(":")[2] if ":" in run.env else run.env
    try:
        gym.spec(env_id)
    except gym.error.Error:
        known = [e for e in gym.registry if "/" not in e]
        raise ConfigError(f"run_params.env: unknown gymnasium id {env_id!r}{suggest(env_id, known)}") from None


def import_env_module(env: str, where: str) -> None:
    """Import the ``module`` of a ``module:Id`` env name (its import registers its envs)."""
    if ":" not in env:
        return
    module = env.partition(":")[0]
    try:
        importlib.import_module(module)
    except ImportError as err:
        raise ConfigError(f"{where}: cannot import {module!r} for {env!r} ({err}; is it installed?)") from None


def hidden_widths(graph: GraphParams) -> list[int]:
    return [w for level in graph.level_params_list for w in level.model_kwargs.hidden_layers]


def choose_device(requested: str, graph: GraphParams) -> tuple[str, str]:
    """(device, why): ``cpu``/``cuda`` as requested, or for ``auto`` the faster one for these network sizes."""
    if requested not in ("auto", "cpu", "cuda"):
        raise ConfigError(f"--device {requested}: expected auto, cpu or cuda")
    cuda = torch.cuda.is_available()
    if requested == "cuda" and not cuda:
        raise ConfigError("--device cuda: CUDA is not available (no GPU, or torch built without CUDA)")
    if requested != "auto":
        return requested, ""
    widest = max(hidden_widths(graph), default=0)
    if cuda and widest >= AUTO_CUDA_WIDTH:
        device, why = "cuda", f"widest hidden layer {widest} >= {AUTO_CUDA_WIDTH}"
    elif cuda:
        device, why = "cpu", f"networks are small (widest hidden layer {widest} < {AUTO_CUDA_WIDTH}), CPU is faster"
    else:
        device, why = "cpu", "CUDA is not available"
    return device, f"--device auto picked {device}: {why}"
