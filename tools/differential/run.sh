#!/usr/bin/env bash
# The HiTS differential test end to end: build the original (once), record its scripted episodes on the Platforms
# family, replay them through graph_rl, and write one JSON report per scenario into OUT.
#
#   bash tools/differential/run.sh SRC VENV OUT
#
# SRC: a checkout of pczernec/hits-herald1; VENV: the original's venv (built here if missing); OUT: report folder.
# Run from the repository root with graph_rl's venv active.
set -euo pipefail
SRC=${1:?usage: run.sh SRC VENV OUT}
VENV=${2:?usage: run.sh SRC VENV OUT}
OUT=${3:?usage: run.sh SRC VENV OUT}
HERE=$(dirname "$0")
[ -x "$VENV/bin/python" ] || bash "$HERE/build_original.sh" "$SRC" "$VENV"
mkdir -p "$OUT"
# The shipped EasyPlatforms and Platforms HiTS files depart from the original's values (docs/research): undo that.
AS_ORIGINAL=(level_params_list[0].subtask_spec_params.delta_t_max=-1 level_params_list[1].algo_kwargs.child_failure_penalty=null
  level_params_list[1].algo_kwargs.grad_steps_per_env_step=0.5
  level_params_list[1].model_kwargs.learning_rate=0.0001940204674106782 level_params_list[1].model_kwargs.alpha=1.1172711243974338)
AS_ORIGINAL_BUDGET=("${AS_ORIGINAL[@]}" level_params_list[1].subtask_spec_params.max_n_actions=10)
scenario() {  # name env episodes seed [--set ...] [-- overrides for graph_rl]
  local name=$1 env=$2 episodes=$3 seed=$4; shift 4
  local set=() ours=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do set+=("$1"); shift; done
  [ $# -gt 0 ] && shift && ours=("$@")
  "$VENV/bin/python" "$HERE/record_original.py" --src "$SRC" --env "$env" --episodes "$episodes" --seed "$seed" \
    ${set:+--set "${set[@]}"} --out "$OUT/$name.recording.json" 2>/dev/null | tail -1
  python "$HERE/compare.py" "$OUT/$name.recording.json" ${ours:+--override "${ours[@]}"} --out "$OUT/$name.json" >/dev/null
  rm "$OUT/$name.recording.json"
  python - "$OUT/$name.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
for name, n in r["nodes"].items():
    print(f"  {name}: {n['stored_original']} stored by the original, {n['stored_ours']} by graph_rl, {n['identical']} identical,"
          f" explained {n['explained']}, unexplained {n['unexplained']}, only original {n['only_original']},"
          f" only ours {n['only_ours']}, observation mismatches {n['observation_mismatches']}")
print(f"  desynchronised episodes: {[(d['episode'], d['explained']) for d in r['desynchronised']]}")
PY
}
scenario platforms Platforms 100 1 -- "${AS_ORIGINAL_BUDGET[@]}"
scenario platforms_no_budget Platforms 40 3 level_params_list[1].subtask_spec_params.max_n_actions=100 -- "${AS_ORIGINAL[@]}"
scenario easyplatforms EasyPlatforms 200 2 -- "${AS_ORIGINAL_BUDGET[@]}"
scenario noisyplatforms NoisyPlatforms 100 4
