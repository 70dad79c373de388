"""The NumPyro model of a ``CurvePrior``, generated from the prior spec.

``lcpfn.mcmc`` samples it; ``lcpfn.mcmc.posterior`` evaluates its curves. The model,
its truncation and why NUTS copes with it are described in ``lcpfn.mcmc``'s
docstring. The mixture and the support test are ``lcpfn.prior.mixture``'s,
shared with the PFN's sampler. Functions take ``xp`` (numpy or jax.numpy) where
both are used, so tests can check them against the PFN's sampler with NumPy.

Shapes: F families, n grid steps, T observed steps; leading axes broadcast.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lcpfn.prior.mixture import mixture, mixture_weights
from lcpfn.prior.spec import CurvePrior, ParamDist

WALL_WIDTH = 0.01  # y units: 0.05 beyond a bound costs 12.5 nats in the surrogate


__all__ = [
    "clean_curves",
    "import_backend",
    "latent_sites",
    "make_model",
    "parameter_values",
    "unconstrained_space",
    "UnconstrainedSpace",
    "value_dist",
    "violation",
    "weight_site",
]


def import_backend() -> tuple[Any, Any, Any]:
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


def value_dist(d: ParamDist) -> Any:
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


def weight_site(prior: CurvePrior) -> str:
    """The sample site of the weights (raw ones where the prior normalizes them)."""
    return "weights_raw" if prior.normalize_weights else "weights"


def latent_sites(prior: CurvePrior) -> dict[str, Any]:
    """Sample site name -> NumPyro distribution, for every non-constant ParamDist.

    Shapes: the weight site is (F,), every other site a scalar.
    """
    sites = {}
    if prior.weight.dist != "constant":
        n_families = len(prior.families)
        weights = value_dist(prior.weight).expand([n_families]).to_event(1)
        sites[weight_site(prior)] = weights
    for fam in prior.families:
        for p, d in fam.params.items():
            if d.dist != "constant":
                sites[f"{fam.name}.{p}"] = value_dist(d)
    if prior.log_sigma.dist != "constant":
        sites["log_sigma"] = value_dist(prior.log_sigma)
    return sites


@dataclass(frozen=True)
class UnconstrainedSpace:
    """The latent sites as one flat unconstrained vector (what SMC moves in).

    Attributes:
        sites: ``latent_sites(prior)``.
        dim: length of the vector.
        values_of: x (d,) -> {site: constrained value}.
        x_of: {site: constrained value} -> x (d,).
        log_jacobian: x -> log |det d values / d x|.
        prior_density: x -> log prior density of x, Jacobian included
            (untruncated, no soft wall).
    """

    sites: dict[str, Any]
    dim: int
    values_of: Callable[[Any], dict[str, Any]]
    x_of: Callable[[dict[str, Any]], Any]
    log_jacobian: Callable[[Any], Any]
    prior_density: Callable[[Any], Any]


def unconstrained_space(prior: CurvePrior) -> UnconstrainedSpace:
    """The flat unconstrained view of ``prior``'s latent sites (JAX functions).

    Shapes: x (d,), sites in ``jax.flatten_util.ravel_pytree``'s order.
    """
    import jax.numpy as jnp
    from jax.flatten_util import ravel_pytree
    from numpyro.distributions import biject_to

    sites = latent_sites(prior)
    to_value = {name: biject_to(d.support) for name, d in sites.items()}
    flat, unravel = ravel_pytree(
        {n: jnp.zeros(d.event_shape) for n, d in sites.items()}
    )

    def values_of(x: Any) -> dict[str, Any]:
        z = unravel(x)
        return {name: to_value[name](z[name]) for name in sites}

    def x_of(values: dict[str, Any]) -> Any:
        return ravel_pytree({n: to_value[n].inv(values[n]) for n in sites})[0]

    def log_jacobian(x: Any) -> Any:
        z = unravel(x)
        return sum(
            jnp.sum(to_value[n].log_abs_det_jacobian(z[n], to_value[n](z[n])))
            for n in sites
        )

    def prior_density(x: Any) -> Any:
        values = values_of(x)
        return log_jacobian(x) + sum(
            jnp.sum(d.log_prob(values[n])) for n, d in sites.items()
        )

    return UnconstrainedSpace(
        sites=sites,
        dim=int(flat.size),
        values_of=values_of,
        x_of=x_of,
        log_jacobian=log_jacobian,
        prior_density=prior_density,
    )


def parameter_values(
    prior: CurvePrior, latent: dict[str, Any], xp: Any
) -> dict[str, Any]:
    """Every parameter of the model: latent draws, constants, normalized weights.

    Shapes: latent scalars (...,) and weights (..., F); constants come back as
        0-d arrays and broadcast against them.
    """
    out = dict(latent)
    n_families = len(prior.families)
    weights = out.pop(weight_site(prior), None)
    if weights is None:
        weights = xp.full((n_families,), _constant(prior.weight))
    out["weights"] = mixture_weights(prior, weights, xp=xp)
    for fam in prior.families:
        for p, d in fam.params.items():
            if d.dist == "constant":
                out[f"{fam.name}.{p}"] = xp.asarray(_constant(d))
    if prior.log_sigma.dist == "constant":
        out["log_sigma"] = xp.asarray(_constant(prior.log_sigma))
    return out


def _constant(d: ParamDist) -> float:
    return d.shift + d.multiplier * d.args[0]


def clean_curves(prior: CurvePrior, values: dict[str, Any], t: Any, xp: Any) -> Any:
    """Clean curves ``sum_k w_k f_k(t)`` (``lcpfn.prior.mixture``) of these values.

    Shapes: values (...,) each, weights (..., F); t broadcasts against (..., 1),
        e.g. (T,) or (..., T)  ->  (..., T)
    """
    return mixture(prior, values["weights"], values, t, xp=xp)


def violation(prior: CurvePrior, f: Any, xp: Any) -> Any:
    """How far a clean curve lies outside S, in y units; inf if not finite.

    The soft counterpart of ``lcpfn.prior.mixture.accepts``: 0 on S.

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


def make_model(prior: CurvePrior, n_steps: int) -> Callable[..., None]:
    """The surrogate model NUTS moves in (see the module docstring).

    Its soft wall looks at the curve's two ends only, where the prior's
    truncation bites most; it equals the posterior's density on S, and the
    sampler's exact check of every step rejects the rest.

    Model args: t_obs (T,), y_obs (T,) with anything at masked steps, mask (T,)
    bool.
    """
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist

    sites = latent_sites(prior)
    ends = jnp.array([1.0, float(n_steps)])

    def model(t_obs: Any, y_obs: Any, mask: Any) -> None:
        latent = {name: numpyro.sample(name, d) for name, d in sites.items()}
        values = parameter_values(prior, latent, jnp)
        if prior.normalize_weights:
            numpyro.deterministic("weights", values["weights"])
        f = clean_curves(prior, values, jnp.concatenate([ends, t_obs]), jnp)  # (2 + T,)
        v = violation(prior, f[:2], jnp)
        numpyro.factor("truncation", -0.5 * jnp.square(v / WALL_WIDTH))
        noise = dist.Normal(f[2:], jnp.exp(values["log_sigma"]))
        numpyro.sample("y", noise.mask(mask), obs=y_obs)

    return model
