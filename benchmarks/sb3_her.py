"""The reference point for goal envs: stable-baselines3 SAC + HerReplayBuffer on the same env and budget.

    pip install stable-baselines3                       # a benchmark dependency, not the library's
    python benchmarks/sb3_her.py --env gymnasium_robotics:PointMaze_UMaze-v3 --steps 100000 --seeds 1 2 3
    python benchmarks/learning.py --env PointMaze_UMaze --algo SAC --steps 100000 --seeds 3   # ours, same marks

SB3's defaults throughout (MultiInputPolicy, [256, 256], auto entropy, batch 256, one gradient step per env step)
except ``learning_starts`` = the episode length (HER cannot sample before an episode ends; SB3's own advice), HER with ``n_sampled_goal=4`` and the ``future`` strategy; one torch thread, CPU, like
``learning.py``. Every ``--eval-every`` env steps it runs ``--eval-episodes`` deterministic episodes on a separate
env and counts an episode a success when the env says so (``info["is_success"]`` or ``info["success"]``) at any
step, which is how ``learning.py`` reads our agents. The JSON has per seed the curve (step, success, wall seconds),
the step where success first reached ``--threshold``, the mean of the last 5 evaluations, and env steps/s.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from typing import Any

import bench_cli  # benchmarks/ is on sys.path when run as a script


def _success(info: dict[str, Any]) -> bool:
    return bool(info.get("is_success", info.get("success", False)))


def run_seed(env_id: str, seed: int, steps: int, eval_every: int, eval_episodes: int, threshold: float) -> dict[str, Any]:
    import gymnasium as gym
    import torch
    from stable_baselines3 import SAC, HerReplayBuffer
    from stable_baselines3.common.callbacks import BaseCallback

    torch.set_num_threads(1)
    if ":" in env_id:
        importlib.import_module(env_id.partition(":")[0])
    train_env, eval_env = gym.make(env_id), gym.make(env_id)
    curve: list[dict[str, Any]] = []
    start = time.monotonic()

    def evaluate(model: Any) -> float:
        wins = 0
        for episode in range(eval_episodes):
            obs, _ = eval_env.reset(seed=10_000 * seed + len(curve) * eval_episodes + episode)
            done, won = False, False
            while not done:
                action, _ = model.predict(obs, deterministic=True)
                obs, _, terminated, truncated, info = eval_env.step(action)
                won = won or _success(info)
                done = terminated or truncated
            wins += won
        return wins / eval_episodes

    class Every(BaseCallback):
        def _on_step(self) -> bool:
            if self.num_timesteps % eval_every == 0:
                success = evaluate(self.model)
                curve.append({"step": self.num_timesteps, "success": success,
                              "wall_s": round(time.monotonic() - start, 1)})
                print(f"[SB3 SAC+HER seed {seed}] step {self.num_timesteps} success {success}", file=sys.stderr,
                      flush=True)
            return True

    length = train_env.spec.max_episode_steps if train_env.spec is not None else None
    model = SAC("MultiInputPolicy", train_env, replay_buffer_class=HerReplayBuffer, learning_starts=length or 1000,
                replay_buffer_kwargs={"n_sampled_goal": 4, "goal_selection_strategy": "future"}, seed=seed,
                device="cpu", verbose=0)
    model.learn(total_timesteps=steps, callback=Every())
    wall = time.monotonic() - start
    reached = next((p["step"] for p in curve if p["success"] >= threshold), None)
    last = [p["success"] for p in curve[-5:]]
    return {"seed": seed, "steps_to_threshold": reached, "final_mean_last5": round(sum(last) / max(len(last), 1), 3),
            "wall_s": round(wall, 1), "env_steps_per_s": round(steps / wall, 1), "curve": curve}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="gymnasium_robotics:PointMaze_UMaze-v3")
    parser.add_argument("--steps", type=bench_cli.at_least(1), default=100_000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--eval-every", type=bench_cli.at_least(1), default=10_000)
    parser.add_argument("--eval-episodes", type=bench_cli.at_least(1), default=10)
    parser.add_argument("--threshold", type=float, default=0.9)
    parser.add_argument("--out", default=None, help="also write the JSON here")
    args = bench_cli.parse_args(parser)
    try:
        import stable_baselines3  # noqa: F401
    except ImportError:
        parser.error("needs stable-baselines3 (pip install stable-baselines3); it is a benchmark dependency only")
    runs = [run_seed(args.env, s, args.steps, args.eval_every, args.eval_episodes, args.threshold) for s in args.seeds]
    report = {"library": "stable-baselines3 SAC + HerReplayBuffer", "env": args.env, "steps": args.steps,
              "eval_every": args.eval_every, "eval_episodes": args.eval_episodes, "runs": runs}
    return bench_cli.emit(parser.prog, report, args.out)


if __name__ == "__main__":
    sys.exit(main())
