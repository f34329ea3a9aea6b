"""The training session: alternate training episodes, learning, test blocks and checkpoints until a budget ends.

One training episode runs until the env terminates or truncates, or the graph reports that its root node
returned control. After it: log the episode, run the callbacks, ``graph.learn``, every ``test_frequency``
training episodes a block of ``n_test_episodes`` deterministic test episodes (on a separate env instance, not
counted in the budget), and a checkpoint when the env step count passed a multiple of ``model_save_frequency``.

Budgets (``n_steps``, ``max_runtime``, a stop request from a signal or callback) are checked between episodes
only. Every checkpoint therefore sits on an episode boundary, where the state is complete without any
mid-episode env state, and a resumed session continues exactly like the uninterrupted one.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import gymnasium as gym
import numpy as np
from tqdm import tqdm

from graph_rl.config.run_params import RunParams
from graph_rl.logging import Logger
from graph_rl.rng import RngRegistry
from graph_rl.session.video import FrameRecorder

__all__ = ["Session", "SessionCounters", "EpisodeStats", "SessionResult", "Callback", "GraphLike", "step_success"]


class GraphLike(Protocol):
    """What the session needs from an agent graph (see ``graph_rl.graph.Graph``)."""

    def reset(self) -> None: ...

    def act(self, env_obs: Any, *, ep_step: int, total_step: int, testing: bool) -> Any: ...

    def observe(
        self,
        new_obs: Any,
        reward: float,
        terminated: bool,
        truncated: bool,
        info: dict,
        *,
        ep_step: int,
        total_step: int,
        testing: bool,
    ) -> bool: ...

    def learn(self, total_step: int) -> dict[str, float]: ...

    def episode_metrics(self) -> dict[str, float]: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


@dataclass
class SessionCounters:
    """Progress of a run; saved in every checkpoint."""

    total_step: int = 0
    train_episodes: int = 0
    test_blocks: int = 0
    next_checkpoint_step: int | None = None
    last_checkpoint_step: int | None = None


@dataclass(frozen=True)
class EpisodeStats:
    """One finished training episode, as passed to callbacks."""

    episode: int
    total_step: int
    length: int
    ret: float
    success: bool | None
    graph_done: bool


@dataclass
class SessionResult:
    """Why and where a session stopped."""

    stop_reason: str
    total_step: int
    train_episodes: int
    wall_s: float
    checkpoints: list[Any] = field(default_factory=list)


Callback = Callable[["Session", EpisodeStats], None]


def step_success(reward: float, info: Mapping[str, Any], success_reward: float | None) -> bool:
    """Did this step reach the env goal? The env says so when it can (``info["is_success"]``, gymnasium-robotics'
    ``info["success"]``); otherwise ``reward >= success_reward``. Never guessed from a reward of 0."""
    flag = info.get("is_success", info.get("success"))
    if flag is not None:
        return bool(flag)
    return success_reward is not None and reward >= success_reward


CheckpointFn = Callable[[int, dict[str, Any]], Any]
VideoFn = Callable[[int, list[np.ndarray]], None]


class _EnvSlot:
    """An env plus how its next reset is seeded: the stream's seed once, then its own ``np_random``."""

    def __init__(self, env: gym.Env, seed: int) -> None:
        self.env = env
        self.pending_seed: int | None = seed

    def reset(self) -> Any:
        obs, _ = self.env.reset(seed=self.pending_seed)
        self.pending_seed = None
        return obs

    def state_dict(self) -> dict[str, Any]:
        rng = None if self.pending_seed is not None else self.env.unwrapped.np_random.bit_generator.state
        return {"pending_seed": self.pending_seed, "np_random": rng}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.pending_seed = state["pending_seed"]
        if state["np_random"] is not None:
            generator = np.random.Generator(np.random.PCG64())
            generator.bit_generator.state = state["np_random"]
            self.env.unwrapped.np_random = generator


class Session:
    """Runs training on one graph with a training env and a separate test env.

    Args:
        graph: the agent.
        train_env, test_env: two instances of the same env; their first resets are seeded from the ``env/train``
            and ``env/test`` streams of ``rng``.
        params: budgets and schedules.
        rng: the run's registry (its state goes into checkpoints).
        logger: receives ``train``/``test``/``learner`` metrics and ``timing``.
        checkpoint: ``fn(step, state)`` that stores a checkpoint; None = no checkpoints. Kept as the public
            attribute ``checkpoint_fn`` so a runner can attach it once its run directory exists.
        callbacks: called after each training episode, before learning; may call :meth:`request_stop`.
        progress: show a tqdm bar on stderr.
        stop_at: stop (as on Ctrl-C, with a final checkpoint) at the first episode end at or after this step.

    ``video_fn(step, frames)``, attached by a runner like ``checkpoint_fn``, receives the recorded first episode
    of every ``params.video_frequency``-th test block (the test env then needs ``render_mode="rgb_array"``).
    """

    def __init__(
        self,
        graph: GraphLike,
        *,
        train_env: gym.Env,
        test_env: gym.Env,
        params: RunParams,
        rng: RngRegistry,
        logger: Logger,
        checkpoint: CheckpointFn | None = None,
        callbacks: Iterable[Callback] = (),
        progress: bool = False,
        stop_at: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.graph = graph
        self.params = params
        self.rng = rng
        self.logger = logger
        self.counters = SessionCounters(next_checkpoint_step=params.model_save_frequency)
        self._train = _EnvSlot(train_env, rng.int_seed("env/train"))
        self._test = _EnvSlot(test_env, rng.int_seed("env/test"))
        self.checkpoint_fn = checkpoint
        self.video_fn: VideoFn | None = None
        self._callbacks = list(callbacks)
        self._progress = progress
        self._stop_at = stop_at
        self._clock = clock
        self._stop_request: str | None = None
        self._start, self._start_step = clock(), 0
        self._recent_success: deque[bool] = deque(maxlen=20)

    def request_stop(self, reason: str) -> None:
        """Stop at the end of the current episode (and its learning/test block), with a final checkpoint."""
        self._stop_request = self._stop_request or reason

    @property
    def test_env(self) -> gym.Env:
        return self._test.env

    @property
    def stop_requested(self) -> bool:
        return self._stop_request is not None

    def state_dict(self) -> dict[str, Any]:
        """The whole training state at an episode boundary."""
        return {
            "graph": self.graph.state_dict(),
            "rng": self.rng.state_dict(),
            "envs": {"train": self._train.state_dict(), "test": self._test.state_dict()},
            "session": asdict(self.counters),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a checkpoint's state (graph first: its generators are then restored in place by the registry)."""
        self.graph.load_state_dict(state["graph"])
        self.rng.load_state_dict(state["rng"])
        self._train.load_state_dict(state["envs"]["train"])
        self._test.load_state_dict(state["envs"]["test"])
        self.counters = SessionCounters(**state["session"])

    def run(self) -> SessionResult:
        """Train until a budget ends or a stop is requested; always ends with a checkpoint (if enabled)."""
        start = self._clock()
        c = self.counters
        self._start, self._start_step = start, c.total_step
        result = SessionResult(stop_reason="", total_step=c.total_step, train_episodes=c.train_episodes, wall_s=0.0)
        bar = tqdm(
            total=self.params.n_steps,
            initial=c.total_step,
            unit="step",
            disable=not self._progress,
            dynamic_ncols=True,
            smoothing=0.05,
        )
        try:
            while not (reason := self._stop_reason(start)):
                self._train_episode(bar, result)
        finally:
            bar.close()
        if self.checkpoint_fn is not None and c.last_checkpoint_step != c.total_step:
            result.checkpoints.append(self._save_checkpoint())
        self.logger.flush()
        result.stop_reason = reason
        result.total_step, result.train_episodes = c.total_step, c.train_episodes
        result.wall_s = self._clock() - start
        return result

    def _stop_reason(self, start: float) -> str:
        if self._stop_request is not None:
            return self._stop_request
        if self.counters.total_step >= self.params.n_steps:
            return "n_steps"
        if self._stop_at is not None and self.counters.total_step >= self._stop_at:
            return "stop_at"
        runtime = self.params.max_runtime
        if runtime is not None and self._clock() - start >= runtime:
            return "max_runtime"
        return ""

    def _episode(
        self, slot: _EnvSlot, testing: bool, recorder: FrameRecorder | None = None
    ) -> tuple[float, int, bool, bool]:
        """One episode; returns (return, length, success, graph_done). The per-step hot path."""
        graph, env = self.graph, slot.env
        success_reward = self.params.success_reward
        obs = slot.reset()
        graph.reset()
        total_step = self.counters.total_step
        step_inc = 0 if testing else 1
        ep_return, ep_step, success = 0.0, 0, False
        while True:
            action = graph.act(obs, ep_step=ep_step, total_step=total_step, testing=testing)
            if recorder is not None:
                recorder.on_act()
            obs, reward, terminated, truncated, info = env.step(action)
            ep_step += 1
            total_step += step_inc
            reward = float(reward)
            ep_return += reward
            success = success or step_success(reward, info, success_reward)
            graph_done = graph.observe(
                obs, reward, terminated, truncated, info, ep_step=ep_step, total_step=total_step, testing=testing
            )
            if terminated or truncated or graph_done:
                break
        if recorder is not None:
            recorder.on_episode_end()
        self.counters.total_step = total_step
        return ep_return, ep_step, success, bool(graph_done)

    def _train_episode(self, bar: tqdm, result: SessionResult) -> None:
        c, p = self.counters, self.params
        started = self._clock()
        ep_return, length, success, graph_done = self._episode(self._train, testing=False)
        c.train_episodes += 1
        step = c.total_step
        metrics: dict[str, Any] = {"episode": c.train_episodes, "return": ep_return, "length": length}
        if p.success_reward is not None:
            metrics["success"] = int(success)
        metrics.update(self.graph.episode_metrics())
        self.logger.log("train", step, metrics)
        stats = EpisodeStats(
            c.train_episodes, step, length, ep_return, success if p.success_reward is not None else None, graph_done
        )
        for callback in self._callbacks:
            callback(self, stats)
        learner_metrics = self.graph.learn(step)
        if learner_metrics:
            self.logger.log("learner", step, learner_metrics)
        now = self._clock()
        timing: dict[str, float] = {
            "episode_steps_per_s": length / max(now - started, 1e-9),
            "steps_per_s": (step - self._start_step) / max(now - self._start, 1e-9),
        }
        if p.n_test_episodes and c.train_episodes % p.test_frequency == 0:
            test_started = self._clock()
            self._test_block()
            timing["test_s"] = self._clock() - test_started
        freq = p.model_save_frequency
        if self.checkpoint_fn is not None and freq is not None and step >= (c.next_checkpoint_step or freq):
            ckpt_started = self._clock()
            result.checkpoints.append(self._save_checkpoint())
            timing["checkpoint_s"] = self._clock() - ckpt_started
        self.logger.log("timing", step, timing)
        self.logger.flush()
        self._recent_success.append(success)
        if bar.disable:
            return
        postfix: dict[str, Any] = {"ep": c.train_episodes}
        if p.success_reward is not None:
            postfix["success"] = f"{np.mean(self._recent_success):.2f}"
        bar.set_postfix(postfix, refresh=False)
        bar.update(length)

    def _test_block(self) -> None:
        c, n = self.counters, self.params.n_test_episodes
        returns, lengths, successes = np.zeros(n), np.zeros(n), np.zeros(n, dtype=bool)
        sums: dict[str, float] = {}
        counts: dict[str, int] = {}
        recorder = self._test_recorder()
        for i in range(n):
            returns[i], lengths[i], successes[i], _ = self._episode(self._test, True, recorder if i == 0 else None)
            for key, value in self.graph.episode_metrics().items():
                sums[key] = sums.get(key, 0.0) + float(value)
                counts[key] = counts.get(key, 0) + 1
        c.test_blocks += 1
        metrics: dict[str, Any] = {"episodes": n, "return": float(returns.mean()), "length": float(lengths.mean())}
        if self.params.success_reward is not None:
            metrics["success"] = float(successes.mean())
            metrics["return_success"] = float(returns[successes].mean()) if successes.any() else None
        metrics.update({key: sums[key] / counts[key] for key in sums})
        self.logger.log("test", c.total_step, metrics)
        if recorder is not None and recorder.frames and self.video_fn is not None:
            self.video_fn(c.total_step, recorder.frames)

    def _test_recorder(self) -> FrameRecorder | None:
        """A recorder for this test block's first episode if it is a video block, else None."""
        freq = self.params.video_frequency
        if freq is None or self.video_fn is None or (self.counters.test_blocks + 1) % freq:
            return None
        return FrameRecorder(self._test.env, self.graph, every=self.params.video_every_k_steps)

    def _save_checkpoint(self) -> Any:
        c, freq = self.counters, self.params.model_save_frequency
        c.last_checkpoint_step = c.total_step
        if freq is not None:
            c.next_checkpoint_step = (c.total_step // freq + 1) * freq
        assert self.checkpoint_fn is not None
        return self.checkpoint_fn(c.total_step, self.state_dict())
