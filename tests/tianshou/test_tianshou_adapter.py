"""The tianshou adapter honours the learner contract: actions, RNG containment, discounts, stats, save/load."""

from __future__ import annotations

import numpy as np
import pytest
import torch

pytest.importorskip("tianshou")

from graph_rl.learners import SACConfig, SACLearner  # noqa: E402
from graph_rl.learners import learner_names, make_learner  # noqa: E402
from graph_rl.learners.tianshou_adapter import TianshouConfig, TianshouLearner  # noqa: E402
from graph_rl.replay.buffer import ReplayBatch  # noqa: E402
from torch_threads import one_torch_thread  # noqa: E402,F401  (autouse: one torch thread)

OBS, ACT, B = 5, 2, 32
TIANSHOU = [n for n in learner_names() if n != "SAC"]


def learner(name: str, init: int = 1, explore: int = 2, **cfg: object) -> TianshouLearner | SACLearner:
    config = TianshouConfig(**{"hidden_layers": [16, 16], "actor_delay": 2, "ensemble_size": 4, **cfg})
    return make_learner(name, OBS, ACT, config, init_generator=torch.Generator().manual_seed(init),
                        explore_generator=torch.Generator().manual_seed(explore))


def batches(n: int, seed: int = 3, exponent: float | None = None, done: float | None = None) -> list[ReplayBatch]:
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(n):
        disc = torch.randint(1, 4, (B,), generator=g).float() if exponent is None else torch.full((B,), exponent)
        term = (torch.rand(B, generator=g) < 0.2).float() if done is None else torch.full((B,), done)
        out.append(ReplayBatch(torch.randn(B, OBS, generator=g), torch.rand(B, ACT, generator=g) * 2 - 1,
                               -torch.rand(B, generator=g), torch.randn(B, OBS, generator=g), term, disc))
    return out


def params(lrn: TianshouLearner) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in lrn.algorithm.parameters()])


def test_make_learner_resolves_names() -> None:
    assert isinstance(learner("SAC"), SACLearner)
    for name in TIANSHOU:
        lrn = learner(name)
        assert isinstance(lrn, TianshouLearner) and lrn.algo_name == name
        assert (lrn.obs_dim, lrn.act_dim, lrn.device.type) == (OBS, ACT, "cpu")
    with pytest.raises(ValueError, match="tianshou.TD3"):
        learner("tianshou.PPO")
    plain = make_learner("tianshou.TD3", OBS, ACT, SACConfig(alpha=0.3), init_generator=torch.Generator(),
                         explore_generator=torch.Generator())
    assert plain.config.alpha == 0.3 and plain.config.update_actor_freq == 2


@pytest.mark.parametrize("name", TIANSHOU)
def test_actions_are_bounded_reproducible_and_leave_global_rng_alone(name: str) -> None:
    torch.manual_seed(123)
    np.random.seed(123)
    torch_state, np_state = torch.get_rng_state(), np.random.get_state()[1].copy()
    a, b = learner(name), learner(name)
    obs = np.linspace(-1, 1, OBS).astype(np.float32)
    stochastic = np.stack([a.act(obs, deterministic=False) for _ in range(20)])
    assert stochastic.shape == (20, ACT) and np.all(np.abs(stochastic) <= 1.0)
    assert np.ptp(stochastic, axis=0).min() > 0, "exploration must vary"
    np.testing.assert_array_equal(stochastic, np.stack([b.act(obs, deterministic=False) for _ in range(20)]))
    np.testing.assert_array_equal(a.act(obs, deterministic=True), a.act(obs, deterministic=True))
    for lrn, batch in ((a, batches(1)[0]), (b, batches(1)[0])):
        lrn.update(batch)
    torch.testing.assert_close(params(a), params(b), rtol=0, atol=0)
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert np.array_equal(np.random.get_state()[1], np_state)


@pytest.mark.parametrize("name", ["tianshou.SAC", "tianshou.TD3"])
def test_init_comes_from_init_generator_and_twin_critics_differ(name: str) -> None:
    a, b, c = learner(name, init=1), learner(name, init=1, explore=9), learner(name, init=2)
    assert torch.equal(params(a), params(b)) and not torch.equal(params(a), params(c))
    critic_1 = torch.cat([p.flatten() for p in a.algorithm.critic.parameters()])
    critic_2 = torch.cat([p.flatten() for p in a.algorithm.critic2.parameters()])
    assert not torch.equal(critic_1, critic_2), "clipped double-Q needs independently initialised critics (G1)"


@pytest.mark.parametrize("name", TIANSHOU)
def test_discount_exponent_and_done_enter_the_target(name: str) -> None:
    """gamma**k with exponent k must equal gamma' = gamma**k with exponent 1; done=1 removes gamma entirely."""
    powered, direct = learner(name, gamma=0.9), learner(name, gamma=0.81)
    for lrn, exponent in ((powered, 2.0), (direct, 1.0)):
        for batch in batches(3, exponent=exponent, done=0.0):
            lrn.update(batch)
    torch.testing.assert_close(params(powered), params(direct))
    other = learner(name, gamma=0.5)
    for batch in batches(3, exponent=2.0, done=0.0):
        other.update(batch)
    assert not torch.allclose(params(powered), params(other))
    terminal = [learner(name, gamma=g) for g in (0.9, 0.5)]
    for lrn in terminal:
        for batch in batches(3, done=1.0):
            lrn.update(batch)
    torch.testing.assert_close(params(terminal[0]), params(terminal[1]))


@pytest.mark.parametrize("name", TIANSHOU)
def test_stats_use_the_lean_sac_names(name: str) -> None:
    lrn = learner(name, auto_alpha=True, force_negative=True)
    assert lrn.pop_stats() == {}
    for batch in batches(4):
        lrn.update(batch)
    stats = lrn.pop_stats()
    expected = {"loss_critic", "loss_actor", "q_mean", "n_updates"}
    if name in ("tianshou.SAC", "tianshou.REDQ"):
        expected |= {"alpha", "entropy", "loss_alpha"}
    assert set(stats) == expected and stats["n_updates"] == 4.0
    assert all(isinstance(v, float) and np.isfinite(v) for v in stats.values())
    assert stats["q_mean"] < 0 and float(lrn.q_values(torch.zeros(1, OBS), torch.zeros(1, ACT))[0]) < 0, "force_negative critic"
    q = lrn.q_values(torch.zeros(3, OBS), torch.zeros(3, ACT))
    assert q.shape == (3,) and not q.requires_grad
    assert lrn.pop_stats() == {}


@pytest.mark.parametrize("name", TIANSHOU)
def test_state_dict_round_trip_continues_identically(name: str) -> None:
    original = learner(name, auto_alpha=True)
    for batch in batches(5, seed=4):
        original.update(batch)
    restored = learner(name, init=77, explore=2, auto_alpha=True)
    restored.load_state_dict(original.state_dict())
    restored._explore.set_state(original._explore.get_state())  # the RNG registry restores generators
    torch.testing.assert_close(params(restored), params(original), rtol=0, atol=0)
    for lrn in (original, restored):
        for batch in batches(5, seed=5):
            lrn.update(batch)
    torch.testing.assert_close(params(restored), params(original), rtol=0, atol=0)
    assert original.pop_stats() == restored.pop_stats()
    with pytest.raises(ValueError, match="learner state is for"):
        learner("tianshou.DDPG" if name != "tianshou.DDPG" else "tianshou.TD3").load_state_dict(original.state_dict())


def test_state_dict_keeps_the_auto_alpha_optimiser() -> None:
    lrn = learner("tianshou.SAC", auto_alpha=True)
    for batch in batches(3):
        lrn.update(batch)
    saved = lrn.state_dict()["alpha_optim"]
    assert saved is not None and saved["state"], "AutoAlpha's Adam moments must be saved (tianshou drops them)"
