"""Record what the original HiTS (Graph-RL fork pczernec/hits-herald1) stores, on scripted episodes.

Runs under the throwaway Python 3.8 venv of ``tools/differential/build_original.sh``, never under graph_rl's:

    VENV/bin/python tools/differential/record_original.py --src SRC --env Platforms --episodes 30 --out orig.json

The original graph is built from the fork's own ``data/<env>/hits_trained`` files. Its policies are replaced by a
scripted actor (seeded, its own generator): the top level emits uniform timed subgoals, or, every other time, one near
where the ball is, so some are reached; the bottom level drives towards its subgoal with a P-controller or acts
uniformly at random. Learning is switched off (no gradient step is taken), so nothing else changes what is stored.

Recorded per episode, as JSON (plain lists of float64 values):

* the env's reset observation and every step's action, observation, reward and done;
* per node, every action the policy emitted (flat, in the original's layout) and the observation it saw;
* every transition handed to a node's replay buffer (flat obs, action in [-1, 1], reward, done, next obs), in order,
  grouped by the node episode that produced it;
* every draw the original takes from the global numpy RNG, by call site: the top level's subgoal-testing flags,
  the bottom level's hindsight-time offsets, the hindsight-goal indices and time shifts of both levels.
  ``tools/differential/compare.py`` feeds the same draws to graph_rl, so both sides relabel identically if
  their mechanics agree.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import types
from collections import defaultdict

import numpy as np


def _stub_modules() -> None:
    """The fork imports wandb, roboball2d (Tennis2D), hac_envs and reacting_rl_envs at module level; none is used."""

    class _Anything(types.ModuleType):
        def __getattr__(self, name):
            if name.startswith("__"):
                raise AttributeError(name)
            return type(name, (), {"__init__": lambda self, *a, **k: None})

    for name in [
        "wandb",
        "wandb.sdk",
        "wandb.sdk.wandb_run",
        "roboball2d",
        "roboball2d.physics",
        "roboball2d.robot",
        "roboball2d.ball",
        "roboball2d.ball_gun",
        "roboball2d.utils",
        "hac_envs",
        "reacting_rl_envs",
    ]:
        sys.modules.setdefault(name, _Anything(name))


def _flat_layout(space, prefix=""):
    """[(name, dim)] of a graph_rl-0.1 space in its flatten order (dict keys sorted, as DictSpace flattens)."""
    sub = getattr(space, "_space_dict", None)
    if sub is None:
        return [(prefix.rstrip("."), int(space.get_flat_dim()))]
    out = []
    for key in sorted(sub):
        out.extend(_flat_layout(sub[key], prefix + key + "."))
    return out


def _set(params: dict, item: str) -> None:
    """``a[1].b.c=VALUE`` (VALUE as JSON) into the nested params."""
    path, _, value = item.partition("=")
    keys = []
    for part in path.split("."):
        name, _, index = part.partition("[")
        keys.append(name)
        if index:
            keys.append(int(index.rstrip("]")))
    target = params
    for key in keys[:-1]:
        target = target[key]
    target[keys[-1]] = json.loads(value)


def _kind(f_trans, caller) -> str:
    """Which of HAC/HiTS's transition kinds ``f_trans`` is, read from the relabelling loop's own variables."""
    if f_trans is caller.get("f_trans_testing"):
        return "testing"
    if f_trans is caller.get("f_trans_hindsight_goal"):
        return "hindsight_goal"
    if f_trans is caller.get("f_trans_0"):
        return "real"
    return "hindsight_action"


class Tape:
    """Every global-RNG draw of the original, keyed by (call site, node name)."""

    def __init__(self) -> None:
        self.draws = defaultdict(list)
        self._rand = np.random.rand
        self._randint = np.random.randint

    def install(self) -> None:
        tape = self

        def rand(*args):
            value = tape._rand(*args)
            tape._record("rand", value)
            return value

        def randint(*args, **kwargs):
            value = tape._randint(*args, **kwargs)
            tape._record("randint", value)
            return value

        np.random.rand = rand
        np.random.randint = randint

    def _record(self, kind, value) -> None:
        frame = sys._getframe(2)
        site = frame.f_code.co_name
        owner = frame.f_locals.get("self")
        name = getattr(owner, "name", type(owner).__name__)
        self.draws[(site, name)].append((kind, np.asarray(value).tolist()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--src", required=True, help="checkout of pczernec/hits-herald1")
    ap.add_argument("--env", default="Platforms")
    ap.add_argument("--episodes", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True)
    ap.add_argument(
        "--set",
        nargs="*",
        default=[],
        metavar="PATH=VALUE",
        help="change the fork's graph_params, e.g. level_params_list[1].subtask_spec_params.max_n_actions=100 "
        "(compare.py applies the same to graph_rl)",
    )
    args = ap.parse_args()

    sys.path[:0] = [args.src, os.path.join(args.src, "graph_rl"), os.path.join(args.src, "dynamic-rl-benchmarks")]
    _stub_modules()
    import torch

    torch.set_num_threads(1)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    importlib.import_module("graph_rl.nodes")  # first: the fork's nodes <-> algorithms cycle resolves only this way
    from graph_rl.algorithms.off_policy_algorithm import OffPolicyAlgorithm
    from graph_rl.data import EnvInfo, SessInfo
    from graph_rl.policies.tianshou_policy import TianshouPolicy
    from scripts.run.core import get_env_and_graph, load_params

    run_params, graph_params, _ = load_params(os.path.join(args.src, "data", args.env, "hits_trained"))
    for item in args.set:
        _set(graph_params, item)
    env, graph = get_env_and_graph(run_params, graph_params)
    env.seed(args.seed)
    nodes = {node.name: node for node in graph._nodes}
    top = graph._nodes[-1]
    actor = np.random.Generator(np.random.PCG64(args.seed))

    stored = defaultdict(list)
    emitted = defaultdict(list)
    episode_end = defaultdict(int)

    def record_add(self, f_trans):
        action = self._action_space.flatten_value(f_trans.action)
        caller = sys._getframe(1).f_locals
        kind = _kind(f_trans, caller)
        if kind == "hindsight_action":
            before = self._map_action_to_default_space(self._action_space.flatten_value(caller["f_trans_0"].action))
        stored[self.name].append(
            {
                "group": episode_end[self.name],
                "kind": kind,
                "emitted_act": before.tolist() if kind == "hindsight_action" else None,
                "obs": self._observation_space.flatten_value(f_trans.obs).tolist(),
                "act": self._map_action_to_default_space(action).tolist(),
                "rew": float(f_trans.reward),
                "done": bool(f_trans.done),
                "next_obs": self._observation_space.flatten_value(f_trans.new_obs).tolist(),
            }
        )

    original_flush = {}
    for node in graph._nodes:
        algo = node.algorithm
        cls = type(algo)
        if cls not in original_flush:
            original_flush[cls] = cls._add_experience_to_flat_algo

            def flush(self, *a, _orig=original_flush[cls], **k):
                _orig(self, *a, **k)
                episode_end[self.name] += 1

            cls._add_experience_to_flat_algo = flush
    OffPolicyAlgorithm._add_to_flat_replay_buffer = record_add
    OffPolicyAlgorithm.learn = lambda self, current_step: None

    def scripted(self, observation, algo_info, testing=False):
        flat_space = self.action_space.get_flat_space()
        low, high = np.asarray(flat_space.low, float), np.asarray(flat_space.high, float)
        layout = _flat_layout(self.action_space)
        node_name = self.name[: -len("_policy")]
        if node_name == top.name:
            flat = actor.uniform(low, high)
            if actor.random() < 0.5:
                # a subgoal near the ball, soon: often reached by the P-controller below
                partial = observation["partial_observation"]
                here = np.concatenate([partial["position"], partial["velocity"]])
                start = 0
                for name, dim in layout:
                    if name == "desired_goal":
                        flat[start : start + dim] = np.clip(
                            here + actor.normal(0, 0.02, dim), low[start:], high[start:]
                        )[:dim]
                    start += dim
        else:
            if actor.random() < 0.5:
                flat = actor.uniform(low, high)
            else:
                partial = observation["partial_observation"]
                goal_x = observation["desired_goal"]["position"][0]
                flat = np.clip(8.0 * (goal_x - partial["position"][0]) - 3.0 * partial["velocity"][0], low, high)
        emitted[node_name].append(
            {"obs": self.observation_space.flatten_value(observation).tolist(), "act": np.asarray(flat).tolist()}
        )
        return 0, self.action_space.unflatten_value(np.asarray(flat, dtype=float))

    TianshouPolicy.__call__ = scripted
    tape = Tape()
    tape.install()

    layouts = {
        name: {
            "obs": _flat_layout(node.subtask.observation_space),
            "act": _flat_layout(node.policy.action_space),
            "act_low": np.asarray(node.policy.action_space.get_flat_space().low, float).tolist(),
            "act_high": np.asarray(node.policy.action_space.get_flat_space().high, float).tolist(),
        }
        for name, node in nodes.items()
    }
    episodes = []
    total_step = 0
    for _ in range(args.episodes):
        tape.draws.clear()
        stored.clear()
        emitted.clear()
        for name in episode_end:
            episode_end[name] = 0
        obs = env.reset()
        record = {
            "reset": {
                k: np.asarray(v).tolist()
                if not isinstance(v, dict)
                else {kk: np.asarray(vv).tolist() for kk, vv in v.items()}
                for k, v in obs.items()
            },
            "steps": [],
        }
        env_info = EnvInfo(new_obs=obs, done=False)
        sess_info = SessInfo(ep_step=0, total_step=total_step, learn=False, testing=False)
        graph.reset()
        while True:
            action = graph.get_atomic_action(env_info.new_obs, sess_info, testing=False)
            new_obs, rew, done, info = env.step(action)
            env_info = EnvInfo(new_obs=new_obs, reward=rew, done=done, info=info)
            sess_info.total_step += 1
            sess_info.ep_step += 1
            record["steps"].append(
                {
                    "action": np.asarray(action, float).tolist(),
                    "obs": {
                        k: np.asarray(v).tolist()
                        if not isinstance(v, dict)
                        else {kk: np.asarray(vv).tolist() for kk, vv in v.items()}
                        for k, v in new_obs.items()
                    },
                    "reward": float(rew),
                    "done": bool(done),
                }
            )
            if graph.register_experience(env_info, sess_info) or done:
                break
        total_step = sess_info.total_step
        record["emitted"] = dict(emitted)
        record["stored"] = dict(stored)
        record["draws"] = [[site, name, values] for (site, name), values in tape.draws.items()]
        episodes.append(record)
    with open(args.out, "w") as f:
        json.dump(
            {"env": args.env, "set": args.set, "graph_params": graph_params, "layouts": layouts, "episodes": episodes},
            f,
        )
    print(f"{len(episodes)} episodes, {total_step} steps -> {args.out}")


if __name__ == "__main__":
    main()
