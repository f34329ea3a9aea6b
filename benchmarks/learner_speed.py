"""Learner speed: ms per gradient update and per single-observation action, lean SAC vs tianshou learners.

    python benchmarks/learner_speed.py                      # [32, 32], batch 512, one JSON line per learner
    python benchmarks/learner_speed.py --hidden 256 256 --batch 256 --learners SAC tianshou.SAC

Every learner trains on batches sampled from one of our replay buffers (filled with random transitions), as a
node would. ``tianshou.SAC(buffer)`` is tianshou's stock path for comparison: ``algo.update(buffer, ...)`` on a
tianshou ReplayBuffer holding the same data (scalar gamma only, so not usable by nodes); it shows what feeding
our batch straight into ``_update_with_batch`` saves. Times are CPU process time with one torch thread; the
reported figure is the median over repeats (learners run interleaved, so machine drift hits all alike).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from graph_rl.learners import learner_names, make_learner  # noqa: E402
from graph_rl.learners.tianshou_adapter import TianshouConfig  # noqa: E402
from graph_rl.replay import ReplayBuffer  # noqa: E402

BUFFER_PATH = "tianshou.SAC(buffer)"


def _filled_buffer(obs_dim: int, act_dim: int, n: int, seed: int) -> ReplayBuffer:
    rng = np.random.default_rng(seed)
    buf = ReplayBuffer(n, obs_dim, act_dim, rng=np.random.default_rng(seed + 1))
    buf.add_batch(rng.normal(size=(n, obs_dim)).astype(np.float32), rng.uniform(-1, 1, (n, act_dim)).astype(np.float32),
                  -rng.random(n).astype(np.float32), rng.normal(size=(n, obs_dim)).astype(np.float32),
                  (rng.random(n) < 0.05).astype(np.float32), rng.integers(1, 4, n).astype(np.float32))
    return buf


def _stock_buffer_update(learner: object, ours: ReplayBuffer, batch_size: int, seed: int) -> Callable[[], None]:
    """tianshou's own ``algo.update(buffer)`` on a tianshou ReplayBuffer holding our transitions."""
    from tianshou.data import Batch
    from tianshou.data import ReplayBuffer as TianshouBuffer
    from tianshou.utils.torch_utils import policy_within_training_step

    n = len(ours)
    full = ours.sample(n)
    buf = TianshouBuffer(size=n, random_seed=seed)
    for i in range(n):
        buf.add(Batch(obs=full.obs[i].numpy(), act=full.act[i].numpy(), rew=float(full.rew[i]),
                      terminated=bool(full.done[i]), truncated=False, obs_next=full.next_obs[i].numpy(), info={}))
    algo = learner.algorithm  # type: ignore[attr-defined]

    def update() -> None:
        with policy_within_training_step(algo.policy):
            algo.update(buffer=buf, sample_size=batch_size)

    return update


def _time_ms(fn: Callable[[], object], n: int) -> float:
    start = time.process_time()
    for _ in range(n):
        fn()
    return 1000.0 * (time.process_time() - start) / n


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--learners", nargs="+", default=["SAC", "tianshou.SAC", BUFFER_PATH, "tianshou.TD3"],
                   choices=[*learner_names(), BUFFER_PATH])
    p.add_argument("--hidden", nargs="+", type=int, default=[32, 32])
    p.add_argument("--batch", type=int, default=512)
    p.add_argument("--obs_dim", type=int, default=16)
    p.add_argument("--act_dim", type=int, default=4)
    p.add_argument("--updates", type=int, default=300, help="timed updates per repeat")
    p.add_argument("--acts", type=int, default=1000, help="timed actions per repeat (each mode)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--buffer_size", type=int, default=10_000)
    args = p.parse_args()
    torch.set_num_threads(1)
    ours = _filled_buffer(args.obs_dim, args.act_dim, args.buffer_size, seed=0)
    config = TianshouConfig(hidden_layers=args.hidden)
    runs: dict[str, tuple[Callable[[], None], Callable[[], object], Callable[[], object]]] = {}
    obs = np.zeros(args.obs_dim, dtype=np.float32)
    for name in args.learners:
        learner = make_learner(name.split("(")[0], args.obs_dim, args.act_dim, config,
                               init_generator=torch.Generator().manual_seed(1), explore_generator=torch.Generator().manual_seed(2))
        update = (_stock_buffer_update(learner, ours, args.batch, seed=3) if name == BUFFER_PATH
                  else (lambda lrn=learner: lrn.update(ours.sample(args.batch))))
        runs[name] = (update, lambda lrn=learner: lrn.act(obs, False), lambda lrn=learner: lrn.act(obs, True))
        for _ in range(20):
            update()
    times: dict[str, dict[str, list[float]]] = {n: {"update": [], "act": [], "act_det": []} for n in runs}
    for _ in range(args.repeats):
        for name, (update, act, act_det) in runs.items():
            times[name]["update"].append(_time_ms(update, args.updates))
            times[name]["act"].append(_time_ms(act, args.acts))
            times[name]["act_det"].append(_time_ms(act_det, args.acts))
    lean = statistics.median(times["SAC"]["update"]) if "SAC" in times else None
    for name, t in times.items():
        update_ms = statistics.median(t["update"])
        print(json.dumps({
            "learner": name, "hidden": args.hidden, "batch": args.batch, "obs_dim": args.obs_dim, "act_dim": args.act_dim,
            "ms_per_update": round(update_ms, 3), "ms_per_act": round(statistics.median(t["act"]), 4),
            "ms_per_act_deterministic": round(statistics.median(t["act_det"]), 4),
            "update_time_vs_lean_sac": None if lean is None else round(update_ms / lean, 2),
            "repeats_ms_per_update": [round(x, 3) for x in t["update"]],
            "torch": torch.__version__, "cpu": platform.processor() or platform.machine(),
        }))


if __name__ == "__main__":
    main()
