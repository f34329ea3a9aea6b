#!/usr/bin/env bash
# Build the original HiTS/EAT research code (the Graph-RL fork pczernec/hits-herald1) in a throwaway Python 3.8
# venv, for the differential tests in tools/differential.py. Not a dependency of graph_rl or of its test suite.
#
#   bash tools/build_original.sh SRC VENV
#
# SRC: a checkout (or `git worktree`/`git archive` export) of pczernec/hits-herald1; VENV: where the venv goes.
# Needs pyenv's Python 3.8 (or python3.8 on PATH) and, if no Box2D wheel fits, swig (Debian: apt-get install swig).
# The fork's own packages are put on PYTHONPATH by tools/differential.py, not installed, so SRC stays untouched.
set -euo pipefail
SRC=${1:?usage: build_original.sh SRC VENV}
VENV=${2:?usage: build_original.sh SRC VENV}
PY38=${PYTHON38:-$HOME/.pyenv/versions/3.8.18/bin/python3.8}
[ -x "$PY38" ] || PY38=$(command -v python3.8)  # pyenv's shim fails unless 3.8 is selected, so its path comes first
"$PY38" -m venv "$VENV"
PIP="$VENV/bin/pip"
"$PIP" install -q "pip<24" "setuptools==65.5.0" "wheel<0.40"
"$PIP" install -q --index-url https://download.pytorch.org/whl/cpu "torch==2.4.1" \
  || "$PIP" install -q "torch==2.4.1"
"$PIP" install -q "numpy<1.24" "scipy<1.11" "pyglet==1.5.27" "wavefront_reader"
"$PIP" install -q --no-build-isolation "gym==0.21.0"
"$PIP" install -q "tianshou==0.3.1"
"$PIP" install -q "Box2D==2.3.10" || "$PIP" install -q "box2d-py==2.3.8"
"$VENV/bin/python" - "$SRC" <<'PY'
import sys
sys.path[:0] = [f"{sys.argv[1]}/graph_rl", f"{sys.argv[1]}/dynamic-rl-benchmarks"]
import Box2D, gym, tianshou, torch  # noqa: F401
import graph_rl  # noqa: F401
from dyn_rl_benchmarks.envs.platforms_env import PlatformsEnv  # noqa: F401
print("original code importable: gym", gym.__version__, "tianshou", tianshou.__version__, "torch", torch.__version__)
PY
