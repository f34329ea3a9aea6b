"""How high can any policy score on NoisyPlatforms? The reference expert, with its departure delayed by lift cycles.

    python tools/noisyplatforms_ceiling.py --seeds 1000:1300

The only route to the goal shelf: cross the trigger (which starts platform1's single 188-step cycle), board
platform0 at its low point, ride it to its top and roll onto platform1 at platform1's low point, the one moment in
a cycle when the two tops meet. The reference scripted expert (``platforms_ref/scripted_controller.py``, which
reads the lift's phase from the observation) does exactly that; a *plan* here is the expert departing at phase
``depart_phase`` after letting ``skip`` ready moments pass (one lift cycle, 126 steps, each). A freeze of either
platform between the trigger and the transfer shifts one lift by 50 steps against the other, so the tops no longer
meet; a new cycle can only start after the running one ends.

Printed JSON, per plan: the success rate over the seeds and its 95% Wilson interval (300 episodes leave about
+-0.06, wider than the gaps between neighbouring departure phases); the freeze-free run's length (how much slack the
plan leaves) and the step at which platform1 starts moving in it (with freezes: the median); the expert's stage when a
failed episode ended (0 waiting, 1 dashing or holding at the pit's edge, 2 riding platform0, 3 boarding platform1,
4 riding it to the shelf and the goal). Over all plans: the rate of an oracle that picks, per episode, a plan that
succeeds (it knows the episode's freezes beforehand, which no policy does).

``--legacy-quirks`` runs each plan's episodes in one long-lived env with the original's state leaks (platform1's
cycle grows by 50 steps per freeze and is never reset), as the original trained on.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from envs.platforms.core import PlatformsEnv  # noqa: E402

DEFAULT_CONTROLLER = ROOT.parent / "shared" / "reference" / "platforms_ref" / "scripted_controller.py"
EPISODE_STEPS = 500


CONTROLLER_API = ("PlatformsController", "p0_phase", "pd")


def load_controller(path: Path) -> ModuleType:
    """The reference scripted controller module (read from the shared reference, not part of the package).

    Raises ValueError naming the file if it cannot be loaded as Python.
    """
    spec = importlib.util.spec_from_file_location("platforms_scripted_controller", path)
    if spec is None or spec.loader is None:
        raise ValueError(f"cannot load {path} as a Python module")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as err:  # a user-given file: any failure to run it is bad input, said in one line
        raise ValueError(f"cannot load {path}: {type(err).__name__}: {err}") from err
    return module


def delayed_expert(module: ModuleType, skip: int, depart_phase: float) -> Any:
    """The expert, departing at the (skip + 1)-th moment it is ready (in place, at the departure phase)."""
    base = module.PlatformsController

    class Delayed(base):  # type: ignore[misc, valid-type]
        def reset(self) -> None:
            super().reset()
            self.ready_count = 0
            self.was_ready = False

        def __call__(self, obs: dict) -> float:
            if self.stage == 0:
                x = float(obs["observation"]["position"][0])
                ready = abs(module.p0_phase(obs) - self.depart_phase) < 0.06 and abs(x - self.wait_x) < 0.03
                self.ready_count += ready and not self.was_ready
                self.was_ready = ready
                if self.ready_count <= skip:
                    return float(module.pd(x, obs["observation"]["velocity"][0], self.wait_x))
            return float(super().__call__(obs))

    return Delayed(depart_phase=depart_phase)


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a binomial rate: unlike mean +- z*se it stays inside [0, 1] at 0 or n successes."""
    rate = successes / n
    centre = (rate + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(rate * (1 - rate) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def run_episode(env: PlatformsEnv, seed: int, controller: Any) -> tuple[bool, int, int | None]:
    """(success, steps, step at which platform1 first moves or None)."""
    obs, _ = env.reset(seed=seed)
    moved = None
    for step in range(1, EPISODE_STEPS + 1):
        obs, _, terminated, truncated, _ = env.step(np.array([controller(obs)], np.float32))
        if moved is None and obs["observation"]["platform1"][3] != 0.0:
            moved = step
        if terminated or truncated:
            return bool(terminated), step, moved
    return False, EPISODE_STEPS, moved


def measure(module: ModuleType, seeds: range, phases: list[float], max_skip: int, legacy: bool) -> dict[str, Any]:
    """Every plan (skip, phase) on every seed; the freeze-free run of each plan shows the slack it leaves."""
    plans = [(skip, phase) for skip in range(max_skip + 1) for phase in phases]
    wins = np.zeros((len(plans), len(seeds)), bool)
    rows = []
    for i, (skip, phase) in enumerate(plans):
        noisy = PlatformsEnv(use_freeze=True, legacy_quirks=legacy)
        moved: list[int] = []
        failed_in: Counter[int] = Counter()
        for j, seed in enumerate(seeds):
            expert = delayed_expert(module, skip, phase)
            wins[i, j], _, first_move = run_episode(noisy, seed, expert)
            if first_move is not None:
                moved.append(first_move)
            if not wins[i, j]:
                failed_in[expert.stage] += 1
        clean_success, clean_steps, clean_move = run_episode(
            PlatformsEnv(), seeds[0], delayed_expert(module, skip, phase)
        )
        rows.append(
            {
                "skip": skip,
                "depart_phase": phase,
                "success": float(wins[i].mean()),
                "success_ci95": wilson_interval(int(wins[i].sum()), len(seeds)),
                "freeze_free_success": clean_success,
                "freeze_free_steps": clean_steps,
                "freeze_free_platform1_moves_step": clean_move,
                "platform1_moves_median_step": float(np.median(moved)) if moved else None,
                "failures_by_stage": {str(stage): n for stage, n in sorted(failed_in.items())},
            }
        )
    no_delay = [i for i, (skip, _) in enumerate(plans) if skip == 0]
    return {
        "seeds": [seeds.start, seeds.stop],
        "legacy_quirks": legacy,
        "plans": rows,
        "oracle_best_plan": float(wins.any(axis=0).mean()),
        "oracle_best_plan_without_delay": float(wins[no_delay].any(axis=0).mean()),
    }


def parse_seeds(text: str) -> range:
    lo, sep, hi = text.partition(":")
    if not sep or not lo.strip().isdigit() or not hi.strip().isdigit() or int(hi) <= int(lo):
        raise ValueError(f"--seeds must be LO:HI with LO < HI, got {text!r}")
    return range(int(lo), int(hi))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="1000:1300", help="env seeds LO:HI (HI excluded)")
    parser.add_argument("--phases", type=float, nargs="+", default=[1.95, 2.1, 2.25], help="departure phases, rad")
    parser.add_argument("--max-skip", type=int, default=2, help="largest number of lift cycles to wait")
    parser.add_argument("--controller", type=Path, default=DEFAULT_CONTROLLER, help="scripted_controller.py")
    parser.add_argument("--legacy-quirks", action="store_true", help="the original's state leaks, one env")
    args = parser.parse_args(argv)
    try:
        seeds = parse_seeds(args.seeds)
        if args.max_skip < 0:
            raise ValueError(f"--max-skip must be >= 0, got {args.max_skip}")
        if not args.controller.is_file():
            raise ValueError(f"scripted controller not found: {args.controller}")
        module = load_controller(args.controller)
        missing = [name for name in CONTROLLER_API if not hasattr(module, name)]
        if missing:
            raise ValueError(f"{args.controller} is not the scripted controller: no {', '.join(missing)}")
    except ValueError as err:
        print(f"noisyplatforms_ceiling: {err}", file=sys.stderr)
        return 2
    print(json.dumps(measure(module, seeds, args.phases, args.max_skip, args.legacy_quirks)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
