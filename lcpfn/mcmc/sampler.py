"""MCMC baseline: the exact posterior of a ``CurvePrior``'s model, by NumPyro NUTS.

The NumPyro model is generated from the same ``CurvePrior`` object the PFN's
sampler reads, and evaluates the same family formulas (``lcpfn.prior.curves`` with
``xp=jax.numpy``), so the two share one definition of the prior::

    w ~ weights.prior (F values; divided by their sum if weights.normalize)
    theta ~ the families' ParamDists;  log sigma ~ noise.log_sigma
    f(t) = sum_k w_k f_k(t; theta_k)
    prior truncated to S = {f finite and in [y_min, y_max] at t = 1..n_steps,
                            and f(n_steps) > f(1) if constraints.increasing}
    y_obs(t) ~ Normal(f(t), sigma)   at the observed steps

Each ParamDist ``shift + multiplier * X`` becomes a NumPyro distribution of the
value itself (X's distribution pushed through exp and an affine map), so the
posterior holds the same quantities as ``CurveBatch.params``; constants are no
sample sites. The truncation's normalizing constant P(S) does not depend on the
data, so the posterior is proportional to prior x 1_S x likelihood.

How the truncation is sampled. A hard ``-inf`` outside S stops every NUTS
trajectory that touches the boundary as a divergence, and the posterior is
often pressed against it (curves that approach ``y_max``, flat curves at the
``increasing`` edge), so divergences would no longer tell real integration
trouble apart. Instead the NUTS dynamics run on a surrogate
target that equals the posterior inside S and falls off smoothly outside it,
``log p(z) - v(z)**2 / (2 * WALL_WIDTH**2)``, where ``v`` is how far the clean
curve's two ends lie outside the bounds (or how much f(n_steps) falls below
f(1)), in units of y. Trajectories bend back at this soft wall instead of
stopping. After each NUTS transition, a proposal outside S, checked at every
step t = 1..n_steps, is rejected (the chain stays where it was). That is a
Metropolis-Hastings step with the NUTS kernel as proposal: NUTS is reversible
with respect to the surrogate, which equals the posterior on S, so the
acceptance ratio reduces to ``1_S(proposal)`` and the chain's stationary
distribution is the exact truncated posterior. Every retained draw lies in S
(checked in float32 as the prior's sampler does). The share of rejected
transitions is ``Diagnostics.boundary_rejection_rate``; divergences keep their
usual meaning. The surrogate looks at the two ends only, where most
violations show, since evaluating every step in each leapfrog step costs far
more; the exact check after each transition catches the rest.

Chains start at importance-resampled prior draws: ``N_INIT_DRAWS`` draws from
the untruncated prior, those in S weighted by their likelihood (Gumbel top-k,
without replacement), so chains start apart but in the posterior's bulk.

Convergence. The LC-PFN prior's posteriors are often multimodal: the three
families trade places (a curve explained by pow3, or by janoschek with pow3's
weight near 0), and the parameters of a family with a small weight follow its
prior. NUTS does not jump between such modes, so the R-hat over all
parameters flags chains that sit in different modes even where they predict
alike, and a dense mass matrix with target_accept_prob 0.9 (the defaults)
reduces divergences but does not merge modes. Four chains are the default so
that R-hat sees a mode one chain misses; the predictive weighs chains
equally, so on such curves a mode's share is the share of chains that found
it, not its posterior mass. ``fit_mcmc`` warns about them;
``Posterior.curve_diagnostics`` names them; ``lcpfn.mcmc.smc.fit_smc``
(tempered SMC from the prior) weighs the modes by their mass instead.

Many curves are fit at once: one NUTS chain is a pure JAX function, vectorized
(``jax.vmap``) over chains and curves and compiled once per batch shape. A
batch costs about the time of its slowest curve.

NaN policy: as in ``lcpfn.predict``, a NaN in ``y_obs`` marks an unobserved
step; every curve needs one observed value; outputs contain no NaN.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lcpfn.errors import InputError, SamplingError
from lcpfn.mcmc.arguments import check_seed, model_inputs, open_unit, positive_int
from lcpfn.mcmc.batching import run_in_chunks
from lcpfn.mcmc.model import (
    clean_curves,
    import_backend,
    latent_sites,
    make_model,
    parameter_values,
)
from lcpfn.mcmc.posterior import (
    Diagnostics,
    Posterior,
    PosteriorPredictive,
    convergence_warning,
)
from lcpfn.prior.mixture import accepts
from lcpfn.prior.spec import CurvePrior
from lcpfn.prior.spec import load as load_prior

__all__ = ["Diagnostics", "Posterior", "PosteriorPredictive", "fit_mcmc"]

N_INIT_DRAWS = 1024  # prior draws per curve that the chains' starting points come from
DEFAULT_N_STEPS = 100  # the shipped priors' grid, t = 1..100


# ---- the sampler: NUTS chains as pure JAX functions, vmapped over curves -------


@dataclass(frozen=True)
class _Settings:
    n_steps: int
    n_chains: int
    n_warmup: int
    n_samples: int
    target_accept_prob: float
    max_tree_depth: int
    dense_mass: bool


def _build_runner(prior: CurvePrior, s: _Settings) -> Callable[..., Any]:
    """A pure function: keys (B,), t (B, T), y (B, T), mask (B, T) -> draws, stats.

    Shapes:
        returns ({site: (B, C, S, ...)}, {stat: (B, C, S)})
    """
    import jax
    import jax.numpy as jnp
    from jax import lax, random
    from jax.scipy.stats import norm
    from numpyro.distributions import biject_to
    from numpyro.infer.hmc import hmc
    from numpyro.infer.util import potential_energy

    n = s.n_steps
    sites = latent_sites(prior)
    to_value = {name: biject_to(d.support) for name, d in sites.items()}
    grid = jnp.arange(1.0, n + 1.0)
    model = make_model(prior, n)

    def potential_gen(*args: Any) -> Callable[[dict[str, Any]], Any]:
        return lambda z: potential_energy(model, args, {}, z)

    init_kernel, sample_kernel = hmc(potential_fn_gen=potential_gen, algo="NUTS")

    def constrain(z: dict[str, Any]) -> dict[str, Any]:
        return {name: to_value[name](z[name]) for name in sites}

    def in_support(z: dict[str, Any]) -> Any:
        f = clean_curves(prior, parameter_values(prior, constrain(z), jnp), grid, jnp)
        return accepts(prior, f, xp=jnp)

    def starts(key: Any, t: Any, y: Any, mask: Any) -> dict[str, Any]:
        """Importance resampling of prior draws: (C,) unconstrained starts."""
        keys = random.split(key, len(sites) + 1)
        draws = {
            name: d.sample(k, (N_INIT_DRAWS,))
            for (name, d), k in zip(sites.items(), keys[1:], strict=True)
        }
        values = parameter_values(prior, draws, jnp)
        f = clean_curves(prior, values, jnp.concatenate([grid, t]), jnp)  # (N, n + T)
        sigma = jnp.exp(values["log_sigma"])[..., None]
        loglik = jnp.where(mask, norm.logpdf(y, f[:, n:], sigma), 0.0).sum(axis=1)
        ok = accepts(prior, f[:, :n], xp=jnp) & jnp.isfinite(loglik)
        gumbel = random.gumbel(keys[0], (N_INIT_DRAWS,))
        _, idx = lax.top_k(jnp.where(ok, loglik + gumbel, -jnp.inf), s.n_chains)
        return {name: to_value[name].inv(draws[name][idx]) for name in sites}

    def chain(key: Any, z0: dict[str, Any], args: tuple[Any, ...]) -> Any:
        state = init_kernel(
            z0,
            s.n_warmup,
            target_accept_prob=s.target_accept_prob,
            max_tree_depth=s.max_tree_depth,
            dense_mass=s.dense_mass,
            model_args=args,
            rng_key=key,
        )

        def transition(carry: Any, _: Any) -> Any:
            old, inside = carry
            new = sample_kernel(old, model_args=args)
            accept = in_support(new.z)

            def pick(a: Any, b: Any) -> Any:
                return jnp.where(accept, a, b)

            new = new._replace(
                z=jax.tree.map(pick, new.z, old.z),
                z_grad=jax.tree.map(pick, new.z_grad, old.z_grad),
                potential_energy=pick(new.potential_energy, old.potential_energy),
                energy=pick(new.energy, old.energy),
            )
            stats = {
                "diverging": new.diverging,
                "n_steps": new.num_steps,
                "acceptance_rate": new.accept_prob,
                "step_size": new.adapt_state.step_size,
                "boundary_rejected": ~accept,
                "lp": -new.potential_energy,
                "in_support": accept | inside,
            }
            return (new, accept | inside), (new.z, stats)

        # one scan over warm-up and sampling: each NUTS step is compiled once
        carry = (state, in_support(state.z))
        _, (z, stats) = lax.scan(transition, carry, length=s.n_warmup + s.n_samples)
        keep = slice(s.n_warmup, None)
        return constrain(jax.tree.map(lambda a: a[keep], z)), {
            k: v[keep] for k, v in stats.items()
        }

    def curve(key: Any, t: Any, y: Any, mask: Any) -> Any:
        key_start, key_chains = random.split(key)
        z0 = starts(key_start, t, y, mask)
        chain_keys = random.split(key_chains, s.n_chains)
        return jax.vmap(chain, in_axes=(0, 0, None))(chain_keys, z0, (t, y, mask))

    return jax.vmap(curve)


# ---- the public entry point -----------------------------------------------------


def fit_mcmc(
    t_obs: Any,
    y_obs: Any,
    prior: CurvePrior | str | Path,
    *,
    seed: int = 0,
    n_chains: int = 4,
    n_warmup: int = 500,
    n_samples: int = 500,
    n_steps: int = DEFAULT_N_STEPS,
    horizon: float | None = None,
    target_accept_prob: float = 0.9,
    max_tree_depth: int = 10,
    dense_mass: bool = True,
    batch_size: int = 16,
) -> Posterior:
    """Sample the posterior of ``prior``'s curve model given observed curves.

    See the module docstring for the model, how its truncation is sampled and
    how chains start.

    Args:
        t_obs: steps of ``y_obs``: (T,) for all curves or (B, T) each; None
            for 1..T. Increasing and positive within each curve; a step
            before the prior's first, ``horizon / n_steps``, counts as it.
        y_obs: one curve (T,), a batch (B, T) with NaN where not observed, or a
            list of 1-D arrays of any lengths (as in ``Extrapolator.predict``).
        prior: a ``CurvePrior`` or a name/path for ``lcpfn.priors.load``.
        seed: the same seed, settings and data give the same draws.
        n_chains: chains per curve (vectorized, not parallel processes).
        n_warmup: warm-up (adaptation) transitions per chain, discarded.
        n_samples: retained transitions per chain.
        n_steps: the prior's grid, t = 1..n_steps, on which the truncation is
            checked (100 for the shipped priors and models).
        horizon: the planned total length in the units of t (default
            ``n_steps``); t is mapped to ``t * n_steps / horizon``, as in
            ``lcpfn.predict``.
        target_accept_prob: NUTS step-size adaptation target.
        max_tree_depth: NUTS takes at most 2**max_tree_depth - 1 leapfrog steps.
        dense_mass: adapt a dense mass matrix instead of a diagonal one.
        batch_size: curves sampled together in one vectorized, compiled call;
            a batch costs about the time of its slowest curve.

    Returns:
        A ``Posterior``; ``.predict(t_query)`` gives the posterior predictive.

    Shapes:
        t_obs (T,) or (B, T); y_obs (T,) or (B, T)  ->  posterior draws
        (C, S) per scalar parameter, (C, S, B) for a batch (in ``.idata``).

    Raises:
        InputError (a ValueError) or TypeError naming the bad argument;
        ImportError without jax/numpyro/arviz (``pip install lcpfn[mcmc]``);
        SamplingError if a chain never reached the prior's support.
    """
    if isinstance(prior, str | Path):
        prior = load_prior(prior)
    if not isinstance(prior, CurvePrior):
        raise TypeError(f"prior must be a CurvePrior, a name or a path; got {prior!r}")
    settings = _Settings(
        n_steps=positive_int(n_steps, "n_steps", minimum=2),
        n_chains=positive_int(n_chains, "n_chains"),
        n_warmup=positive_int(n_warmup, "n_warmup"),
        n_samples=positive_int(n_samples, "n_samples"),
        target_accept_prob=open_unit(target_accept_prob, "target_accept_prob"),
        max_tree_depth=positive_int(max_tree_depth, "max_tree_depth"),
        dense_mass=dense_mass,
    )
    batch_size = positive_int(batch_size, "batch_size")
    if not isinstance(dense_mass, bool):
        raise InputError(f"dense_mass must be True or False; got {dense_mass!r}")
    seed = check_seed(seed)
    request, horizon, (t_model, y_model, mask) = model_inputs(
        y_obs, t_obs, horizon, settings.n_steps
    )
    jax, _, _ = import_backend()
    keys = jax.random.split(jax.random.key(seed), y_model.shape[0])
    draws, stats, seconds, compile_seconds = _sample_batches(
        prior, settings, batch_size, keys, t_model, y_model, mask
    )
    posterior = Posterior(
        prior=prior,
        draws=draws,
        stats=stats,
        request=request,
        n_steps=settings.n_steps,
        seconds=seconds,
        compile_seconds=compile_seconds,
        seed=seed,
    )
    message = convergence_warning(posterior.curve_diagnostics)
    if message:
        warnings.warn(message, stacklevel=2)
    return posterior


def _sample_batches(
    prior: CurvePrior,
    settings: _Settings,
    batch_size: int,
    keys: Any,
    t: np.ndarray,
    y: np.ndarray,
    mask: np.ndarray,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], float, float]:
    """NUTS over chunks of curves (``batching.run_in_chunks``), checked for
    chains that never reached the prior's support.

    Shapes:
        keys (B,), t, y, mask (B, T)  ->  draws {site: (B, C, S, ...)},
        stats {name: (B, C, S)}, sampling seconds per curve, compile seconds
    """
    draws, stats, seconds, compile_seconds = run_in_chunks(
        _build_runner, prior, settings, batch_size, keys, t, y, mask
    )
    if not stats["in_support"].all():
        curves = np.flatnonzero(~stats["in_support"].all(axis=(1, 2)))
        raise SamplingError(
            f"curve(s) {curves[:5].tolist()}: a chain never reached the prior's "
            f"support (curves inside [{prior.y_min}, {prior.y_max}]"
            f"{', increasing' if prior.increasing else ''}); raise n_warmup or "
            f"check that the data fit the prior"
        )
    return draws, stats, seconds, compile_seconds
