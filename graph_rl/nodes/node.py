"""A node: one level of the agent = policy (acts) + subtask (judges) + algorithm (learns).

Vocabulary. An *activation* of a node is one pursuit of the goal its parent handed down (for the
root: the whole episode); it is the node's episode. During an activation the node emits *actions*:
a leaf's action is an env action and lasts one step; an inner node's action is its child's goal and
lasts until the child returns control. The node keeps one :class:`Activation` record per activation
on a stack, and inside it the one :class:`PendingAction` still running: pushed when the node acts,
closed when control comes back (the original kept eight parallel LIFO lists instead).

Subgoal testing (HAC): an action may flag its child's whole sub-hierarchy as tested; the flag is
inherited downwards until the flagging node regains control. With ``deterministic_subgoal_testing``
(default) a tested sub-hierarchy really acts deterministically, without random actions, as the HAC
paper intends; the original never did (its policy read a key no algorithm set, reference 3.6), and
switching the flag off reproduces that.

EAT plugs in through ``interruption_hook``: called every env step while this node's action runs
(the node waits on a child), it may end that action early; the node then emits a fresh one. Such an
action is marked ``interrupted`` in its transition and not charged to the node's budget. A
time-discounted higher level sets ``env_reward_discount`` (its env-reward aux term then sees the
discounted sum of env rewards of each action) and overrides its algorithm's discount exponents. A node
with ``trace_actions`` keeps its own observation at every step of a running action (an :class:`ActionTrace`)
and hands them over with the transition, so that its algorithm can learn the value of an action that is
already part-way through (EAT's intra-action transitions).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Protocol

import numpy as np

from graph_rl.algorithms import Algorithm, Transition
from graph_rl.nodes.policy import AlgorithmPolicy, Policy
from graph_rl.subtasks import Goal, Outcome, Subtask

__all__ = ["Node", "Activation", "PendingAction", "ActionTrace", "InterruptionHook", "Feedback"]

Feedback = tuple[bool, np.ndarray | None, bool]
"""What a child tells its parent on returning control: (goal achieved, hindsight action, completed).
The hindsight action is None in test episodes, which store nothing.
``completed``: the child's activation ended on its own terms (goal, budget, deadline), not cut short by an
ancestor's interruption or the end of the env episode."""


class InterruptionHook(Protocol):
    """Called every env step while the node's action runs; True ends that action now."""

    def __call__(self, node: Node, env_obs: Mapping[str, Any], *, ep_step: int, total_step: int, testing: bool) -> bool: ...


class ActionTrace:
    """A running action's node observation after each of its env steps, with ``env_return`` and ``env_weight``
    at that point (rows grow by doubling: one allocation per action, not per step)."""

    def __init__(self, obs_dim: int, capacity: int = 64) -> None:
        self.obs = np.empty((capacity, obs_dim), np.float32)
        self.ret = np.empty(capacity, np.float64)
        self.weight = np.empty(capacity, np.float64)
        self.n = 0

    def record(self, obs: np.ndarray, env_return: float, env_weight: float) -> None:
        if self.n == len(self.ret):
            self.obs = np.concatenate([self.obs, np.empty_like(self.obs)])
            self.ret = np.concatenate([self.ret, np.empty_like(self.ret)])
            self.weight = np.concatenate([self.weight, np.empty_like(self.weight)])
        self.obs[self.n], self.ret[self.n], self.weight[self.n] = obs, env_return, env_weight
        self.n += 1

    def intra(self, steps: int, env_return: float) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """For an action that lasted ``steps`` and earned ``env_return``: (observations at offsets 1..steps-1,
        the offsets, the discounted env return still to come from each); None for a one-step action."""
        m = min(steps - 1, self.n)
        if m <= 0:
            return None
        rest = (env_return - self.ret[:m]) / self.weight[:m]
        return self.obs[:m].copy(), np.arange(1, m + 1, dtype=np.int64), rest.astype(np.float32)

    def state_dict(self) -> dict[str, Any]:
        n = self.n
        return {"obs": self.obs[:n].tolist(), "ret": self.ret[:n].tolist(), "weight": self.weight[:n].tolist()}

    @classmethod
    def from_state(cls, state: dict[str, Any], obs_dim: int) -> ActionTrace:
        trace = cls(obs_dim, max(64, len(state["ret"])))
        for obs, ret, weight in zip(state["obs"], state["ret"], state["weight"]):
            trace.record(np.asarray(obs, np.float32), ret, weight)
        return trace


@dataclasses.dataclass(slots=True)
class PendingAction:
    """The action a node is running: emitted at ``t0``, closed when control returns.

    ``env_return`` sums the env rewards collected while it runs, the k-th weighted by
    ``env_reward_discount ** k`` of the node (``env_weight`` is the next weight). ``trace``: with the node's
    ``trace_actions``, its observations while the action runs.
    """

    obs: np.ndarray
    action: np.ndarray
    child: int
    t0: int
    test_child: bool
    env_return: float = 0.0
    env_weight: float = 1.0
    trace: ActionTrace | None = None


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
        interruption_hook: optional per-step check that can end the running action (EAT).
        env_reward_discount: per-step discount of the env rewards summed over an action (1 = plain sum).
        trace_actions: record the node's observation at every step of a running action (:class:`ActionTrace`).
    """

    def __init__(
        self, name: str, subtask: Subtask, algorithm: Algorithm, policy: Policy | None = None, *,
        interruption_hook: InterruptionHook | None = None, env_reward_discount: float = 1.0,
        trace_actions: bool = False,
    ) -> None:
        self.name = name
        self.subtask = subtask
        self.algorithm = algorithm
        self.policy: Policy = policy if policy is not None else AlgorithmPolicy(algorithm)
        self.interruption_hook = interruption_hook
        self.env_reward_discount = float(env_reward_discount)
        self.trace_actions = bool(trace_actions)
        self.children: list[Node] = []
        self.parents: list[Node] = []
        self._stack: list[Activation] = []
        self._hook_fired = False
        self._reset_metrics()

    def __repr__(self) -> str:
        return f"Node({self.name!r}, children={[c.name for c in self.children]})"

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

    def begin(self, parent_action: np.ndarray | None, env_obs: Mapping[str, Any], step: int, deterministic: bool) -> None:
        """Start an activation with the parent's action as goal (None at the root)."""
        self._stack.append(Activation(goal=self.subtask.start(parent_action, env_obs, step), deterministic=deterministic))

    def act(self, env_obs: Mapping[str, Any], step: int, testing: bool) -> PendingAction:
        """Emit the next action of the current activation."""
        run = self._stack[-1]
        obs = self.observation(env_obs, step)
        deterministic = testing or (run.deterministic and self.algorithm.params.deterministic_subgoal_testing)
        child, unit = self.policy(obs, deterministic)
        test_child = bool(self.children) and not testing and (run.deterministic or self.algorithm.draw_test_flag())
        trace = ActionTrace(self.subtask.obs_dim) if self.trace_actions else None
        run.pending = PendingAction(obs, self.algorithm.action_map.from_unit(unit), child, step, test_child, trace=trace)
        return run.pending

    def observation(self, env_obs: Mapping[str, Any], step: int) -> np.ndarray:
        """The current activation's observation of ``env_obs``, computed once per env step and shared by acting,
        the action trace and a termination policy (after :meth:`close` it is the closed action's ``new_obs``)."""
        run = self._stack[-1]
        if run.cached_env_obs is not env_obs:
            run.cached_obs, run.cached_env_obs = self.subtask.observe(env_obs, run.goal, step), env_obs
        return run.cached_obs

    def record_step(self, env_obs: Mapping[str, Any], ep_step: int) -> None:
        """After an env step of the running action: add the step's observation to its trace (``trace_actions``)."""
        pending = self._stack[-1].pending
        pending.trace.record(self.observation(env_obs, ep_step), pending.env_return, pending.env_weight)

    # --- backward passes ------------------------------------------------------------------------

    def wants_interrupt(self, env_obs: Mapping[str, Any], ep_step: int, total_step: int, testing: bool) -> bool:
        """While waiting on a child: must the running action end now (hook, or own activation over)?"""
        run = self._stack[-1]
        self._hook_fired = self.interruption_hook is not None and bool(self.interruption_hook(
            self, env_obs, ep_step=ep_step, total_step=total_step, testing=testing
        ))
        return self._hook_fired or self.subtask.finished(env_obs, run.goal, ep_step)

    def close(
        self, env_obs: Mapping[str, Any], step: int, terminated: bool, env_done: bool, feedback: Feedback | None
    ) -> Outcome:
        """Close the pending action: score it and hand the transition to the algorithm."""
        run = self._stack[-1]
        pending = run.pending
        interrupted, self._hook_fired = self._hook_fired, False
        run.n_actions += 1
        run.n_interrupted += interrupted
        out = self.subtask.evaluate(
            env_obs, run.goal, step, run.n_actions - run.n_interrupted, pending.action, pending.env_return,
            terminated, env_done,
        )
        intra = None if pending.trace is None else pending.trace.intra(step - pending.t0, pending.env_return)
        intra_obs, intra_offset, intra_return = (None, None, None) if intra is None else intra
        self.algorithm.add(Transition(
            obs=pending.obs, action=pending.action, reward=out.reward, new_obs=out.new_obs, achieved=out.achieved,
            done=out.done, achieved_goal=out.achieved_goal, t0=pending.t0, t1=step, env_return=pending.env_return,
            test_child=pending.test_child, child_achieved=True if feedback is None else feedback[0],
            child_hindsight=None if feedback is None else feedback[1],
            child_completed=True if feedback is None else feedback[2], interrupted=interrupted,
            intra_obs=intra_obs, intra_offset=intra_offset, intra_return=intra_return,
        ))
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
        self.algorithm.episode.clear()
        self.algorithm.pop_episode_metrics()
        self._reset_metrics()

    def _reset_metrics(self) -> None:
        self._n_activations = self._n_achieved = self._n_actions = 0
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
            "metrics": [self._n_activations, self._n_achieved, self._n_actions, self._return_sum,
                        self._budget_sum, self._duration_sum],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.algorithm.load_state_dict(state["algorithm"])
        self._stack = [_activation_from_state(s, self.subtask.obs_dim) for s in state["stack"]]
        (self._n_activations, self._n_achieved, self._n_actions, self._return_sum,
         self._budget_sum, self._duration_sum) = state["metrics"]


def _activation_state(run: Activation) -> dict[str, Any]:
    pending = None
    if run.pending is not None:
        p = run.pending
        pending = {"obs": p.obs.tolist(), "action": p.action.tolist(), "child": p.child, "t0": p.t0,
                   "test_child": p.test_child, "env_return": p.env_return, "env_weight": p.env_weight,
                   "trace": None if p.trace is None else p.trace.state_dict()}
    thresholds = None if run.goal.thresholds is None else run.goal.thresholds.tolist()
    goal = {"desired": run.goal.desired.tolist(), "t0": run.goal.t0, "duration": run.goal.duration,
            "thresholds": thresholds, "used": run.goal.used}
    return {"goal": goal, "deterministic": run.deterministic, "n_actions": run.n_actions,
            "n_interrupted": run.n_interrupted, "ret": run.ret, "pending": pending}


def _activation_from_state(state: dict[str, Any], obs_dim: int) -> Activation:
    g = state["goal"]
    thresholds = None if g["thresholds"] is None else np.asarray(g["thresholds"], dtype=np.float32)
    goal = Goal(desired=np.asarray(g["desired"], dtype=np.float32), t0=g["t0"], duration=g["duration"],
                thresholds=thresholds, used=g["used"])
    pending = None
    if state["pending"] is not None:
        p = dict(state["pending"])
        p["obs"] = np.asarray(p["obs"], dtype=np.float32)
        p["action"] = np.asarray(p["action"], dtype=np.float32)
        trace = p.pop("trace", None)
        pending = PendingAction(**p, trace=None if trace is None else ActionTrace.from_state(trace, obs_dim))
    return Activation(goal=goal, deterministic=state["deterministic"], n_actions=state["n_actions"],
                      n_interrupted=state["n_interrupted"], ret=state["ret"], pending=pending)
