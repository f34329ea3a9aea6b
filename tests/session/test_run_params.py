"""run_params / wandb_params: strict loading, range checks, name templates."""

import pytest

from graph_rl.config import ConfigError, from_dict, resolve
from graph_rl.config.run_params import RunParams, WandbParams

BASE = {"env": "EasyPlatforms-v1", "n_steps": 1000}


def test_defaults_and_override() -> None:
    params = resolve(RunParams, BASE, ["test_frequency=2", "max_runtime=30"], "run_params")
    assert (params.test_frequency, params.max_runtime, params.torch_num_threads) == (2, 30.0, 1)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({**BASE, "n_steps": 0}, "run_params.n_steps: must be > 0"),
        ({**BASE, "n_test_episodes": -1}, "run_params.n_test_episodes: must be >= 0"),
        ({**BASE, "model_save_frequency": 0}, "run_params.model_save_frequency: must be > 0"),
        ({**BASE, "video_frequency": 0}, "run_params.video_frequency: must be > 0"),
        ({**BASE, "video_every_k_steps": 0}, "run_params.video_every_k_steps: must be > 0"),
        ({**BASE, "n_step": 5}, "did you mean 'n_steps'"),
        ({**BASE, "seed": "one"}, "run_params.seed: expected an integer"),
        ({"n_steps": 5}, "run_params.env: required parameter is missing"),
    ],
)
def test_bad_values_name_the_culprit(data: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        from_dict(RunParams, data, "run_params")


def test_wandb_name_template() -> None:
    params = from_dict(WandbParams, {"name": "{algo}-{env}-s{seed}", "tags": ["a"]})
    assert params.run_name(algo="HiTS", env="EasyPlatforms", seed=3) == "HiTS-EasyPlatforms-s3"
    with pytest.raises(ConfigError, match=r"wandb_params.name: unknown placeholder \{algorithm\}"):
        from_dict(WandbParams, {"name": "{algorithm}"}, "wandb_params")
