"""The graph: drives one forward pass and two backward passes per env step (reference 1.4-1.6).

Forward (:meth:`Graph.act`): starting at the node that kept control last step (the root after a
reset), each node on the way down emits an action; an inner node's action becomes the goal of the
child its policy picked, until a leaf emits the env action. Only nodes on this *active path* act;
ancestors above the starting node keep waiting on their running actions.

Backward (:meth:`Graph.observe`), after ``env.step``:

1. interruption check: every ancestor whose action is running (all active nodes but the leaf) is asked
   whether that action must end now (its own goal reached / deadline passed, or its interruption
   hook); the *highest* such ancestor wins;
2. closing: from the leaf upwards, each node closes its running action (reward, transition); it
   returns control to its parent if its activation ended, the env ended, or an ancestor above it
   interrupts. The interrupting node itself stays active unless its own activation ended, and emits a
   fresh action next step. If the root returns control the graph is done (e.g. its budget is spent).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from graph_rl.algorithms import learn_together
from graph_rl.nodes import Feedback, Node

__all__ = ["Graph"]


class Graph:
    """An agent: nodes wired from ``root``; node order is depth-first from the root.

    Raises:
        ValueError: if two nodes share a name.
    """

    def __init__(self, root: Node) -> None:
        self.root = root
        self.nodes: list[Node] = []
        seen: set[int] = set()
        stack = [root]
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            self.nodes.append(node)
            stack.extend(reversed(node.children))
        names = [n.name for n in self.nodes]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"node names must be unique, repeated: {duplicates}")
        self._by_name = {n.name: n for n in self.nodes}
        self._path: list[Node] = []
        self._ep_step = 0

    def __str__(self) -> str:
        return self.summary()

    def summary(self) -> str:
        """Every node's :meth:`~graph_rl.nodes.Node.summary`, from the root down."""
        return "\n".join(
            [f"Graph with {len(self.nodes)} node(s), root {self.root.name}:"] + [str(n) for n in self.nodes]
        )

    def reset(self) -> None:
        """Before each episode: no node holds control, per-episode metrics cleared."""
        for node in self.nodes:
            node.reset()
        self._path = []
        self._ep_step = 0

    def act(self, env_obs: Mapping[str, Any], *, ep_step: int, total_step: int, testing: bool) -> np.ndarray:
        """Forward pass: the env action for ``env_obs``."""
        path = self._path
        if not path:
            self.root.begin(None, env_obs, ep_step, deterministic=False)
            path.append(self.root)
        node = path[-1]
        while True:
            pending = node.act(env_obs, ep_step, testing)
            if not node.children:
                self._ep_step = ep_step
                return pending.action
            child = node.children[pending.child]
            child.begin(pending.action, env_obs, ep_step, deterministic=pending.test_child)
            path.append(child)
            node = child

    def observe(
        self,
        new_obs: Mapping[str, Any],
        reward: float,
        terminated: bool,
        truncated: bool,
        info: Mapping[str, Any],
        *,
        ep_step: int,
        total_step: int,
        testing: bool,
    ) -> bool:
        """Backward passes after ``env.step``; returns True when the root returned control."""
        path = self._path
        self._ep_step = ep_step
        env_done = terminated or truncated
        for node in path:
            pending = node.current.pending
            assert pending is not None
            pending.env_return += pending.env_weight * reward
            pending.env_weight *= node.env_reward_discount
        interrupter = len(path)
        for depth in range(len(path) - 1):
            if path[depth].wants_interrupt(new_obs, ep_step, total_step, testing) and interrupter == len(path):
                interrupter = depth
        feedback: Feedback | None = None
        depth = len(path) - 1
        while depth >= 0:
            node = path[depth]
            outcome = node.close(new_obs, ep_step, terminated, env_done, feedback)
            if not (env_done or outcome.ended or interrupter < depth):
                break
            feedback = node.end(ep_step, store=not testing)
            depth -= 1
        del path[depth + 1 :]
        return depth < 0

    def learn(self, total_step: int) -> dict[str, float]:
        """Every node's due gradient steps (the algorithms' schedule); ``<node>/<metric>`` means over them."""
        stats = learn_together([node.algorithm for node in self.nodes], total_step)
        return {f"{node.name}/{key}": value for node, s in zip(self.nodes, stats) for key, value in s.items()}

    def episode_metrics(self) -> dict[str, float]:
        """Per-node statistics of the episode just finished, keyed ``<node>/<metric>``."""
        out: dict[str, float] = {}
        for node in self.nodes:
            for key, value in node.episode_metrics().items():
                out[f"{node.name}/{key}"] = value
        return out

    def subgoals(self) -> list[dict[str, Any]]:
        """The running (timed) subgoals below the root, in the env's ``set_subgoals`` format."""
        out = []
        for node in self._path[1:]:
            shown = node.subtask.render(node.current.goal, self._ep_step)
            if shown is not None:
                out.append(shown)
        return out

    def state_dict(self) -> dict[str, Any]:
        """Whole training state: every node (learner, replay, running activations, counters) and
        which nodes hold control. RNG states are the registry's."""
        return {
            "nodes": {node.name: node.state_dict() for node in self.nodes},
            "path": [node.name for node in self._path],
            "ep_step": self._ep_step,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        names = set(state["nodes"])
        if names != set(self._by_name):
            raise ValueError(f"graph state has nodes {sorted(names)}, graph has {sorted(self._by_name)}")
        for name, node_state in state["nodes"].items():
            self._by_name[name].load_state_dict(node_state)
        self._path = [self._by_name[name] for name in state["path"]]
        self._ep_step = int(state["ep_step"])
