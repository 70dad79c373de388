"""Adaptive tempered SMC: a reference posterior that starts from every mode.

The target is the same truncated posterior as ``lcpfn.mcmc.sampler``'s (prior
x 1_S x likelihood, in the unconstrained space of the NumPyro model's sites).
NUTS chains started inside one mode stay there; tempered sequential Monte
Carlo instead starts from the prior, which covers every mode, and moves a
population of particles through the bridge ``prior x 1_S x likelihood^lambda``
from lambda = 0 to 1 (BlackJAX's adaptive tempered SMC kernel):

- each stage picks the next lambda so that the reweighted particles keep an
  effective sample size of ``target_ess`` times their number, resamples them
  (systematic) and moves each with ``n_mcmc_steps`` HMC transitions of
  ``n_leapfrog`` leapfrog steps; the inverse mass matrix is the population's
  weighted covariance (dense: the parameters trade off) and the step size is
  adapted from stage to stage towards an acceptance rate of 0.65. The
  posterior is a thin curved ridge (families and weights trade off), so the
  step size is set by its stiff directions and a move must be long to travel
  along it: one long transition per stage, not several short ones. Waste-free
  SMC (``waste_free``, BlackJAX's ``waste_free_smc``) instead resamples
  n_particles / P ancestors and keeps every state of a chain of P - 1
  transitions from each;
- ``symmetry_moves`` rounds of ``lcpfn.mcmc.symmetry_moves`` before each
  HMC transition: Metropolis moves along the directions the likelihood
  cannot see (how the families share the curve's scale and level), where
  the posterior is as wide as the prior and HMC's step size is set by the
  sharp directions, and redraws of single parameters from their prior;
- ``linear_moves`` rounds of ``lcpfn.mcmc.linear_moves`` after them: the
  families' amplitudes redrawn from their Gaussian conditional given the
  data, alone or with a new shape parameter, weight or noise level, so that
  the curve's shape can pass from one family to another in one step, and the
  noise level can move where the posterior narrows as it falls;
- HMC moves on the soft-walled surrogate of ``lcpfn.mcmc.model.make_model``
  and a proposal outside S (checked at every step t = 1..n_steps) is
  rejected, which leaves the exact truncated target invariant (the argument
  of ``lcpfn.mcmc.sampler``'s docstring), so every particle stays in S;
- the mass of each mode is carried by the importance weights, not by where a
  chain happened to start. A mode that no particle reaches is still missed:
  on sharp (low-noise) posteriors independent runs can end in different
  modes, which their R-hat and log-evidence spread show.

A curve whose diagnostics fail (``lcpfn.mcmc.posterior.converged``) is
sampled again, from fresh random numbers: first with the same particles
tempered more gently (target ESS ``REPEAT_TARGET_ESS``, if ``target_ess`` is
below it: about twice the stages), then with ``ESCALATION`` times the
particles at a time, as long as that stays within ``max_particles``: runs
that coarse stages leave in different modes mostly agree when tempered more
gently, and a mode that few particles reach is found by some of more. The
first run is discarded, not pooled; a repeat keeps ``n_draws`` draws per run
whatever its particles, so all curves keep the same shape. The per-run
statistics (log evidence, final ESS, ``n_particles``) are the last run's, and
``repeats`` counts the curve's repeated runs.

``n_runs`` independent populations per curve play the role of chains. After
lambda = 1 each run draws ``n_draws / chain_length`` ancestors by its final
weights (by default ``n_particles``: every particle's share) and runs a
chain of ``chain_length`` transitions (the same moves) from each; the draws
are these chains, one after another, so ArviZ's R-hat compares the runs
(mode masses included) and its bulk ESS sees the chains' autocorrelation.
Each run's log evidence and the effective sample size of its final weights
are SMC's own diagnostics. More draws cost little (a chain transition costs
what one stage costs a particle, and a run has tens of stages), and on a
low-noise curve they matter: the predictive density at a value is a mean of
spikes of width sigma, so its log has a Monte Carlo error
(``Diagnostics.predictive_mcse`` at typical points of the predictive,
``PosteriorPredictive.log_likelihood_mcse`` at given values).

The curves of a batch are tempered in one vectorized loop, so every run
takes as many stages as the slowest run of the batch; on a CPU the wide
operations still make a batch cheaper per curve than one curve at a time.

The measurements behind each default are in benchmarks/README.md ("The
reference sampler's settings").

Shapes: B curves, T observed steps, R runs, D draws per run, d unconstrained
dimensions.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from lcpfn.errors import InputError, SamplingError
from lcpfn.mcmc.arguments import check_seed, model_inputs, open_unit, positive_int
from lcpfn.mcmc.batching import run_in_chunks
from lcpfn.mcmc.linear_moves import build_linear_moves
from lcpfn.mcmc.metropolis import choose
from lcpfn.mcmc.model import (
    WALL_WIDTH,
    clean_curves,
    import_backend,
    parameter_values,
    unconstrained_space,
    violation,
)
from lcpfn.mcmc.posterior import Posterior, converged, convergence_warning
from lcpfn.mcmc.sampler import DEFAULT_N_STEPS
from lcpfn.mcmc.symmetry_moves import build_symmetry_moves
from lcpfn.prior.mixture import accepts
from lcpfn.prior.spec import CurvePrior
from lcpfn.prior.spec import load as load_prior

__all__ = ["ESCALATION", "REPEAT_TARGET_ESS", "fit_smc", "repeat_ladder"]

REPEAT_TARGET_ESS = 0.9  # a curve that did not converge is tempered this gently,
ESCALATION = 4  # then sampled with 4x the particles at a time

_PRIOR_OVERSAMPLING = 10  # prior draws per particle; the LC-PFN prior accepts ~20 %
_MAX_STAGES = 1000  # a safety cap; a curve that hits it is reported as unfinished
_TARGET_ACCEPT = 0.65  # HMC's step size is adapted towards this


@dataclass(frozen=True)
class _Settings:
    n_steps: int
    n_runs: int
    n_particles: int
    n_draws: int
    n_mcmc_steps: int
    n_leapfrog: int
    waste_free: int
    chain_length: int
    target_ess: float
    symmetry_rounds: int
    linear_rounds: int


def _build_runner(prior: CurvePrior, s: _Settings) -> Callable[..., Any]:
    """A pure function: keys (B,), t, y, mask (B, T) -> draws, stats.

    Shapes:
        returns ({site: (B, R, D, ...)}, {stat: (B, R)})
    """
    import jax
    import jax.numpy as jnp
    from blackjax.mcmc import hmc
    from blackjax.smc import adaptive_tempered, resampling
    from blackjax.smc.base import update_and_take_last
    from blackjax.smc.waste_free import waste_free_smc
    from jax import lax, random
    from jax.scipy.stats import norm

    space = unconstrained_space(prior)
    sites, values_of, dim = space.sites, space.values_of, space.dim
    grid = jnp.arange(1.0, s.n_steps + 1.0)
    ends = jnp.array([1.0, float(s.n_steps)])
    hmc_kernel = hmc.build_kernel()
    if s.waste_free:
        update_strategy = waste_free_smc(s.n_particles, s.waste_free)
        n_mcmc_steps = None  # waste-free chains have waste_free - 1 transitions
    else:
        update_strategy, n_mcmc_steps = update_and_take_last, s.n_mcmc_steps

    def in_support(x: Any) -> Any:
        f = clean_curves(prior, parameter_values(prior, values_of(x), jnp), grid, jnp)
        return accepts(prior, f, xp=jnp)

    symmetry_moves = build_symmetry_moves(prior, in_support, s.symmetry_rounds)

    def log_prior(x: Any) -> Any:
        """The prior's log density in unconstrained space, with the soft wall."""
        f = clean_curves(prior, parameter_values(prior, values_of(x), jnp), ends, jnp)
        wall = -0.5 * jnp.square(violation(prior, f, jnp) / WALL_WIDTH)
        return space.prior_density(x) + jnp.nan_to_num(wall, nan=-jnp.inf)

    def log_likelihood(x: Any, t: Any, y: Any, mask: Any) -> Any:
        values = parameter_values(prior, values_of(x), jnp)
        f = clean_curves(prior, values, t, jnp)
        ll = norm.logpdf(y, f, jnp.exp(values["log_sigma"]))
        return jnp.where(mask, jnp.nan_to_num(ll, nan=-jnp.inf), 0.0).sum()

    def make_move(linear_moves: Any) -> Callable[..., Any]:
        """The move of one curve, whose data ``linear_moves`` holds."""

        def move(key, state, logdensity_fn, step_size, inv_mass, tempering):
            """The symmetry and linear moves, then one HMC transition on the
            surrogate; a proposal outside S is rejected. ``logdensity_fn`` is
            log_prior + tempering x log-likelihood."""
            x = state.position
            if s.symmetry_rounds:
                key, k_sym = random.split(key)
                x, _ = symmetry_moves(k_sym, x, logdensity_fn)
            if s.linear_rounds:
                key, k_lin = random.split(key)
                x, _ = linear_moves(k_lin, x, tempering)
            if s.symmetry_rounds or s.linear_rounds:
                state = hmc.init(x, logdensity_fn)
            return hmc_step(key, state, logdensity_fn, step_size, inv_mass)

        return move

    def hmc_step(key, state, logdensity_fn, step_size, inv_mass):
        new, info = hmc_kernel(
            key, state, logdensity_fn, step_size, inv_mass, s.n_leapfrog
        )
        inside = in_support(new.position)
        new = choose(inside, new, state)
        return new, {"acceptance_rate": info.acceptance_rate * inside}

    def prior_particles(key: Any) -> Any:
        """N draws of the truncated prior, unconstrained: (N, d)."""
        n = s.n_particles * _PRIOR_OVERSAMPLING
        keys = random.split(key, len(sites) + 1)
        draws = {
            name: d.sample(k, (n,))
            for (name, d), k in zip(sites.items(), keys[1:], strict=True)
        }
        f = clean_curves(prior, parameter_values(prior, draws, jnp), grid, jnp)
        ok = accepts(prior, f, xp=jnp)
        priority = jnp.where(ok, random.uniform(keys[0], (n,)), -1.0)
        _, idx = lax.top_k(priority, s.n_particles)
        flat = jax.vmap(space.x_of)({name: v[idx] for name, v in draws.items()})
        return flat, ok[idx].all()

    def population_covariance(particles: Any, weights: Any) -> Any:
        """The weighted covariance of the particles: HMC's inverse mass matrix."""
        centred = particles - weights @ particles
        cov = (weights[:, None] * centred).T @ centred  # (d, d)
        return cov + 1e-8 * jnp.eye(dim)

    def run(key: Any, t: Any, y: Any, mask: Any) -> Any:
        def loglik(x: Any) -> Any:
            return log_likelihood(x, t, y, mask)

        linear_moves = build_linear_moves(
            prior, in_support, log_prior, loglik, (t, y, mask), s.linear_rounds
        )
        move = make_move(linear_moves)

        smc_step = adaptive_tempered.build_kernel(
            log_prior,
            loglik,
            move,
            hmc.init,
            resampling.systematic,
            s.target_ess,
            update_strategy=update_strategy,
        )
        key_init, key_loop, key_final = random.split(key, 3)
        particles, inside = prior_particles(key_init)

        def not_done(carry: Any) -> Any:
            state, *_, stage = carry
            return (state.tempering_param < 1.0) & (stage < _MAX_STAGES)

        def stage_step(carry: Any) -> Any:
            state, key, log_z, step_size, accept, stage = carry
            key, k = random.split(key)
            # the moves keep the particles' current target (BlackJAX resamples,
            # moves, then reweights to the next tempering parameter)
            params = {
                "step_size": step_size[None],
                "inv_mass": population_covariance(state.particles, state.weights)[None],
                "tempering": jnp.reshape(state.tempering_param, (1,)),
            }
            state, info = smc_step(k, state, n_mcmc_steps, params)
            rate = jnp.mean(info.update_info["acceptance_rate"])
            step_size = step_size * jnp.exp(2.0 * (rate - _TARGET_ACCEPT))
            log_z = log_z + info.log_likelihood_increment
            return state, key, log_z, step_size, accept + rate, stage + 1

        carry = (adaptive_tempered.init(particles), key_loop, 0.0, 0.5, 0.0, 0)
        state, _, log_z, step_size, accept, stages = lax.while_loop(
            not_done, stage_step, carry
        )
        final_ess = 1.0 / jnp.sum(state.weights**2)
        # the draws: chain_length-step chains at the posterior from ancestors
        # drawn by the final weights, chain after chain (so that ESS sees their
        # autocorrelation)
        n_chains = s.n_draws // s.chain_length
        k_resample, k_moves = random.split(key_final)
        x0 = state.particles[resampling.systematic(k_resample, state.weights, n_chains)]
        inv_mass = population_covariance(state.particles, state.weights)

        def target(x: Any) -> Any:
            return log_prior(x) + loglik(x)

        def chain(x: Any, key: Any) -> Any:
            def transition(h: Any, k: Any) -> Any:
                h, info = move(k, h, target, step_size, inv_mass, 1.0)
                return h, (h.position, info["acceptance_rate"])

            keys = random.split(key, s.chain_length)
            _, (xs, rates) = lax.scan(transition, hmc.init(x, target), keys)
            return xs, rates.mean()

        xs, final_accept = jax.vmap(chain)(x0, random.split(k_moves, n_chains))
        draws = jax.vmap(values_of)(xs.reshape(n_chains * s.chain_length, dim))
        stats = {
            "log_evidence": log_z,
            "final_ess": final_ess,
            "n_stages": stages,
            "finished": state.tempering_param >= 1.0,
            "in_support": inside,
            "acceptance_rate": accept / jnp.maximum(stages, 1),
            "final_acceptance": final_accept.mean(),
        }
        return draws, stats

    def curve(key: Any, t: Any, y: Any, mask: Any) -> Any:
        keys = random.split(key, s.n_runs)
        return jax.vmap(run, in_axes=(0, None, None, None))(keys, t, y, mask)

    return jax.vmap(curve)


def _waste_free(p: Any, n_particles: Any, n_mcmc_steps: Any) -> int:
    """The checked waste-free chain length: 0 (off) or a divisor >= 2 of n_particles."""
    p = positive_int(p, "waste_free", minimum=0)
    if p == 0:
        return 0
    if p < 2 or n_particles % p:
        raise InputError(
            f"waste_free must be 0 or a divisor >= 2 of n_particles; got "
            f"waste_free={p}, n_particles={n_particles}"
        )
    if n_mcmc_steps != 1:
        raise InputError(
            f"n_mcmc_steps must be 1 with waste_free (its chains set the moves); "
            f"got n_mcmc_steps={n_mcmc_steps}"
        )
    return p


def repeat_ladder(
    n_particles: int, target_ess: float, max_particles: Any
) -> list[tuple[int, float]]:
    """(particles, target ESS) of each run a curve that does not converge gets,
    in order: the same particles tempered at ``REPEAT_TARGET_ESS`` (if
    ``target_ess`` is below it), then n_particles x ESCALATION^k particles at
    that target ESS, up to ``max_particles`` (None: ESCALATION^3 x
    n_particles; else an int >= n_particles; n_particles itself: no repeats)."""
    if max_particles is None:
        max_particles = n_particles * ESCALATION**3
    top = positive_int(max_particles, "max_particles")
    if top < n_particles:
        raise InputError(
            f"max_particles must be at least n_particles; got max_particles="
            f"{max_particles}, n_particles={n_particles}"
        )
    if top == n_particles:
        return []
    gentle = max(target_ess, REPEAT_TARGET_ESS)
    ladder = [(n_particles, gentle)] if gentle > target_ess else []
    count = n_particles * ESCALATION
    while count <= top:
        ladder.append((count, gentle))
        count *= ESCALATION
    return ladder


def _repeats(settings: _Settings, max_particles: Any) -> list[_Settings]:
    """The settings of the repeated runs, in ``repeat_ladder``'s order."""
    return [
        replace(settings, n_particles=n, target_ess=ess)
        for n, ess in repeat_ladder(
            settings.n_particles, settings.target_ess, max_particles
        )
    ]


def _sample(
    prior: CurvePrior,
    settings: _Settings,
    batch_size: int,
    keys: Any,
    data: tuple[np.ndarray, np.ndarray, np.ndarray],
    ids: np.ndarray,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], float, float]:
    """SMC on every curve, checked: every run started inside S and finished
    (an error names the curves by ``ids``).

    Shapes:
        keys, ids (B,), data = (t, y, mask) (B, T) each  ->
        draws {site: (B, R, D, ...)},
        stats {name: (B, R)} (with ``n_particles``, and ``repeats`` = 0),
        seconds per curve, compile seconds
    """
    draws, stats, seconds, compile_seconds = run_in_chunks(
        _build_runner, prior, settings, batch_size, keys, *data
    )
    if not stats["in_support"].all():
        bad = ids[~stats["in_support"].all(axis=1)]
        raise SamplingError(
            f"curve(s) {bad[:5].tolist()}: too few of "
            f"{settings.n_particles * _PRIOR_OVERSAMPLING} prior draws fell in the "
            f"prior's support to start {settings.n_particles} particles"
        )
    if not stats["finished"].all():
        bad = ids[~stats["finished"].all(axis=1)]
        raise SamplingError(
            f"curve(s) {bad[:5].tolist()}: tempering did not reach the posterior in "
            f"{_MAX_STAGES} stages; lower target_ess"
        )
    stats = {k: v for k, v in stats.items() if k not in ("in_support", "finished")}
    stats["n_particles"] = np.full((len(ids), settings.n_runs), settings.n_particles)
    stats["repeats"] = np.zeros((len(ids), settings.n_runs), dtype=int)
    return draws, stats, seconds, compile_seconds


def _sample_again(
    prior: CurvePrior,
    settings: _Settings,
    level: int,
    keys: Any,
    data: tuple[np.ndarray, np.ndarray, np.ndarray],
    rows: np.ndarray,
    draws: dict[str, np.ndarray],
    stats: dict[str, np.ndarray],
) -> tuple[float, float]:
    """SMC with ``settings`` (more particles) on the curves ``rows``, from keys
    folded with ``level``, its draws (as many per run) into ``draws`` and its per-run
    statistics into ``stats`` (both updated in place); one curve at a time, so
    that one compilation serves any number of them without padding.

    Shapes: keys (B,), data (B, T) each, rows (K,); draws {site: (B, R, D, ...)}
    Returns: the seconds all K curves took, compile seconds
    """
    import jax

    again = jax.vmap(jax.random.fold_in, in_axes=(0, None))(keys[rows], level)
    new_draws, new_stats, seconds, compile_seconds = _sample(
        prior, settings, 1, again, tuple(a[rows] for a in data), rows
    )
    for name, value in new_draws.items():
        draws[name][rows] = value
    for name, value in new_stats.items():
        stats[name][rows] = value
    stats["repeats"][rows] = level
    return seconds * len(rows), compile_seconds


def fit_smc(
    t_obs: Any,
    y_obs: Any,
    prior: CurvePrior | str | Path,
    *,
    seed: int = 0,
    n_runs: int = 4,
    n_particles: int = 1000,
    n_draws: int | None = None,
    max_particles: int | None = None,
    n_mcmc_steps: int = 1,
    n_leapfrog: int = 50,
    waste_free: int = 0,
    chain_length: int = 4,
    target_ess: float = 0.7,
    symmetry_moves: int = 4,
    linear_moves: int = 2,
    n_steps: int = DEFAULT_N_STEPS,
    horizon: float | None = None,
    batch_size: int = 16,
) -> Posterior:
    """Sample the posterior of ``prior``'s curve model by adaptive tempered SMC.

    The arguments ``t_obs``, ``y_obs``, ``prior``, ``seed``, ``n_steps``,
    ``horizon`` and ``batch_size`` are ``fit_mcmc``'s; see the module docstring
    for the algorithm.

    Args:
        n_runs: independent particle populations per curve (the "chains" of
            the result: R-hat compares them).
        n_particles: particles per run.
        max_particles: a curve whose diagnostics fail is sampled again, at
            a target ESS of at least ``REPEAT_TARGET_ESS`` (0.9): with the
            same particles (if ``target_ess`` was lower), then with
            ``ESCALATION`` (4) times the particles at a time while that is
            at most ``max_particles``; each keeps ``n_draws`` draws per
            run. None (the default) is 64 x ``n_particles``: up to four
            repeats, with 1,000, 4,000, 16,000 and 64,000 particles by
            default; ``max_particles=n_particles`` turns the repeats off.
            ``n_particles=250, max_particles=1000`` is a budget cheaper per
            curve than NUTS 4 x (1000 + 1000) and closer to the default's
            predictive.
        n_mcmc_steps: HMC transitions per particle and stage.
        n_leapfrog: leapfrog steps per HMC transition.
        waste_free: 0 moves every particle by ``n_mcmc_steps`` transitions
            and keeps the last state; P >= 2 is waste-free SMC (Dau & Chopin
            2022): each stage resamples ``n_particles / P`` ancestors, runs a
            chain of P - 1 transitions from each and keeps all P states
            (about n_particles transitions per stage; ``n_mcmc_steps`` must
            then be 1).
        n_draws: draws kept per run at the posterior: ``n_draws /
            chain_length`` chains of ``chain_length`` transitions from
            ancestors drawn by the final weights; a multiple of
            ``chain_length``. None (the default) is ``n_particles x
            chain_length``, 4,000: past it the predictive's Monte Carlo
            error falls slowly.
        chain_length: transitions of each final chain at the posterior.
        target_ess: share of the particles that each stage's reweighting keeps
            as effective sample size; higher means more, gentler stages
            (0.9 takes about twice the stages of 0.7, the default).
        symmetry_moves: rounds of ``lcpfn.mcmc.symmetry_moves`` before each
            HMC transition (0: none): moves along what the data cannot tell
            apart (how the families share the curve's scale and level) and
            redraws of single parameters from their prior: they reach mass
            that the HMC moves alone do not.
        linear_moves: rounds of ``lcpfn.mcmc.linear_moves`` before each HMC
            transition (0: none): the amplitudes redrawn from their Gaussian
            conditional given the data, alone or after a new shape parameter,
            weight or noise level, which jumps between the ways the families
            can share the curve's shape.

    Returns:
        A ``Posterior`` (method "smc") whose diagnostics hold R-hat and ESS
        across runs and, per curve, the runs' log evidence spread and final
        effective sample size; its ``seconds`` include the repeated runs.

    Raises:
        InputError (a ValueError) or TypeError naming the bad argument;
        ImportError without jax/numpyro/arviz/blackjax; SamplingError if the
        prior's support was not found from the prior draws.

    Shapes:
        as ``fit_mcmc``, with chains = runs and ``n_draws`` draws each.
    """
    if isinstance(prior, str | Path):
        prior = load_prior(prior)
    if not isinstance(prior, CurvePrior):
        raise TypeError(f"prior must be a CurvePrior, a name or a path; got {prior!r}")
    n_particles = positive_int(n_particles, "n_particles", minimum=2)
    chain_length = positive_int(chain_length, "chain_length", minimum=2)
    settings = _Settings(
        n_steps=positive_int(n_steps, "n_steps", minimum=2),
        n_runs=positive_int(n_runs, "n_runs"),
        n_particles=n_particles,
        n_draws=(
            n_particles * chain_length
            if n_draws is None
            else positive_int(n_draws, "n_draws")
        ),
        n_mcmc_steps=positive_int(n_mcmc_steps, "n_mcmc_steps"),
        n_leapfrog=positive_int(n_leapfrog, "n_leapfrog"),
        waste_free=_waste_free(waste_free, n_particles, n_mcmc_steps),
        chain_length=chain_length,
        target_ess=open_unit(target_ess, "target_ess"),
        symmetry_rounds=positive_int(symmetry_moves, "symmetry_moves", minimum=0),
        linear_rounds=positive_int(linear_moves, "linear_moves", minimum=0),
    )
    if settings.n_draws % settings.chain_length:
        raise InputError(
            f"n_draws must be a multiple of chain_length; got n_draws="
            f"{settings.n_draws}, chain_length={chain_length}"
        )
    repeats = _repeats(settings, max_particles)
    batch_size = positive_int(batch_size, "batch_size")
    seed = check_seed(seed)
    try:
        import blackjax  # noqa: F401
    except ImportError as err:
        raise ImportError(
            "fit_smc needs blackjax; install it with: pip install lcpfn[mcmc]"
        ) from err
    request, horizon, (t, y, mask) = model_inputs(
        y_obs, t_obs, horizon, settings.n_steps
    )
    jax, _, _ = import_backend()
    B = y.shape[0]
    keys = jax.random.split(jax.random.key(seed), B)
    draws, stats, seconds, compile_seconds = _sample(
        prior, settings, batch_size, keys, (t, y, mask), np.arange(B)
    )
    # draws and stats are updated in place by the repeats; Posterior copies them
    posterior_of = partial(
        Posterior,
        prior=prior,
        request=request,
        n_steps=settings.n_steps,
        seed=seed,
        method="smc",
        draws=draws,
        stats=stats,
    )
    posterior = posterior_of(seconds=seconds, compile_seconds=compile_seconds)
    for level, repeat in enumerate(repeats, start=1):
        rows = np.flatnonzero([not converged(d) for d in posterior.curve_diagnostics])
        if not rows.size:
            break
        more_seconds, more_compile = _sample_again(
            prior, repeat, level, keys, (t, y, mask), rows, draws, stats
        )
        seconds += more_seconds / B
        compile_seconds += more_compile
        posterior = posterior_of(seconds=seconds, compile_seconds=compile_seconds)
    message = convergence_warning(posterior.curve_diagnostics)
    if message:
        warnings.warn(message, stacklevel=2)
    return posterior
