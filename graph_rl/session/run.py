"""Set up and execute a training run: run directory, logs, checkpoints, wandb, resume and signals.

:func:`prepare_run` validates everything and builds the envs, the graph and the session (restoring a checkpoint
when resuming) without touching the file system; :meth:`PreparedRun.execute` then creates or continues the run
directory and trains. A resumed run in its original directory first cuts every log back to the checkpoint's step,
so its files end up identical to those of an uninterrupted run.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import torch
from tqdm import tqdm

from graph_rl.checkpoint import (
    Checkpoint,
    CheckpointError,
    load_checkpoint,
    point_latest,
    remove_checkpoints,
    resolve_resume_source,
    save_checkpoint,
)
from graph_rl.checkpoint.source import ApiFactory
from graph_rl.config import ConfigError
from graph_rl.config.run_params import RunParams
from graph_rl.logging import ConsoleSink, CsvSink, JsonlSink, Logger, TensorBoardSink, TimingSink, truncate_after_step
from graph_rl.rng import RngRegistry, seed_everything
from graph_rl.session.session import Callback, GraphLike, Session, SessionResult
from graph_rl.session.setup import RunConfig, RunRequest, load_params, resume_config
from graph_rl.session.video import write_gif
from graph_rl.spaces.goal_env import GoalEnvShapeError, adapt_goal_env

__all__ = ["PreparedRun", "prepare_run", "train", "make_env", "make_goal_env", "GraphFactory", "LOG_FILES"]

GraphFactory = Callable[[RunConfig, gym.Env, RngRegistry], GraphLike]
LOG_FILES = ("metrics.jsonl", "session_train.csv", "session_test.csv")
"""Deterministic logs, cut back to the checkpoint step on resume (``timing.jsonl`` is only appended to)."""
TRAIN_COLUMNS = ("episode", "return", "length", "success")
TEST_COLUMNS = ("episodes", "return", "length", "success", "return_success")


def default_graph_factory(config: RunConfig, env: gym.Env, rng: RngRegistry) -> GraphLike:
    from graph_rl.graph import build_graph

    return build_graph(
        config.algo,
        env,
        config.graph,
        rng,
        device=config.device,
        n_steps=config.graph_n_steps,
        success_reward=config.run.success_reward,
    )


def make_env(run: RunParams, **kwargs: Any) -> gym.Env:
    """``gymnasium.make`` with the run's env kwargs; bad kwargs become a one-line ConfigError."""
    try:
        return gym.make(run.env, **{**run.env_kwargs, **kwargs})
    except TypeError as err:
        raise ConfigError(f"run_params.env_kwargs: {err}") from None


def make_goal_env(config: RunConfig, **kwargs: Any) -> gym.Env:
    """The run's env in the graph's observation shape (:func:`graph_rl.spaces.goal_env.adapt_goal_env`); an env
    without ``desired_goal`` is left as it is, for a graph of one's own (the builders refuse it with one line)."""
    env = make_env(config.run, **kwargs)
    space = env.observation_space
    if not isinstance(space, gym.spaces.Dict) or "desired_goal" not in space.spaces:
        return env
    try:
        return adapt_goal_env(env, config.graph.observation_slices)
    except GoalEnvShapeError as err:
        raise ConfigError(str(err)) from None


@dataclass
class PreparedRun:
    """A validated run, ready to execute; nothing has been written yet."""

    config: RunConfig
    run_dir: Path
    session: Session
    checkpoint: Checkpoint | None
    append: bool
    """True when continuing the checkpoint's own run directory (logs are cut back and appended to)."""
    generated_name: bool = False
    """The run directory name was made up (``runs/<env>-<algo>-<time>``), so a clash may pick a suffixed name."""
    wandb_mode: str = "disabled"
    progress: bool = False
    _tmp: Any = field(default=None, repr=False)

    def execute(self, on_start: Callable[[PreparedRun], None] | None = None) -> SessionResult:
        """Create or continue the run directory, train, and close every log (also on errors and Ctrl-C).

        ``on_start`` runs once everything is set up, right before training (the CLI announces the run there,
        so a failure to start leaves nothing but its one-line error on stderr).
        """
        created = self.generated_name or not self.run_dir.exists()
        if self.generated_name:
            self.run_dir = _claim_new_dir(self.run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        config = self.config.to_dict()
        try:
            wandb_sink = self._start_wandb(config)
        except Exception as err:  # noqa: BLE001 - a failed wandb start must not leave a half-made run behind
            if created:
                shutil.rmtree(self.run_dir, ignore_errors=True)
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise ConfigError(f"--wandb {self.wandb_mode}: cannot start the wandb run ({first})") from None
        step = self.checkpoint.step if self.checkpoint else 0
        if self.append:
            for name in LOG_FILES:
                truncate_after_step(self.run_dir / name, step)
            self._rewind_checkpoints(step)
        _write_json_atomic(self.run_dir / "config.json", config)
        logger = self.session.logger
        self._add_sinks(logger, purge_step=step + 1 if self.checkpoint else None)
        if wandb_sink is not None:
            logger.add(wandb_sink)
        self.session.checkpoint_fn = self._checkpoint_fn(config, wandb_sink)
        if self.config.run.video_frequency is not None:
            self.session.video_fn = self._video_fn(wandb_sink)
        if self.checkpoint and not self.append:
            self.session.counters.last_checkpoint_step = None  # a new run directory always gets its own checkpoint
        if self.checkpoint:
            logger.log("timing", step, {"resumed_from_step": step})
        try:
            if on_start is not None:
                on_start(self)
            with _stop_on_signals(self.session):
                return self.session.run()
        finally:
            logger.close()
            if self._tmp is not None:
                self._tmp.cleanup()

    def _rewind_checkpoints(self, step: int) -> None:
        """Resuming in place from an older checkpoint abandons the later ones: point ``latest`` back, drop them."""
        assert self.checkpoint is not None
        root = self.run_dir / "checkpoints"
        if self.checkpoint.path.parent.resolve() == root.resolve():
            point_latest(root, self.checkpoint.path)
            remove_checkpoints(root, after_step=step)

    def _start_wandb(self, config: dict[str, Any]) -> Any:
        if self.wandb_mode == "disabled":
            return None
        from graph_rl.logging.wandb_sink import WandbSink, artifact_name, start_wandb_run

        c = self.config
        name = c.wandb.run_name(algo=c.algo, env=c.env, seed=c.seed)
        mode = self.wandb_mode
        run = start_wandb_run(mode, c.wandb, run_dir=self.run_dir, config=config, name=name)  # type: ignore[arg-type]
        return WandbSink(run, artifact=artifact_name(c.algo, c.env, run.id) if c.wandb.model_logging else None)

    def _add_sinks(self, logger: Logger, purge_step: int | None) -> None:
        d = self.run_dir
        logger.add(JsonlSink(d / "metrics.jsonl"))
        logger.add(TimingSink(d / "timing.jsonl"))
        logger.add(CsvSink(d / "session_train.csv", "train", TRAIN_COLUMNS))
        logger.add(CsvSink(d / "session_test.csv", "test", TEST_COLUMNS))
        logger.add(ConsoleSink(tqdm.write if self.progress else print))
        if self.config.run.tensorboard_log:
            logger.add(TensorBoardSink(d / "tensorboard", purge_step=purge_step))

    def _checkpoint_fn(self, config: dict[str, Any], wandb_sink: Any) -> Callable[[int, dict[str, Any]], Path]:
        root = self.run_dir / "checkpoints"
        meta = {"algo": self.config.algo, "env": self.config.env, "seed": self.config.seed}
        keep = self.config.run.keep_checkpoints

        def checkpoint(step: int, state: dict[str, Any]) -> Path:
            path = save_checkpoint(root, step, state, config)
            remove_checkpoints(root, keep_last=keep)
            if wandb_sink is not None:
                wandb_sink.log_checkpoint(path, step, {**meta, "env_step": step})
            return path

        return checkpoint

    def _video_fn(self, wandb_sink: Any) -> Callable[[int, list[Any]], None]:
        root = self.run_dir / "videos"
        fps = self.session.test_env.metadata.get("render_fps", 30) / self.config.run.video_every_k_steps

        def video(step: int, frames: list[Any]) -> None:
            root.mkdir(exist_ok=True)
            path = root / f"test-step-{step}.gif"
            write_gif(path, frames, fps)
            if wandb_sink is not None:
                wandb_sink.log_video(path, step)

        return video


def _claim_new_dir(path: Path) -> Path:
    """Create ``path``, or ``path-1``, ``path-2``, ... if another process took it since it was chosen."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for i in range(1000):
        candidate = path if i == 0 else path.with_name(f"{path.name}-{i}")
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            continue
    raise ConfigError(f"--logdir {path}: cannot create a new run directory")


def _write_json_atomic(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)


@contextlib.contextmanager
def _stop_on_signals(session: Session) -> Iterator[None]:
    """First SIGINT/SIGTERM: finish the episode, checkpoint, exit cleanly. Second: abort (KeyboardInterrupt)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        name = signal.Signals(signum).name
        if session.stop_requested:
            raise KeyboardInterrupt
        session.request_stop(name)
        print(f"graph_rl: {name}: stopping after this episode with a checkpoint (again to abort)", file=sys.stderr)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _run_dir(request: RunRequest, config: RunConfig, checkpoint: Checkpoint | None) -> tuple[Path, bool]:
    """(run directory, append?) — a resumed run continues its own directory unless ``--logdir`` says otherwise;
    a forked one never does."""
    own = None
    if checkpoint is not None and checkpoint.path.parent.name == "checkpoints":
        candidate = checkpoint.path.parent.parent
        own = candidate if (candidate / "config.json").is_file() else None
    target = request.logdir if request.fork else request.logdir or own
    if own is not None and target is not None and target.resolve() == own.resolve():
        if request.fork:
            raise ConfigError(f"--logdir {target}: --fork starts a new run; choose another directory")
        return own, True
    if target is None:
        name = config.env.replace(":", "_").replace("/", "_")
        target = Path("runs") / f"{name}-{config.algo}-{time.strftime('%Y%m%d-%H%M%S')}"
    elif target.exists() and (not target.is_dir() or any(target.iterdir())):
        hint = "use --resume on it to continue that run" if (target / "checkpoints").is_dir() else "choose another"
        raise ConfigError(f"--logdir {target}: exists and is not empty ({hint})")
    return target, False


def prepare_run(
    request: RunRequest,
    *,
    data_root: Path,
    graph_factory: GraphFactory = default_graph_factory,
    api_factory: ApiFactory | None = None,
    callbacks: tuple[Callback, ...] = (),
    config: RunConfig | None = None,
) -> PreparedRun:
    """Resolve the config, load a checkpoint if resuming, build envs + graph + session; writes nothing.

    ``config``: a fresh run's already resolved config (the Python API's), used instead of loading the request's
    parameter files; not with ``request.resume``, whose config comes from the checkpoint.
    """
    if config is not None and request.resume is not None:
        raise ConfigError("a resumed run takes its config from the checkpoint; pass overrides instead of a config")
    if request.wandb not in ("online", "offline", "disabled"):
        raise ConfigError(f"--wandb {request.wandb}: expected online, offline or disabled")
    if request.fork and request.resume is None:
        raise ConfigError("--fork: needs --resume (the checkpoint to start from)")
    checkpoint, tmp = None, None
    try:
        if request.resume is not None:
            tmp = tempfile.TemporaryDirectory(prefix="graph_rl-resume-")
            checkpoint = load_checkpoint(resolve_resume_source(request.resume, Path(tmp.name), api_factory))
            config = resume_config(request, checkpoint.config, str(checkpoint.path))
        elif config is None:
            config = load_params(request, data_root)
        prepared = _build(request, config, checkpoint, graph_factory, callbacks)
    except BaseException:
        if tmp is not None:
            tmp.cleanup()
        raise
    prepared._tmp = tmp
    return prepared


def _build(
    request: RunRequest,
    config: RunConfig,
    checkpoint: Checkpoint | None,
    graph_factory: GraphFactory,
    callbacks: tuple[Callback, ...],
) -> PreparedRun:
    run_dir, append = _run_dir(request, config, checkpoint)
    seed_everything(config.seed)
    torch.set_num_threads(config.run.torch_num_threads)
    rng = RngRegistry(config.seed)
    # Rendering reads env state only, so the test env with a render mode runs the same episodes.
    videos = {"render_mode": "rgb_array"} if config.run.video_frequency is not None else {}
    train_env, test_env = make_goal_env(config), make_goal_env(config, **videos)
    graph = graph_factory(config, train_env, rng)
    progress = sys.stderr.isatty() if request.progress is None else request.progress
    session = Session(
        graph,
        train_env=train_env,
        test_env=test_env,
        params=config.run,
        rng=rng,
        logger=Logger(),
        callbacks=callbacks,
        progress=progress,
        stop_at=request.stop_at,
    )
    if checkpoint is not None:
        try:
            session.load_state_dict(checkpoint.state)
        except (KeyError, ValueError, RuntimeError, TypeError) as err:
            first = str(err).strip().splitlines()[0] if str(err).strip() else ""
            why = f"{type(err).__name__}: {first}"
            raise CheckpointError(f"{checkpoint.path}: does not fit the graph ({why})") from None
    return PreparedRun(
        config=config,
        run_dir=run_dir,
        session=session,
        checkpoint=checkpoint,
        append=append,
        generated_name=request.logdir is None and not append,
        wandb_mode=request.wandb,
        progress=progress,
    )


def train(request: RunRequest, *, data_root: Path, **kwargs: Any) -> tuple[Path, SessionResult]:
    """Prepare and execute a run; returns its directory and result (the Python twin of ``train.py``)."""
    prepared = prepare_run(request, data_root=data_root, **kwargs)
    return prepared.run_dir, prepared.execute()
