"""Which level holds an agent back? Cross two checkpoints' top levels with each other's lower levels.

    python benchmarks/learning.py --env EasyPlatforms --algo HiTS --seed-list 2 3 --checkpoint-dir ckpt
    python tools/level_swap.py ckpt/seed-2 ckpt/seed-3 --episodes 40

Why: when a hierarchical agent fails its tests, its top level may propose subgoals no lower level could use, or its
lower levels may fail subgoals a good top level would set; its own success rate cannot tell the two apart. Crossing
it with a checkpoint that succeeds can: a top level that fails over a capable lower level is the one that lags (and
a lower level that fails under a capable top level). ``docs/research/hits_easyplatforms.md#slowstart`` reads the slow
starters of EasyPlatforms this way.

Both agents are loaded as ``scripts/run/evaluate.py`` loads one. Each then runs ``--episodes`` deterministic test
episodes as it was saved, and again with every node below its root taken from the other checkpoint (networks and
the rest of the node's state; the root keeps its own). All four runs start from the same evaluation env stream
(``--seed``, default: the first checkpoint's run seed), so they meet the same goals. Printed as JSON: per run its top
level's source, its lower levels' source, success rate, mean return and mean length.

The two runs must agree on what a lower level sees and is asked: the same algorithm, env id and env arguments,
number of levels, observation slices and every lower level's ``subtask_spec_params``; the lower levels' networks
must have the same shapes. Otherwise a lower level would read another layout as its own and the figures would be
wrong without an error, so the tool exits 2 naming the first difference. The top levels may differ in anything
(learning rate, alpha, penalty, budget): comparing those is what the tool is for.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_cli  # noqa: E402  (the benchmarks' shared CLI helpers)


def lower_level_mismatch(first: dict[str, Any], second: dict[str, Any]) -> str | None:
    """The first config entry (``config.json`` data) on which two runs' lower levels would disagree, or None."""
    pairs: list[tuple[str, Any, Any]] = [
        ("algo", first["algo"], second["algo"]),
        ("run_params.env", first["run_params"]["env"], second["run_params"]["env"]),
        ("run_params.env_kwargs", first["run_params"]["env_kwargs"], second["run_params"]["env_kwargs"]),
    ]
    graphs = first["graph_params"], second["graph_params"]
    for key in ("n_layers", "observation_slices"):
        pairs.append((f"graph_params.{key}", graphs[0].get(key), graphs[1].get(key)))
    levels = graphs[0]["level_params_list"], graphs[1]["level_params_list"]
    for i in range(min(len(levels[0]), len(levels[1])) - 1):
        key = f"graph_params.level_params_list[{i}].subtask_spec_params"
        pairs.append((key, levels[0][i].get("subtask_spec_params"), levels[1][i].get("subtask_spec_params")))
    for key, a, b in pairs:
        if a != b:
            return f"{key} differs ({a!r} vs {b!r})"
    return None


def crossed_state(top: dict[str, Any], lower: dict[str, Any], root: str) -> dict[str, Any]:
    """A graph state with ``root``'s node from ``top`` and every other node from ``lower``, no control held."""
    nodes = {name: (top if name == root else lower)["nodes"][name] for name in top["nodes"]}
    return {"nodes": nodes, "path": [], "ep_step": 0}


def main(argv: list[str] | None = None) -> int:
    parser = bench_cli.parser(__doc__, episodes=40)
    parser.add_argument("other", type=Path, metavar="OTHER_CHECKPOINT_OR_RUNDIR")
    args, first = bench_cli.parse_and_load(parser, argv)
    second = bench_cli.load(parser.prog, args.other)
    from graph_rl.session.evaluate import evaluate

    agents = {"first": first, "second": second}
    if not first.graph.root.children:
        return bench_cli.fail(parser.prog, f"{args.source}: a one-node agent ({first.config.algo}) has no lower level")
    mismatch = lower_level_mismatch(first.checkpoint.config, second.checkpoint.config)
    if mismatch is not None:
        return bench_cli.fail(parser.prog, f"{args.source} and {args.other}: {mismatch}")
    seed = first.config.seed if args.seed is None else args.seed
    states = {name: agent.checkpoint.state["graph"] for name, agent in agents.items()}
    runs = []
    for top, lower in (("first", "first"), ("second", "second"), ("first", "second"), ("second", "first")):
        agent = agents[top]
        try:
            agent.graph.load_state_dict(crossed_state(states[top], states[lower], agent.graph.root.name))
        except (KeyError, ValueError, RuntimeError, TypeError) as err:
            return bench_cli.fail(parser.prog, f"{args.other}: its lower levels do not fit {args.source}'s graph "
                                  f"({type(err).__name__}: {str(err).splitlines()[0]})")
        result = evaluate(agent, n_episodes=args.episodes, seed=seed)
        runs.append({
            "top": top, "lower": lower, "success_rate": result.success_rate,
            "mean_return": round(result.mean_return, 3), "mean_length": round(result.mean_length, 2),
        })
    report = {
        "first": {"checkpoint": str(first.checkpoint.path), "step": first.checkpoint.step, "seed": first.config.seed},
        "second": {"checkpoint": str(second.checkpoint.path), "step": second.checkpoint.step,
                   "seed": second.config.seed},
        "env": first.config.run.env, "algo": first.config.algo, "episodes": args.episodes, "eval_seed": seed,
        "runs": runs,
    }
    return bench_cli.emit(parser.prog, report, args.out)


if __name__ == "__main__":
    sys.exit(main())
