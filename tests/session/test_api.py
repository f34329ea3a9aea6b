"""graph_rl.api: the notebook's functions are train.py's jobs (same files, same bytes), with one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

import envs  # noqa: F401 - registers the Platforms environments
from graph_rl import api
from graph_rl.config import ConfigError
from tests.cli.cli_helpers import TRAIN, run_script

RUN = {"n_steps": 700, "test_frequency": 2, "n_test_episodes": 1, "model_save_frequency": None}
GRAPH = {"level_params_list[0].algo_kwargs.learning_starts": 200}


def test_overrides_as_cli_strings_or_a_dict_resolve_the_same() -> None:
    as_dict = api.load_config("EasyPlatforms", "SAC", seed=4, run=RUN, graph={"level_params_list[0].model_kwargs.alpha": 0.3})
    as_strings = api.load_config("EasyPlatforms", "SAC", seed=4, run=[f"{k}={'null' if v is None else v}" for k, v in RUN.items()],
                                 graph=["level_params_list[0].model_kwargs.alpha=0.3"])
    assert as_dict.to_dict() == as_strings.to_dict()
    assert as_dict.graph.level_params_list[0].model_kwargs.alpha == 0.3 and as_dict.seed == 4


@pytest.mark.parametrize("kwargs, culprit", [
    ({"graph": {"level_params_list[0].model_kwargs.alhpa": 1}}, "alhpa: unknown parameter (did you mean 'alpha'?)"),
    ({"run": "n_steps=5"}, "expected a list of KEY=VALUE strings"),
    ({"algo": "PPO"}, "PPO"),
])
def test_bad_input_is_a_one_line_config_error(kwargs: dict, culprit: str) -> None:
    args = {"env": "EasyPlatforms", "algo": kwargs.pop("algo", "SAC")}
    with pytest.raises(ConfigError) as err:
        api.load_config(args["env"], args["algo"], **kwargs)
    assert culprit in str(err.value) and "\n" not in str(err.value)


def test_api_run_is_the_cli_run_byte_for_byte_and_resumes(tmp_path: Path) -> None:
    config = api.load_config("EasyPlatforms", "SAC", seed=5, run=RUN, graph=GRAPH)
    run = api.train(config, logdir=tmp_path / "api")
    cli = run_script(TRAIN, "--env", "EasyPlatforms", "--algo", "SAC", "--seed", "5", "--device", "cpu", "--no-progress",
                     "--logdir", tmp_path / "cli", "--run_params", "n_steps=700", "test_frequency=2",
                     "n_test_episodes=1", "model_save_frequency=null",
                     "--graph_params", "level_params_list[0].algo_kwargs.learning_starts=200")
    assert cli.returncode == 0, cli.stderr
    assert (run.run_dir / "metrics.jsonl").read_bytes() == (tmp_path / "cli" / "metrics.jsonl").read_bytes()
    learner = run.metrics("learner")
    assert "split" not in learner and {"step", "sac_0/alpha", "sac_0/q_mean"} <= set(learner.columns)
    assert set(api.metrics(run.run_dir)["split"]) >= {"train", "test", "learner"}
    more = api.resume(run.run_dir, run={"n_steps": 1400})
    assert more.run_dir == run.run_dir and more.result.total_step >= 1400
    assert more.checkpoint.name == f"step-{more.result.total_step}"


def test_build_prints_each_level_and_record_needs_frames(tmp_path: Path) -> None:
    config = api.load_config("EasyPlatforms", "HiTS", seed=1)
    text = str(api.build(config).graph)
    assert text.startswith("Graph with 2 node(s), root hac_1:")
    for expected in ("hac_1: HAC on EnvGoalSubtask", "hits_0: HiTS on TimedGoalSubtask", "budget       20 actions",
                     "timed goals  deadline within 50 env steps", "SACLearner(hidden_layers=[32, 32]"):
        assert expected in text
    run = api.train(api.load_config("EasyPlatforms", "SAC", seed=1, run=RUN, graph=GRAPH), logdir=tmp_path / "r")
    with pytest.raises(ConfigError, match="render_mode='rgb_array'"):
        api.record_episode(api.load_agent(run.run_dir), tmp_path / "x.gif")
