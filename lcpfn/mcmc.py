"""MCMC baseline: the exact posterior of a ``CurvePrior``'s model, by NumPyro NUTS.

The NumPyro model is generated from the same ``CurvePrior`` object the PFN's
sampler reads, and evaluates the same family formulas (``lcpfn.curves`` with
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

How the truncation is sampled. A hard ``-inf`` outside S would stop every NUTS
trajectory that touches the boundary as a divergence: the posterior is often
pressed against it (curves that approach ``y_max``, flat curves at the
``increasing`` edge), so divergences would be common and would no longer tell
real integration trouble apart. Instead the NUTS dynamics run on a surrogate
target, equal to the posterior inside S and falling off smoothly outside it,
``log p(z) - v(z)**2 / (2 * WALL_WIDTH**2)`` with ``v`` the distance of the
clean curve outside S (in units of y). Trajectories bend back at this soft
wall instead of diverging. After each NUTS transition, a proposal outside S is
rejected (the chain stays where it was). That is a Metropolis-Hastings step
with the NUTS kernel as proposal: NUTS is reversible with respect to the
surrogate, which equals the posterior on S, so the acceptance ratio reduces to
``1_S(proposal)`` and the chain's stationary distribution is the exact
truncated posterior. Every retained draw lies in S (the rejection uses the
same float32 curves and the same checks as the prior's sampler). The share of
rejected transitions is reported as ``Diagnostics.boundary_rejection_rate``;
divergences keep their usual meaning.

Chains start at importance-resampled prior draws: ``N_INIT_DRAWS`` draws from
the untruncated prior, those in S weighted by their likelihood (Gumbel top-k,
without replacement), so chains start apart but in the posterior's bulk.

Many curves are fit at once: one NUTS chain is a pure JAX function, vectorized
(``jax.vmap``) over chains and curves and compiled once per batch shape, which
on a CPU runs a batch of curves in not much more time than one.

NaN policy: as in ``lcpfn.predict``, a NaN in ``y_obs`` marks an unobserved
step; every curve needs one observed value; outputs contain no NaN.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import special

from lcpfn import curve_inputs
from lcpfn.curves import FAMILIES
from lcpfn.errors import InputError, SamplingError
from lcpfn.priors import CurvePrior, ParamDist
from lcpfn.priors import load as load_prior

__all__ = ["Diagnostics", "Posterior", "PosteriorPredictive", "fit_mcmc"]

WALL_WIDTH = 1e-3  # y units: a curve 0.01 outside S costs 50 nats in the surrogate
N_INIT_DRAWS = 1024  # prior draws per curve that the chains' starting points come from
R_HAT_LIMIT = 1.01
_QUANTILE_TOL = 1e-9  # bisection stops when brackets are this narrow (y units)
_ROWS_PER_PASS = 2**22  # predictive: (curves x draws x queries) per vectorized pass


def _import_backend() -> tuple[Any, Any, Any]:
    """jax, numpyro and arviz, or an ImportError naming the extra to install."""
    try:
        import jax
        import numpyro

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # arviz's refactor notice
            import arviz
    except ImportError as err:
        raise ImportError(
            f"lcpfn.mcmc needs jax, numpyro and arviz ({err.name} is missing); "
            f"install them with: pip install lcpfn[mcmc]"
        ) from err
    return jax, numpyro, arviz


# ---- the model, generated from the prior spec ---------------------------------


def _value_dist(d: ParamDist) -> Any:
    """The NumPyro distribution of ``shift + multiplier * X`` (X as in priors.py)."""
    import numpyro.distributions as dist
    from numpyro.distributions import transforms

    a = d.args
    base = (
        dist.Uniform(a[0], a[1])
        if d.dist in ("uniform", "loguniform")
        else dist.Normal(a[0], a[1])
    )
    steps, support = [], base.support
    if d.dist in ("lognormal", "loguniform"):
        steps.append(transforms.ExpTransform(domain=support))
        support = steps[-1].codomain
    if d.shift != 0.0 or d.multiplier != 1.0:
        steps.append(transforms.AffineTransform(d.shift, d.multiplier, domain=support))
    return dist.TransformedDistribution(base, steps) if steps else base


def _weight_site(prior: CurvePrior) -> str:
    return "weights_raw" if prior.normalize_weights else "weights"


def _latent_sites(prior: CurvePrior) -> dict[str, Any]:
    """Sample site name -> NumPyro distribution, for every non-constant ParamDist.

    Shapes: the weight site is (F,), every other site a scalar.
    """
    sites = {}
    if prior.weight.dist != "constant":
        n_families = len(prior.families)
        weights = _value_dist(prior.weight).expand([n_families]).to_event(1)
        sites[_weight_site(prior)] = weights
    for fam in prior.families:
        for p, d in fam.params.items():
            if d.dist != "constant":
                sites[f"{fam.name}.{p}"] = _value_dist(d)
    if prior.log_sigma.dist != "constant":
        sites["log_sigma"] = _value_dist(prior.log_sigma)
    return sites


def _values(prior: CurvePrior, latent: dict[str, Any], xp: Any) -> dict[str, Any]:
    """Every parameter of the model: latent draws, constants, normalized weights.

    Shapes: latent scalars (...,) and weights (..., F); constants come back as
        0-d arrays and broadcast against them.
    """
    out = dict(latent)
    n_families = len(prior.families)
    weights = out.pop(_weight_site(prior), None)
    if weights is None:
        weights = xp.full((n_families,), prior.weight.args[0])
    if prior.normalize_weights:
        weights = weights / weights.sum(axis=-1, keepdims=True)
    out["weights"] = weights
    for fam in prior.families:
        for p, d in fam.params.items():
            if d.dist == "constant":
                out[f"{fam.name}.{p}"] = xp.asarray(d.shift + d.multiplier * d.args[0])
    if prior.log_sigma.dist == "constant":
        d = prior.log_sigma
        out["log_sigma"] = xp.asarray(d.shift + d.multiplier * d.args[0])
    return out


def _mixture(prior: CurvePrior, values: dict[str, Any], t: Any, xp: Any) -> Any:
    """Clean curves ``sum_k w_k f_k(t)`` from the output of ``_values``.

    Shapes: values (...,) each, weights (..., F); t broadcasts against (..., 1),
        e.g. (T,) or (..., T)  ->  (..., T)
    """
    weights = values["weights"]
    y = 0.0
    for k, fam in enumerate(prior.families):
        kwargs = {p: values[f"{fam.name}.{p}"][..., None] for p in fam.params}
        y = y + weights[..., k, None] * FAMILIES[fam.name].fn(t, **kwargs, xp=xp)
    return y


def _violation(prior: CurvePrior, f: Any, xp: Any) -> Any:
    """How far a clean curve lies outside S, in y units; inf if not finite.

    Shapes: (..., n_steps) -> (...,)
    """
    v = xp.zeros(f.shape[:-1])
    if math.isfinite(prior.y_max):
        v = v + xp.maximum(f.max(axis=-1) - prior.y_max, 0.0)
    if math.isfinite(prior.y_min):
        v = v + xp.maximum(prior.y_min - f.min(axis=-1), 0.0)
    if prior.increasing:
        v = v + xp.maximum(f[..., 0] - f[..., -1], 0.0)
    return xp.where(xp.isfinite(f).all(axis=-1), v, xp.inf)


def _in_support(prior: CurvePrior, f: Any, xp: Any) -> Any:
    """The prior's exact acceptance test (as in lcpfn.sampling). (..., n) -> (...,)"""
    ok = xp.isfinite(f).all(axis=-1)
    ok = ok & (f.min(axis=-1) >= prior.y_min) & (f.max(axis=-1) <= prior.y_max)
    if prior.increasing:
        ok = ok & (f[..., -1] > f[..., 0])
    return ok


def _make_model(prior: CurvePrior, n_steps: int) -> Callable[..., None]:
    """The surrogate model NUTS moves in (see the module docstring).

    Model args: t_obs (T,), y_obs (T,) with anything at masked steps, mask (T,)
    bool. Its density equals the posterior's on S.
    """
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist

    sites = _latent_sites(prior)
    grid = jnp.arange(1.0, n_steps + 1.0)

    def model(t_obs: Any, y_obs: Any, mask: Any) -> None:
        latent = {name: numpyro.sample(name, d) for name, d in sites.items()}
        values = _values(prior, latent, jnp)
        if prior.normalize_weights:
            numpyro.deterministic("weights", values["weights"])
        f = _mixture(prior, values, jnp.concatenate([grid, t_obs]), jnp)  # (n + T,)
        v = _violation(prior, f[:n_steps], jnp)
        numpyro.factor("truncation", -0.5 * jnp.square(v / WALL_WIDTH))
        noise = dist.Normal(f[n_steps:], jnp.exp(values["log_sigma"]))
        numpyro.sample("y", noise.mask(mask), obs=y_obs)

    return model
