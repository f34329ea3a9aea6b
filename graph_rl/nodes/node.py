"""A node: one level of the agent = policy (acts) + subtask (judges) + algorithm (learns).

Vocabulary. An *activation* of a node is one pursuit of the goal its parent handed down (for the
root: the whole episode); it is the node's episode. During an activation the node emits *actions*:
a leaf's action is an env action and lasts one step; an inner node's action is its child's goal and
lasts until the child returns control. The node keeps one :class:`Activation` record per activation
on a stack, and inside it the one :class:`PendingAction` still running: pushed when the node acts,
closed when control comes back (the original kept eight parallel LIFO lists instead).

Subgoal testing (HAC): an action may flag its child's whole sub-hierarchy as tested; the flag is
inherited downwards until the flagging node regains control. Unless ``fidelity.tested_subgoals_explore``
(default) a tested sub-hierarchy really acts deterministically, without random actions, as the HAC
paper intends; the original never did (its policy read a key no algorithm set, reference 3.6), and
switching the flag off reproduces that.

An algorithm may watch its node's running action through its ``hook``
(:class:`~graph_rl.algorithms.base.ActionHook`): called every env step while the action runs (the node waits on a
child), it may end that action early; the node then emits a fresh one. Such an action is marked ``interrupted`` in
its transition and not charged to the node's budget. The algorithm's ``env_reward_discount`` weighs the env rewards
summed over an action. EAT uses both; the node knows nothing of EAT.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np

from graph_rl.algorithms import Algorithm, PendingAction, Transition
from graph_rl.nodes.policy import AlgorithmPolicy, Policy
from graph_rl.subtasks import Goal, Outcome, Subtask

__all__ = ["Node", "Activation", "Feedback"]

Feedback = tuple[bool, np.ndarray | None, bool]
"""What a child tells its parent on returning control: (goal achieved, hindsight action, completed).
The hindsight action is None in test episodes, which store nothing.
``completed``: the child's activation ended on its own terms (goal, budget, deadline), not cut short by an
ancestor's interruption or the end of the env episode."""


@dataclasses.dataclass(slots=True)
class Activation:
    """One pursuit of a goal (the node's episode)."""

    goal: Goal
    deterministic: bool
    n_actions: int = 0
    n_interrupted: int = 0
    ret: float = 0.0
    pending: PendingAction | None = None
    last: Outcome | None = None
    cached_obs: np.ndarray | None = None
    cached_env_obs: object = None


class Node:
    """One level of the graph.

    Args:
        name: unique name (metrics keys, RNG stream names, checkpoints).
        subtask: observation, goal, reward and termination of this level.
        algorithm: learning and exploration of this level; its ``action_map`` is the node's action space.
        policy: chooses the edge and the action; default :class:`AlgorithmPolicy`.
    """

    def __init__(self, name: str, subtask: Subtask, algorithm: Algorithm, policy: Policy | None = None) -> None:
        self.name = name
        self.subtask = subtask
        self.algorithm = algorithm
        self.policy: Policy = policy if policy is not None else AlgorithmPolicy(algorithm)
        self.env_reward_discount = float(algorithm.env_reward_discount)
        self.children: list[Node] = []
        self.parents: list[Node] = []
        self._stack: list[Activation] = []
        self._hook_fired = False
        self._reset_metrics()

    def __repr__(self) -> str:
        return f"Node({self.name!r}, children={[c.name for c in self.children]})"

    def __str__(self) -> str:
        return self.summary()

    def summary(self) -> str:
        """What this level is, for a notebook or a log: algorithm, subtask, what it sees, what it emits, its budget,
        its learner and replay. Read from the live objects, so it shows what was built, not what was asked for."""
        algo, task = self.algorithm, self.subtask
        lines = [f"{self.name}: {type(algo).__name__} on {type(task).__name__}"]
        partial = getattr(task, "partial", None)
        if partial is not None:
            lines.append(f"  observes     {', '.join(partial.keys)} (+ goal) -> {task.obs_dim} floats")
        goal_layout = getattr(task, "goal_layout", None)
        if goal_layout is not None:
            achievement = getattr(task, "achievement_reward", None)  # the env's goal: judged by its compute_reward
            if achievement is not None:
                shown = f" (reached when compute_reward >= {achievement:g})"
            else:
                thresholds = getattr(getattr(task, "criterion", None), "thresholds", None)
                shown = f" (thresholds {thresholds})" if thresholds else ""
            lines.append(f"  goal         {', '.join(goal_layout.keys)}{shown}")
        amap = algo.action_map
        emits = "env action" if not self.children else f"goal of {', '.join(c.name for c in self.children)}"
        lines.append(f"  emits        {emits}: {_box(amap.low, amap.high)}")
        budget = getattr(task, "max_n_actions", None)
        time = getattr(task, "time", None)
        if budget is not None:
            lines.append(f"  budget       {budget} actions per activation")
        if time is not None:
            lines.append(f"  timed goals  deadline within {time.delta_t_max:g} env steps")
        learner = algo.learner
        config = getattr(learner, "config", None)
        settings = ", ".join(f"{k}={_short(v)}" for k, v in dataclasses.asdict(config).items()) if config else ""
        lines.append(f"  learner      {type(learner).__name__}({settings})")
        p = algo.params
        lines.append(
            f"  replay       capacity {algo.buffer.capacity:,}, batch {p.batch_size}, "
            f"{p.grad_steps_per_env_step:g} grad steps/env step from step {p.learning_starts:,}"
        )
        return "\n".join(lines)

    def add_child(self, child: Node) -> Node:
        """Wire an edge; the child's goal space must be this node's action space. Returns the child."""
        layout = child.subtask.parent_action_layout
        if layout is None:
            raise ValueError(f"{child.name}: its subtask takes no goal from a parent")
        amap = self.algorithm.action_map
        if layout.dim != amap.dim or not (np.allclose(layout.low, amap.low) and np.allclose(layout.high, amap.high)):
            raise ValueError(f"{self.name} -> {child.name}: action space does not match the child's goal space")
        self.children.append(child)
        child.parents.append(self)
        return child

    @property
    def current(self) -> Activation:
        """The innermost running activation."""
        return self._stack[-1]

    @property
    def active(self) -> bool:
        return bool(self._stack)

    # --- forward pass ---------------------------------------------------------------------------

    def begin(
        self, parent_action: np.ndarray | None, env_obs: Mapping[str, Any], step: int, deterministic: bool
    ) -> None:
        """Start an activation with the parent's action as goal (None at the root)."""
        self._stack.append(
            Activation(goal=self.subtask.start(parent_action, env_obs, step), deterministic=deterministic)
        )

    def act(self, env_obs: Mapping[str, Any], step: int, testing: bool) -> PendingAction:
        """Emit the next action of the current activation."""
        run = self._stack[-1]
        obs = self.observation(env_obs, step)
        deterministic = testing or (run.deterministic and not self.algorithm.fidelity.tested_subgoals_explore)
        child, unit = self.policy(obs, deterministic)
        test_child = bool(self.children) and not testing and (run.deterministic or self.algorithm.draw_test_flag())
        run.pending = PendingAction(obs, self.algorithm.action_map.from_unit(unit), child, step, test_child)
        return run.pending

    def observation(self, env_obs: Mapping[str, Any], step: int) -> np.ndarray:
        """The current activation's observation of ``env_obs``, computed once per env step and shared by acting and
        the algorithm's hook (after :meth:`close` it is the closed action's ``new_obs``)."""
        run = self._stack[-1]
        if run.cached_env_obs is not env_obs:
            run.cached_obs, run.cached_env_obs = self.subtask.observe(env_obs, run.goal, step), env_obs
        assert run.cached_obs is not None
        return run.cached_obs

    # --- backward passes ------------------------------------------------------------------------

    def wants_interrupt(self, env_obs: Mapping[str, Any], ep_step: int, total_step: int, testing: bool) -> bool:
        """While waiting on a child: must the running action end now (the algorithm's hook, or own activation over)?"""
        run = self._stack[-1]
        hook = self.algorithm.hook
        assert run.pending is not None, "wants_interrupt needs a running action"
        self._hook_fired = hook is not None and bool(
            hook.on_step(
                run.pending,
                lambda: self.observation(env_obs, ep_step),
                lambda: self._child_finished(env_obs, ep_step),
                env_obs,
                ep_step=ep_step,
                total_step=total_step,
                testing=testing,
            )
        )
        return self._hook_fired or self.subtask.finished(env_obs, run.goal, ep_step)

    def _child_finished(self, env_obs: Mapping[str, Any], ep_step: int) -> bool:
        """Whether the running action's child ends its activation at this step on its own terms."""
        pending = self._stack[-1].pending
        assert pending is not None
        child = self.children[pending.child]
        return child.subtask.finished(env_obs, child.current.goal, ep_step)

    def close(
        self, env_obs: Mapping[str, Any], step: int, terminated: bool, env_done: bool, feedback: Feedback | None
    ) -> Outcome:
        """Close the pending action: score it and hand the transition to the algorithm."""
        run = self._stack[-1]
        pending = run.pending
        assert pending is not None, "close needs a running action"
        interrupted, self._hook_fired = self._hook_fired, False
        run.n_actions += 1
        run.n_interrupted += interrupted
        self.interruptions += interrupted
        out = self.subtask.evaluate(
            env_obs,
            run.goal,
            step,
            run.n_actions - run.n_interrupted,
            pending.action,
            pending.env_return,
            terminated,
            env_done,
        )
        self.algorithm.add(
            Transition(
                obs=pending.obs,
                action=pending.action,
                reward=out.reward,
                new_obs=out.new_obs,
                achieved=out.achieved,
                done=out.done,
                achieved_goal=out.achieved_goal,
                t0=pending.t0,
                t1=step,
                env_return=pending.env_return,
                test_child=pending.test_child,
                child_achieved=True if feedback is None else feedback[0],
                child_hindsight=None if feedback is None else feedback[1],
                child_completed=True if feedback is None else feedback[2],
                interrupted=interrupted,
            )
        )
        run.ret += out.reward
        run.pending = None
        run.last = out
        run.cached_obs, run.cached_env_obs = out.new_obs, env_obs
        return out

    def end(self, step: int, store: bool) -> Feedback | None:
        """End the current activation (right after :meth:`close`); returns the feedback for the parent.

        Without ``store`` (test episodes) no hindsight action is built: a timed one draws its time from the
        node's hindsight stream, so test episodes would shift the random numbers of training.
        """
        run = self._stack.pop()
        self.algorithm.end_episode(store)
        last = run.last
        assert last is not None, "end comes right after close"
        self._n_activations += 1
        self._n_achieved += int(last.achieved)
        self._n_actions += run.n_actions
        self._return_sum += run.ret
        if self.subtask.max_n_actions is not None:
            self._budget_sum += (run.n_actions - run.n_interrupted) / self.subtask.max_n_actions
        if run.goal.duration is not None:
            self._duration_sum += run.goal.duration
        if self.subtask.parent_action_layout is None:
            return None
        hindsight = self.subtask.hindsight_action(run.goal, last.achieved_goal, step) if store else None
        return last.achieved, hindsight, last.ended

    # --- episodes, metrics, state ---------------------------------------------------------------

    def reset(self) -> None:
        """Drop any running activation (start of an episode) and the previous episode's metrics."""
        self._stack.clear()
        self.algorithm.reset()
        self._reset_metrics()

    def _reset_metrics(self) -> None:
        self._n_activations = self._n_achieved = self._n_actions = 0
        self.interruptions = 0  # actions its hook ended early in this env episode (a video marks them)
        self._return_sum = self._budget_sum = self._duration_sum = 0.0

    def episode_metrics(self) -> dict[str, float]:
        """This episode's per-activation means (success rate, return, budget use, ...) and counts."""
        n = self._n_activations
        out = {"n_activations": float(n), "n_actions": float(self._n_actions)}
        if n:
            out["success_rate"] = self._n_achieved / n
            out["return"] = self._return_sum / n
            if self.subtask.max_n_actions is not None:
                out["budget_use"] = self._budget_sum / n
            if self._duration_sum:
                out["goal_duration"] = self._duration_sum / n
        out.update(self.algorithm.pop_episode_metrics())
        return out

    def state_dict(self) -> dict[str, Any]:
        return {
            "algorithm": self.algorithm.state_dict(),
            "stack": [_activation_state(run) for run in self._stack],
            "metrics": [
                self._n_activations,
                self._n_achieved,
                self._n_actions,
                self._return_sum,
                self._budget_sum,
                self._duration_sum,
            ],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.algorithm.load_state_dict(state["algorithm"])
        self._stack = [_activation_from_state(s) for s in state["stack"]]
        (
            self._n_activations,
            self._n_achieved,
            self._n_actions,
            self._return_sum,
            self._budget_sum,
            self._duration_sum,
        ) = state["metrics"]


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _box(low: np.ndarray, high: np.ndarray) -> str:
    """``[-1, 1]^5`` for a cube, else the per-dimension bounds."""
    if np.all(low == low.flat[0]) and np.all(high == high.flat[0]):
        return f"[{low.flat[0]:.4g}, {high.flat[0]:.4g}]^{low.size}"
    return "[" + ", ".join(f"[{lo:.4g}, {hi:.4g}]" for lo, hi in zip(low.tolist(), high.tolist())) + "]"


def _activation_state(run: Activation) -> dict[str, Any]:
    pending = None
    if run.pending is not None:
        p = run.pending
        pending = {
            "obs": p.obs.tolist(),
            "action": p.action.tolist(),
            "child": p.child,
            "t0": p.t0,
            "test_child": p.test_child,
            "env_return": p.env_return,
            "env_weight": p.env_weight,
        }
    thresholds = None if run.goal.thresholds is None else run.goal.thresholds.tolist()
    goal = {
        "desired": run.goal.desired.tolist(),
        "t0": run.goal.t0,
        "duration": run.goal.duration,
        "thresholds": thresholds,
        "used": run.goal.used,
    }
    return {
        "goal": goal,
        "deterministic": run.deterministic,
        "n_actions": run.n_actions,
        "n_interrupted": run.n_interrupted,
        "ret": run.ret,
        "pending": pending,
    }


def _activation_from_state(state: dict[str, Any]) -> Activation:
    g = state["goal"]
    thresholds = None if g["thresholds"] is None else np.asarray(g["thresholds"], dtype=np.float32)
    goal = Goal(
        desired=np.asarray(g["desired"], dtype=np.float32),
        t0=g["t0"],
        duration=g["duration"],
        thresholds=thresholds,
        used=g["used"],
    )
    pending = None
    if state["pending"] is not None:
        p = dict(state["pending"])
        p["obs"] = np.asarray(p["obs"], dtype=np.float32)
        p["action"] = np.asarray(p["action"], dtype=np.float32)
        pending = PendingAction(**p)
    return Activation(
        goal=goal,
        deterministic=state["deterministic"],
        n_actions=state["n_actions"],
        n_interrupted=state["n_interrupted"],
        ret=state["ret"],
        pending=pending,
    )
