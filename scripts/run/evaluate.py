"""Evaluate a checkpoint: run deterministic test episodes and print a JSON summary.

    python scripts/run/evaluate.py runs/EasyPlatforms-HiTS-20250101-120000 --episodes 20
    python scripts/run/evaluate.py runs/.../checkpoints/step-30000 --episodes 1 --video episode.gif

``--render`` opens a window (the env's ``human`` mode); ``--video FILE.gif|FILE.mp4`` records ``rgb_array``
frames with the running subgoals drawn in (MP4 needs the ``imageio-ffmpeg`` package).
Errors (missing or corrupt checkpoint, unsupported video format) are one line on stderr with exit code 2.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="evaluate.py", description=__doc__.split("\n\n")[0])
    p.add_argument("source", type=Path, metavar="CHECKPOINT_OR_RUNDIR")
    p.add_argument("--episodes", type=int, default=10, help="test episodes (default 10)")
    p.add_argument("--seed", type=int, help="seed of the evaluation env stream (default: the run's seed)")
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    group = p.add_mutually_exclusive_group()
    group.add_argument("--render", action="store_true", help="show the episodes in a window")
    group.add_argument("--video", type=Path, metavar="FILE", help="write a .gif or .mp4 of the episodes")
    p.add_argument("--fps", type=int, default=30, help="video frame rate (default 30)")
    p.add_argument("--every", type=int, default=2, metavar="K", help="record every K-th step (default 2: real time)")
    return p


def _check_video(path: Path) -> str | None:
    suffix = path.suffix.lower()
    if suffix not in (".gif", ".mp4"):
        return f"--video {path}: unsupported format {suffix or '(none)'}; use .gif or .mp4"
    if suffix == ".mp4" and importlib.util.find_spec("imageio_ffmpeg") is None:
        return f"--video {path}: MP4 needs the imageio-ffmpeg package (pip install imageio-ffmpeg); or write a .gif"
    if not path.parent.is_dir():
        return f"--video {path}: directory {path.parent} does not exist"
    return None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    for flag in ("episodes", "fps", "every"):
        if getattr(args, flag) < 1:
            print(f"evaluate.py: error: --{flag} {getattr(args, flag)}: must be >= 1", file=sys.stderr)
            return 2
    problem = _check_video(args.video) if args.video else None
    if problem:
        print(f"evaluate.py: error: {problem}", file=sys.stderr)
        return 2
    import envs  # noqa: F401 - registers the Platforms environments
    import imageio.v3 as iio
    import torch

    from graph_rl.checkpoint import CheckpointError
    from graph_rl.config import ConfigError
    from graph_rl.session.evaluate import FrameRecorder, evaluate, load_agent
    from graph_rl.session.video import write_gif

    if args.device == "cuda" and not torch.cuda.is_available():
        print("evaluate.py: error: --device cuda: CUDA is not available", file=sys.stderr)
        return 2
    render_mode = "human" if args.render else "rgb_array" if args.video else None
    try:
        agent = load_agent(args.source, device=args.device, render_mode=render_mode)
    except (CheckpointError, ConfigError) as err:
        print(f"evaluate.py: error: {err}", file=sys.stderr)
        return 2
    recorder = FrameRecorder(agent.env, agent.graph, every=args.every) if args.video else None
    seed = agent.config.seed if args.seed is None else args.seed
    result = evaluate(
        agent, n_episodes=args.episodes, seed=seed,
        on_act=recorder.on_act if recorder else None, on_episode_end=recorder.on_episode_end if recorder else None,
    )
    agent.env.close()
    out = {"checkpoint": str(agent.checkpoint.path), "step": agent.checkpoint.step, "seed": seed, **result.to_dict()}
    if recorder is not None:
        if args.video.suffix.lower() == ".gif":
            write_gif(args.video, recorder.frames, args.fps)
        else:
            # 600-pixel frames are divisible by 8 but not 16: no resizing, and players handle it.
            iio.imwrite(args.video, recorder.frames, fps=args.fps, macro_block_size=8)
        out["video"] = str(args.video)
        out["frames"] = len(recorder.frames)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
