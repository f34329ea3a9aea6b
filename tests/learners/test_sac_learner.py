"""SACLearner behaviour: acting, update semantics on hand-made cases, determinism, state round trips."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from graph_rl.config import ConfigError
from graph_rl.learners import SACConfig, SACLearner
from graph_rl.replay import ReplayBatch, ReplayBuffer
from torch_threads import one_torch_thread  # noqa: E402,F401  (autouse: one torch thread)


def make_learner(obs_dim: int = 4, act_dim: int = 2, init_seed: int = 0, explore_seed: int = 1, **kwargs) -> SACLearner:
    return SACLearner(
        obs_dim,
        act_dim,
        SACConfig(**kwargs),
        init_generator=torch.Generator().manual_seed(init_seed),
        explore_generator=torch.Generator().manual_seed(explore_seed),
    )


def make_batches(obs_dim: int, act_dim: int, count: int, size: int = 32, seed: int = 0) -> list[ReplayBatch]:
    g = torch.Generator().manual_seed(seed)
    return [
        ReplayBatch(
            obs=torch.randn(size, obs_dim, generator=g),
            act=torch.rand(size, act_dim, generator=g) * 2 - 1,
            rew=-torch.rand(size, generator=g),
            next_obs=torch.randn(size, obs_dim, generator=g),
            done=(torch.rand(size, generator=g) < 0.2).float(),
            discount_exponent=torch.randint(1, 4, (size,), generator=g).float(),
        )
        for _ in range(count)
    ]


def assert_same_state(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        if isinstance(a[key], torch.Tensor):
            assert torch.equal(a[key], b[key]), key
        else:
            assert a[key] == b[key], key


def test_act_shapes_bounds_and_fresh_arrays() -> None:
    learner = make_learner(4, 3)
    obs = np.linspace(-1, 1, 4, dtype=np.float32)
    for deterministic in (True, False):
        first = learner.act(obs, deterministic)
        assert first.shape == (3,) and first.dtype == np.float32
        assert np.all(np.abs(first) <= 1.0)
        kept = first.copy()
        learner.act(obs + 1, deterministic)
        np.testing.assert_array_equal(first, kept)


def test_deterministic_act_is_tanh_of_clamped_mu() -> None:
    learner = make_learner(3, 2, hidden_layers=[5])
    w1, b1, w_head, b_head = (p[0] for p in learner._stack.actor)
    obs = np.array([0.3, -1.2, 2.0], dtype=np.float32)
    hidden = torch.relu(torch.from_numpy(obs) @ w1 + b1[0])
    mu = (w_head @ hidden + b_head[:, 0])[:2].clamp(-3, 3)
    np.testing.assert_allclose(learner.act(obs, True), torch.tanh(mu).numpy(), rtol=1e-6)


def test_q_values_are_one_per_pair_without_grad() -> None:
    learner = make_learner(4, 2)
    obs, act = torch.randn(5, 4), torch.rand(5, 2) * 2 - 1
    q = learner.q_values(obs, act)
    assert q.shape == (5,) and not q.requires_grad


def test_force_negative_critic_is_negative() -> None:
    learner = make_learner(4, 2, force_negative=True)
    batches = make_batches(4, 2, 20)
    for batch in batches:  # positive rewards push Q up; the head must still keep it below zero
        learner.update(batch._replace(rew=torch.ones_like(batch.rew)))
    q = learner.q_values(torch.randn(256, 4) * 3, torch.rand(256, 2) * 2 - 1)
    assert torch.all(q < 0)


def test_polyak_target_update_is_exact_lerp() -> None:
    learner = make_learner(tau=0.25)
    target_before = learner._stack.target.clone()
    learner.update(make_batches(4, 2, 1)[0])
    expected = torch.lerp(target_before, learner._stack.critic_params, 0.25)
    assert torch.equal(learner._stack.target, expected)
    assert not torch.equal(learner._stack.target, target_before)


@pytest.mark.parametrize("target_entropy, direction", [(10.0, 1.0), (-100.0, -1.0)])
def test_auto_alpha_moves_towards_target_entropy(target_entropy: float, direction: float) -> None:
    learner = make_learner(auto_alpha=True, alpha=0.5, alpha_learning_rate=0.01, target_entropy=target_entropy)
    learner.update(make_batches(4, 2, 1)[0])
    stats = learner.pop_stats()
    assert stats["alpha"] == pytest.approx(0.5, rel=1e-6)  # the alpha used in this update
    # First Adam step: log_alpha moves by lr * g / (|g| + eps), i.e. by the learning rate, against g.
    log_alpha = float(learner.state_dict()["log_alpha"])
    assert log_alpha == pytest.approx(math.log(0.5) + direction * 0.01, abs=1e-6)
    assert stats["loss_alpha"] == pytest.approx(-math.log(0.5) * (-stats["entropy"] + target_entropy), rel=1e-5)


def test_fixed_alpha_never_changes() -> None:
    learner = make_learner(alpha=0.3)
    for batch in make_batches(4, 2, 5):
        learner.update(batch)
    assert float(learner.state_dict()["log_alpha"]) == pytest.approx(math.log(0.3))
    assert "loss_alpha" not in learner.pop_stats()


def constant_critics(learner: SACLearner, q: float, q_target: float) -> SACLearner:
    """Zero every critic weight: Q = ``q`` and Q' = ``q_target`` everywhere (head biases)."""
    stack = learner._stack
    with torch.no_grad():
        for params, head_bias in ((stack.critic, q), (stack.target_critic, q_target)):
            for p in params:
                p.zero_()
            params[-1].fill_(head_bias)
    return learner


@pytest.mark.parametrize("exponent", [1.0, 3.0])
def test_target_uses_per_transition_discount_exponent(exponent: float) -> None:
    """Constant critics (weights zero): Q = q0, Q' = c, alpha ~ 0, so loss_critic = 2 (q0 - y)^2 exactly."""
    q0, c = 0.25, -2.0
    learner = constant_critics(make_learner(gamma=0.5, alpha=1e-30), q0, c)
    batch = make_batches(4, 2, 1, size=16)[0]
    batch = batch._replace(
        rew=torch.full((16,), 0.5), done=torch.zeros(16), discount_exponent=torch.full((16,), exponent)
    )
    learner.update(batch)
    y = 0.5 + 0.5**exponent * c
    assert learner.pop_stats()["loss_critic"] == pytest.approx(2 * (q0 - y) ** 2, rel=1e-6)


def test_done_stops_bootstrapping() -> None:
    learner = constant_critics(make_learner(alpha=1e-30), 0.0, 7.0)
    batch = make_batches(4, 2, 1, size=8)[0]
    learner.update(batch._replace(rew=torch.full((8,), -1.0), done=torch.ones(8)))
    assert learner.pop_stats()["loss_critic"] == pytest.approx(2.0, rel=1e-6)


def test_same_generators_same_result_and_explore_seed_matters() -> None:
    batches = make_batches(4, 2, 10)
    runs = []
    for explore_seed in (1, 1, 2):
        learner = make_learner(explore_seed=explore_seed, auto_alpha=True)
        for batch in batches:
            learner.update(batch)
        runs.append(learner.state_dict())
    assert_same_state(runs[0], runs[1])
    assert not torch.equal(runs[0]["actor"], runs[2]["actor"])
    assert not torch.equal(make_learner(init_seed=5).state_dict()["critic"], make_learner().state_dict()["critic"])


def test_initialisation_uses_only_init_generator() -> None:
    torch.manual_seed(1)
    first = make_learner(init_seed=3).state_dict()
    torch.manual_seed(2)
    torch.rand(5)
    second = make_learner(init_seed=3).state_dict()
    assert_same_state(first, second)
    assert torch.equal(first["critic"], first["target_critic"])


def test_explore_generator_must_be_on_the_learner_device() -> None:
    with pytest.raises(ValueError, match="explore_generator"):
        SACLearner(
            3,
            1,
            SACConfig(),
            init_generator=torch.Generator(),
            explore_generator=torch.Generator(),
            device="cuda",
        )


def test_no_global_rng_use() -> None:
    batches = make_batches(4, 2, 6)
    obs = np.ones(4, dtype=np.float32)
    results = []
    for disturb in (False, True):
        learner = make_learner()
        actions = []
        for i, batch in enumerate(batches):
            if disturb:
                torch.manual_seed(1000 + i)
                np.random.seed(2000 + i)
                torch.rand(3)
            learner.update(batch)
            actions.append(learner.act(obs, False))
        results.append((learner.state_dict(), np.stack(actions)))
    assert_same_state(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])


def test_state_dict_round_trip_continues_identically() -> None:
    batches = make_batches(4, 2, 12)
    reference = make_learner(auto_alpha=True, force_negative=True)
    for batch in batches[:6]:
        reference.update(batch)
    saved, explore_state = reference.state_dict(), reference._explore.get_state()
    for batch in batches[6:]:
        reference.update(batch)

    explore = torch.Generator().manual_seed(99)
    resumed = SACLearner(
        4, 2, reference.config, init_generator=torch.Generator().manual_seed(42), explore_generator=explore
    )
    resumed.load_state_dict(saved)
    explore.set_state(explore_state)
    for batch in batches[6:]:
        resumed.update(batch)
    assert_same_state(reference.state_dict(), resumed.state_dict())
    assert reference.pop_stats() == resumed.pop_stats()


def test_load_state_dict_rejects_other_shapes() -> None:
    with pytest.raises(ValueError, match="obs, act, hidden"):
        make_learner(4, 2).load_state_dict(make_learner(5, 2).state_dict())


def test_pop_stats_means_and_reset() -> None:
    learner = make_learner(auto_alpha=True)
    assert learner.pop_stats() == {}
    for batch in make_batches(4, 2, 3):
        learner.update(batch)
    stats = learner.pop_stats()
    assert set(stats) == {"loss_critic", "loss_actor", "alpha", "entropy", "q_mean", "loss_alpha", "n_updates"}
    assert stats["n_updates"] == 3.0
    assert all(math.isfinite(v) for v in stats.values())
    assert learner.pop_stats() == {}


def test_config_validation() -> None:
    with pytest.raises(ConfigError, match=r"^hidden_layers: "):
        SACConfig(hidden_layers=[]).validate()
    with pytest.raises(ConfigError, match=r"^model_kwargs\.gamma: must be in \(0, 1\]"):
        SACConfig(gamma=1.5).validate("model_kwargs")
    with pytest.raises(ConfigError, match=r"^config\.alpha: "):  # a learner refuses a bad config it is given
        SACLearner(2, 1, SACConfig(alpha=0.0), init_generator=torch.Generator(), explore_generator=torch.Generator())


def test_json_config_errors_name_the_level_and_field() -> None:
    from graph_rl.config import from_dict
    from graph_rl.config.graph_params import LevelParams

    with pytest.raises(ConfigError, match=r"^level\.model_kwargs\.tau: must be in \(0, 1\], got 0\.0$"):
        from_dict(LevelParams, {"model_kwargs": {"tau": 0.0}}, "level")
    with pytest.raises(ConfigError, match=r"^level\.algo_kwargs\.flat_algo_kwargs: moved: .* model_kwargs"):
        from_dict(LevelParams, {"algo_kwargs": {"flat_algo_kwargs": {"alpha": 0.1}}}, "level")


def test_learns_contextual_bandit() -> None:
    """One-step task (done = 1): reward -(a - x/2)^2, so the deterministic action must approach x/2."""
    rng = np.random.default_rng(0)
    n = 4000
    x = rng.uniform(-1, 1, (n, 1)).astype(np.float32)
    a = rng.uniform(-1, 1, (n, 1)).astype(np.float32)
    buffer = ReplayBuffer(n, 1, 1, np.random.default_rng(1))
    buffer.add_batch(x, a, -((a[:, 0] - 0.5 * x[:, 0]) ** 2), x, np.ones(n))
    learner = make_learner(1, 1, learning_rate=3e-3, alpha=0.01)
    for _ in range(600):
        learner.update(buffer.sample(128))
    probes = np.linspace(-0.9, 0.9, 7, dtype=np.float32)
    actions = np.array([learner.act(np.array([p]), True)[0] for p in probes])
    np.testing.assert_allclose(actions, 0.5 * probes, atol=0.08)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_learner_matches_api() -> None:
    learner = SACLearner(
        4,
        2,
        SACConfig(auto_alpha=True),
        init_generator=torch.Generator().manual_seed(0),
        explore_generator=torch.Generator(device="cuda").manual_seed(1),
        device="cuda",
    )
    for batch in make_batches(4, 2, 3):
        learner.update(ReplayBatch(*(t.cuda() for t in batch)))
    assert learner.act(np.zeros(4, dtype=np.float32), False).shape == (2,)
    assert learner.q_values(torch.zeros(3, 4, device="cuda"), torch.zeros(3, 2, device="cuda")).device.type == "cuda"
    assert learner.pop_stats()["n_updates"] == 3.0


def test_sample_with_log_prob_matches_torch_distributions_and_leaves_exploration_alone() -> None:
    learner = make_learner(4, 3, alpha=0.7)
    obs = torch.randn(6, 4, generator=torch.Generator().manual_seed(3)) * 3
    explore_before = learner._explore.get_state()
    actions, logp = learner.sample_with_log_prob(obs, 5, torch.Generator().manual_seed(9))
    assert actions.shape == (6, 5, 3) and logp.shape == (6, 5) and not logp.requires_grad
    assert torch.equal(learner._explore.get_state(), explore_before)
    again, logp_again = learner.sample_with_log_prob(obs, 5, torch.Generator().manual_seed(9))
    assert torch.equal(again, actions) and torch.equal(logp_again, logp)
    # Reference: the same noise through torch.distributions, from the actor's clamped head.
    w1, b1, w2, b2, w_head, b_head = (p[0] for p in learner._stack.actor)
    head = torch.relu(torch.relu(obs @ w1 + b1) @ w2 + b2) @ w_head.t() + b_head.view(1, -1)
    mu, log_sigma = head[:, :3].clamp(-3, 3).unsqueeze(1), head[:, 3:].clamp(math.log(1e-3), math.log(6)).unsqueeze(1)
    eps = torch.randn(6, 5, 3, generator=torch.Generator().manual_seed(9))
    u = mu + log_sigma.exp() * eps
    expected = (torch.distributions.Normal(mu, log_sigma.exp()).log_prob(u) - torch.log(1 - torch.tanh(u) ** 2)).sum(-1)
    torch.testing.assert_close(actions, torch.tanh(u))
    torch.testing.assert_close(logp, expected, rtol=1e-4, atol=1e-4)
    assert learner.alpha == pytest.approx(0.7)
