"""Differential test: replay the original's recorded HiTS episodes through graph_rl and compare what each stores.

    python tools/differential/compare.py orig.json [--out report.json] [--show 3]

``orig.json`` comes from ``record_original.py`` (run under the original's venv). graph_rl's shipped
``data/<env>/HiTS`` files are built with the original's settings where ours differ on purpose (no observed budget),
then driven through exactly the recorded episodes:

* the env is replaced by a replay of the recorded observations, rewards and ends (so both sides see the same states,
  whatever the physics port does);
* each node's policy emits the recorded action (checked: the observation it is given must equal the original's,
  after reordering the original's sorted-key layout into ours);
* every random draw that decides what is stored comes from the original's recorded draws: the top level's
  subgoal-testing flags, the bottom level's hindsight-time offsets and both levels' hindsight-goal indices and times.

Then, node episode by node episode, the transitions graph_rl hands to its replay buffer are matched one to one with
the original's (obs, action in [-1, 1], reward, done, next obs; float32 tolerance). The JSON report gives, per node,
how many matched and every unmatched transition on either side with the fields that differ from its nearest
counterpart. Differences we make on purpose are listed in ``docs/research/differences.md``; the report names the
transition kinds (real, testing, hindsight goal) so each unmatched one can be traced to one of them or to a bug.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import envs  # noqa: E402,F401  (registers the Platforms family)
from graph_rl import api  # noqa: E402
from graph_rl.nodes import Node  # noqa: E402
from graph_rl.subtasks.timed_goal import DEADLINE_TOLERANCE  # noqa: E402

ORIGINAL_NAMES = {0: "hits_node_layer_0", 1: "hac_node_layer_1"}
TOL = 2e-5


def as_obs(raw: dict[str, Any]) -> dict[str, Any]:
    """A recorded (float64, lists) observation as graph_rl's env gives it (float32 arrays)."""
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, dict):
            out[key] = {k: np.asarray(v, dtype=np.float32) for k, v in value.items()}
        else:
            out[key] = np.asarray(value, dtype=np.float32)
    return out


class ReplayEnv(gym.Wrapper):
    """Serves one recorded episode: the original's observations, rewards and ends; checks the actions it is sent.

    The original's env says ``done``; a done step with reward 0 (the goal reached) is ``terminated``, any other done
    step ``truncated`` (the 500-step limit), as graph_rl's port reports them.
    """

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.episode: dict[str, Any] = {}
        self.t = 0
        self.action_errors: list[float] = []

    def load(self, episode: dict[str, Any]) -> None:
        self.episode, self.t = episode, 0

    def reset(self, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        self.t = 0
        return as_obs(self.episode["reset"]), {}

    def step(self, action: np.ndarray) -> tuple[dict[str, Any], float, bool, bool, dict[str, Any]]:
        rec = self.episode["steps"][self.t]
        self.t += 1
        self.action_errors.append(float(np.max(np.abs(np.asarray(action, float) - np.asarray(rec["action"])))))
        done, reward = bool(rec["done"]), float(rec["reward"])
        terminated = done and reward == 0.0
        truncated = done and not terminated
        return as_obs(rec["obs"]), reward, terminated, truncated, {"is_success": terminated}


def our_obs_names(node: Node) -> list[tuple[str, int]]:
    """graph_rl's flat observation layout of ``node`` as (name, dim), named like the original's."""
    task = node.subtask
    names = [
        (f"partial_observation.{k}", task.partial.layout.slices[k].stop - task.partial.layout.slices[k].start)
        for k in task.partial.keys
    ]
    goal_keys = task.goal_layout.keys
    if goal_keys == ("desired_goal",) or list(goal_keys) == ["desired_goal"]:
        names.append(("desired_goal", task.goal_layout.dim))
    else:
        names += [
            (f"desired_goal.{k}", task.goal_layout.slices[k].stop - task.goal_layout.slices[k].start) for k in goal_keys
        ]
    if hasattr(task, "time_index"):
        names.append(("delta_t_ach", 1))
    return names


def permutation(theirs: Sequence[Sequence[Any]], ours: Sequence[tuple[str, int]]) -> np.ndarray:
    """Index array p with ours_vector = theirs_vector[p]."""
    start, where = 0, {}
    for name, dim in theirs:
        where[name] = np.arange(start, start + dim)
        start += dim
    missing = [name for name, _ in ours if name not in where]
    if missing:
        raise SystemExit(f"graph_rl observes {missing}, which the original's layout {list(where)} lacks")
    return np.concatenate([where[name] for name, _ in ours])


class ScriptedPolicy:
    """Emits the original's recorded actions in order, after checking the observation matches."""

    def __init__(self, node: Node, obs_perm: np.ndarray, act_perm: np.ndarray) -> None:
        self.node, self.obs_perm, self.act_perm = node, obs_perm, act_perm
        self.queue: list[dict[str, Any]] = []
        self.obs_errors: list[tuple[float, list[str]]] = []
        self.names = our_obs_names(node)

    def __call__(self, obs: np.ndarray, deterministic: bool) -> tuple[int, np.ndarray]:
        rec = self.queue.pop(0)
        theirs = np.asarray(rec["obs"])[self.obs_perm]
        err = np.abs(obs - theirs)
        if err.max() > TOL:
            self.obs_errors.append((float(err.max()), _differing(self.names, err)))
        action = np.asarray(rec["act"], dtype=np.float32)[self.act_perm]
        return 0, self.node.algorithm.action_map.to_unit(action[None])[0]


def _differing(names: Sequence[tuple[str, int]], err: np.ndarray) -> list[str]:
    out, start = [], 0
    for name, dim in names:
        if err[start : start + dim].max() > TOL:
            out.append(name)
        start += dim
    return out


class TapeRng:
    """Stands in for a graph_rl generator: hands out the original's recorded draws in the order graph_rl asks."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, np.ndarray]] = []

    def push(self, kind: str, values: Sequence[float]) -> None:
        self.calls.append((kind, np.asarray(values)))

    def _next(self, kind: str, size: int) -> np.ndarray:
        got, values = self.calls.pop(0)
        if got != kind or len(values) != size:
            raise RuntimeError(f"draw mismatch: graph_rl asks {kind}[{size}], the original drew {got}[{len(values)}]")
        return values

    def random(self, size: int | None = None) -> Any:
        if size is None:
            return float(self._next("random", 1)[0])
        return self._next("random", size).astype(np.float64)

    def integers(self, low: Any, high: Any = None, size: int | None = None) -> np.ndarray:
        n = size if size is not None else len(np.atleast_1d(low))
        return self._next("integers", n).astype(np.int64)


def parse_timed_her(values: list[tuple[str, Any]], n: int) -> tuple[TapeRng, int]:
    """The original's HiTS hindsight draws for a node episode of ``n`` transitions (per transition: rand frac, randint
    indices, one rand time shift per goal), in graph_rl's call order (all fracs, all indices, all shifts); returns the
    generator and how many recorded draws it used."""
    fracs, idx, shifts, i = [], [], [], 0
    for _ in range(n):
        fracs.append(values[i][1])
        indices = list(np.atleast_1d(values[i + 1][1]))
        idx += indices
        shifts += [values[i + 2 + k][1] for k in range(len(indices))]
        i += 2 + len(indices)
    rng = TapeRng()
    rng.push("random", fracs)
    if idx:
        rng.push("integers", idx)
        rng.push("random", shifts)
    return rng, i


def parse_her(values: list[tuple[str, Any]], n: int) -> tuple[TapeRng, int]:
    """The original's HAC hindsight indices for a node episode of ``n`` transitions (one randint each)."""
    idx = [int(v) for _, drawn in values[:n] for v in np.atleast_1d(drawn)]
    rng = TapeRng()
    if idx:
        rng.push("integers", idx)
    return rng, n


def _arrays(tr: dict[str, Any]) -> dict[str, Any]:
    out = dict(tr)
    for key in ("obs", "act", "next_obs", "emitted_act"):
        if out.get(key) is not None:
            out[key] = np.asarray(out[key], dtype=np.float64)
    return out


def _same(a: dict[str, Any], b: dict[str, Any], reward: bool = True) -> bool:
    return (
        bool(a["done"]) == bool(b["done"])
        and (not reward or abs(a["rew"] - b["rew"]) <= TOL * max(1.0, abs(a["rew"])))
        and np.allclose(a["obs"], b["obs"], atol=TOL)
        and np.allclose(a["act"], b["act"], atol=TOL)
        and np.allclose(a["next_obs"], b["next_obs"], atol=TOL)
    )


def match(theirs: list[dict[str, Any]], ours: list[dict[str, Any]]) -> tuple[int, list[dict], list[dict]]:
    """One-to-one matching of transitions within float32 tolerance; returns (matched, unmatched theirs, ours)."""
    used = [False] * len(ours)
    unmatched_theirs = []
    for tr in theirs:
        for j, cand in enumerate(ours):
            if not used[j] and _same(tr, cand):
                used[j] = True
                break
        else:
            unmatched_theirs.append(tr)
    return len(theirs) - len(unmatched_theirs), unmatched_theirs, [c for j, c in enumerate(ours) if not used[j]]


def pair_up(theirs: list[dict], ours: list[dict]) -> tuple[list[tuple[dict, dict]], list[dict], list[dict]]:
    """Greedy nearest pairs (by obs and action distance) among the unmatched; returns (pairs, lone theirs, lone ours)."""
    pool = list(ours)
    pairs, lone = [], []
    for tr in theirs:
        if not pool:
            lone.append(tr)
            continue
        dist = [np.abs(tr["obs"] - c["obs"]).sum() + np.abs(tr["act"] - c["act"]).sum() for c in pool]
        j = int(np.argmin(dist))
        if dist[j] > 1e-3:
            lone.append(tr)
            continue
        pairs.append((tr, pool.pop(j)))
    return pairs, lone, pool


def run_episode(graph: Any, env: gym.Env, total_step: int) -> int:
    """One training episode of graph_rl on the replayed env, as the session runs it; returns the new total step."""
    obs, _ = env.reset()
    graph.reset()
    ep_step = 0
    while True:
        action = graph.act(obs, ep_step=ep_step, total_step=total_step, testing=False)
        obs, reward, terminated, truncated, info = env.step(action)
        ep_step += 1
        total_step += 1
        done = graph.observe(
            obs, reward, terminated, truncated, info, ep_step=ep_step, total_step=total_step, testing=False
        )
        if terminated or truncated or done:
            return total_step


def near_integer_duration(episode: dict[str, Any], low: Node) -> bool:
    """Whether a timed subgoal of the episode lasts an integer number of steps plus at most DEADLINE_TOLERANCE: the
    original runs it one step longer than graph_rl, which counts such a deadline as passed (float32 noise)."""
    scale = low.subtask.time
    for rec in episode["emitted"].get(ORIGINAL_NAMES[1], []):
        steps = float(scale.unconvert(rec["act"][0]))
        if 0.0 < steps - np.floor(steps) <= DEADLINE_TOLERANCE:
            return True
    return False


def _ends_episode(tr: dict[str, Any], stored: list[dict[str, Any]]) -> bool:
    """Whether ``tr`` closes the last action of the episode (its next obs is that of the last real transition)."""
    last = [x for x in stored if x["kind"] in ("real", "hindsight_action")][-1]
    return bool(np.allclose(tr["next_obs"], last["next_obs"], atol=TOL))


def explain(theirs: dict[str, Any], ours: dict[str, Any], node: Node, names: Sequence[Sequence[Any]]) -> str | None:
    """The documented difference a pair of near-identical transitions shows, or None (unexplained)."""
    if (
        hasattr(node.subtask, "time")
        and theirs["kind"] == ours["kind"] == "hindsight_goal"
        and not theirs["done"]
        and ours["done"]
        and _same(dict(theirs, done=True), ours, reward=False)
    ):
        start = 0
        for name, dim in names:
            if name == "delta_t_ach":
                left = float(node.subtask.time.unconvert(theirs["next_obs"][start]))
                if 0.0 < left <= DEADLINE_TOLERANCE:
                    # ours counts a deadline within DEADLINE_TOLERANCE steps as passed, as it does for a real subgoal
                    return "deadline_tolerance"
            start += dim
    if theirs["kind"] == ours["kind"] == "hindsight_action" and _same(theirs, ours, reward=False):
        # ours recomputes the reward (its aux terms) for the relabelled action; the original kept the emitted one's
        amap = node.algorithm.action_map
        acts = amap.from_unit(np.stack([ours["act"], theirs["emitted_act"]]).astype(np.float32))
        aux = node.subtask.aux(acts, np.zeros(2, np.float32)) if node.subtask.aux_rewards else np.zeros(2)
        if abs((ours["rew"] - theirs["rew"]) - float(aux[0] - aux[1])) <= 1e-4:
            return "hindsight_action_reward_recomputed"
    return None


def _describe(tr: dict[str, Any], other: dict[str, Any] | None, names: Sequence[Sequence[Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": tr.get("kind"), "rew": tr["rew"], "done": tr["done"]}
    start = 0
    for name, dim in names:
        if name == "delta_t_ach":
            out["delta_t_ach"] = [float(tr["obs"][start]), float(tr["next_obs"][start])]
        start += dim
    if other is not None:
        out["counterpart"] = {
            "kind": other.get("kind"),
            "rew": other["rew"],
            "done": other["done"],
            "obs_differs": _differing(names, np.abs(tr["obs"] - other["obs"])),
            "next_obs_differs": _differing(names, np.abs(tr["next_obs"] - other["next_obs"])),
            "act_diff": float(np.abs(tr["act"] - other["act"]).max()),
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("recording")
    ap.add_argument("--out")
    ap.add_argument("--show", type=int, default=3, help="unmatched transitions listed per node and side")
    ap.add_argument("--override", nargs="*", default=[], help="extra graph overrides for graph_rl")
    args = ap.parse_args()
    rec = json.loads(Path(args.recording).read_text())

    overrides = ["level_params_list[1].subtask_spec_params.observe_budget=false", *rec.get("set", []), *args.override]
    config = api.load_config(rec["env"], "HiTS", graph=overrides)
    built = api.build(config)
    graph = built.graph
    env = ReplayEnv(built.env)
    levels = {len(graph.nodes) - 1 - i: node for i, node in enumerate(graph.nodes)}

    policies, captured = {}, defaultdict(list)
    for level, node in levels.items():
        lay = rec["layouts"][ORIGINAL_NAMES[level]]
        obs_perm = permutation(lay["obs"], our_obs_names(node))
        act_names = (
            [("", 1)]
            if not node.children
            else [("delta_t_ach", 1)]
            + [
                (
                    f"goal.{k}",
                    node.children[0].subtask.goal_layout.slices[k].stop
                    - node.children[0].subtask.goal_layout.slices[k].start,
                )
                for k in node.children[0].subtask.goal_layout.keys
            ]
        )
        act_perm = permutation(lay["act"], act_names)
        policies[level] = node.policy = ScriptedPolicy(node, obs_perm, act_perm)

        def capture(obs, act, rew, next_obs, done, disc, _level=level, _perm=obs_perm, _node=node):
            inv = np.argsort(_perm)
            kinds = getattr(_node.algorithm, "kinds", [None] * len(rew))
            for i in range(len(rew)):
                captured[_level].append(
                    {
                        "kind": kinds[i],
                        "obs": np.asarray(obs[i], np.float64)[inv],
                        "act": np.asarray(act[i], np.float64),
                        "rew": float(rew[i]),
                        "done": bool(done[i] > 0),
                        "next_obs": np.asarray(next_obs[i], np.float64)[inv],
                        "disc": float(disc[i]),
                    }
                )

        node.algorithm.buffer.add_batch = capture

    report: dict[str, Any] = {"env": rec["env"], "episodes": len(rec["episodes"]), "desynchronised": [], "nodes": {}}
    totals: dict[int, dict[str, Any]] = {
        level: {
            "original": 0,
            "ours": 0,
            "identical": 0,
            "explained": defaultdict(int),
            "unexplained": [],
            "only_original": [],
            "only_ours": [],
        }
        for level in levels
    }
    total_step = 0
    for index, episode in enumerate(rec["episodes"]):
        env.load(episode)
        draws = {(site, name): values for site, name, values in episode["draws"]}
        top, low = levels[1], levels[0]
        flags = [
            v < top.algorithm.params.testing_fraction
            for _, v in draws.get(("get_algo_info", "hac_node_layer_1_algorithm"), [])
        ]
        top.algorithm.draw_test_flag = lambda _f=flags: bool(_f.pop(0))
        offsets = [v for _, v in draws.get(("evaluate_transition", "hits_node_layer_0_subtask"), [])]
        original_hindsight = type(low.subtask).hindsight_action

        def hindsight(goal, achieved, step, _task=low.subtask, _off=offsets, _orig=original_hindsight):
            rng = TapeRng()
            rng.push("random", [_off[step - 1]])
            _task.rng = rng
            return _orig(_task, goal, achieved, step)

        low.subtask.hindsight_action = hindsight
        for level, name in ORIGINAL_NAMES.items():
            policies[level].queue = list(episode["emitted"].get(name, []))
        theirs = {level: episode["stored"].get(f"{ORIGINAL_NAMES[level]}_algorithm", []) for level in levels}
        _install_her(levels, draws)
        captured.clear()
        try:
            total_step = run_episode(graph, env, total_step)
        except (RuntimeError, IndexError) as err:
            # the two sides ended an activation at different steps: their node episodes no longer line up
            why = "deadline_tolerance" if near_integer_duration(episode, low) else None
            report["desynchronised"].append({"episode": index, "explained": why, "error": str(err)})
            continue
        env_ended = bool(episode["steps"][-1]["done"])
        for level, node in levels.items():
            names = rec["layouts"][ORIGINAL_NAMES[level]]["obs"]
            t = totals[level]
            mine, orig = captured[level], [_arrays(x) for x in theirs[level]]
            n_m, un_t, un_o = match(orig, mine)
            t["original"] += len(orig)
            t["ours"] += len(mine)
            t["identical"] += n_m
            pairs, lone_t, lone_o = pair_up(un_t, un_o)
            for a, b in pairs:
                why = explain(a, b, node, names)
                if why is None:
                    t["unexplained"].append({"original": _describe(a, b, names), "ours": _describe(b, a, names)})
                else:
                    t["explained"][why] += 1
            for x in lone_t:
                if x["kind"] == "testing" and env_ended and _ends_episode(x, orig):
                    # ours does not test a child cut short by the env episode's end (its deadline never came)
                    t["explained"]["untested_child_cut_by_env_end"] += 1
                else:
                    t["only_original"].append(_describe(x, None, names))
            t["only_ours"] += [_describe(x, None, names) for x in lone_o]
    for level, node in levels.items():
        t = totals[level]
        pol = policies[level]
        report["nodes"][node.name] = {
            "original": ORIGINAL_NAMES[level],
            "stored_original": t["original"],
            "stored_ours": t["ours"],
            "identical": t["identical"],
            "explained": dict(t["explained"]),
            "unexplained": len(t["unexplained"]),
            "only_original": len(t["only_original"]),
            "only_ours": len(t["only_ours"]),
            "observation_mismatches": len(pol.obs_errors),
            "observation_mismatch_fields": sorted({f for _, fs in pol.obs_errors for f in fs}),
            "examples": {k: t[k][: args.show] for k in ("unexplained", "only_original", "only_ours")},
        }
    report["env_action_max_error"] = max(env.action_errors, default=0.0)
    text = json.dumps(report, indent=1, default=float)
    if args.out:
        Path(args.out).write_text(text)
    print(text)


def _install_her(levels: dict[int, Node], draws: dict[tuple[str, str], list]) -> None:
    """Hand each node's relabelling the original's hindsight draws for the node episode it is closing."""
    low_draws = list(draws.get(("_sample_achieved_timed_goals", "hits_node_layer_0_algorithm"), []))
    top_draws = list(draws.get(("_sample_achieved_goals", "hac_node_layer_1_algorithm"), []))
    for level, pending, parse in ((0, low_draws, parse_timed_her), (1, top_draws, parse_her)):
        algo = levels[level].algorithm
        original_relabel = type(algo).relabel

        def relabel(episode, _algo=algo, _pending=pending, _parse=parse, _orig=original_relabel):
            n = len(episode)
            _algo.her_rng, used = _parse(_pending, n)
            del _pending[:used]
            tests_before = _algo.n_test_penalties
            batch = _orig(_algo, episode)
            n_test = _algo.n_test_penalties - tests_before
            real_kinds = [
                "hindsight_action" if tr.child_hindsight is not None and not tr.child_achieved else "real"
                for tr in episode
            ]
            _algo.kinds = real_kinds + ["testing"] * n_test + ["hindsight_goal"] * (len(batch) - n - n_test)
            return batch

        algo.relabel = relabel


if __name__ == "__main__":
    main()
