"""Metropolis moves that redraw a curve's amplitudes from their Gaussian conditional.

Given the weights, the noise and each family's shape parameters (pow3's
exponent, Janoschek's rate and power), a prior curve is linear in the
families' scale parameters ``s`` (``Family.scale``: levels and amplitudes):
``f(t) = f0(t) + X(t) s``, where column j of X is the curve's change per unit
of s_j. With Gaussian noise the likelihood is then Gaussian in s, and so is
the "conditional" here: the tempered likelihood times a Gaussian with each
parameter's prior mean and variance (which keeps it proper along what the
data cannot see, such as how the families share the level).

Each move proposes s afresh from that conditional, optionally after a new
value of one other parameter: a shape parameter, a weight or the noise level
redrawn from its prior, a shape parameter with positive support scaled by
``exp(e)``, or the noise level's log shifted by e. So one step can hand the
curve's shape from one family to another (pow3 with a fast exponent and a
large amplitude, or a flat pow3 and a steeper ilog2) with the amplitudes
refitted to the data: the jumps between modes that gradient moves, which keep
the curve near the data at every step, do not make. Likewise the noise level
moves with the amplitudes refitted to it: on a low-noise curve the posterior
narrows sharply as sigma falls (a funnel), which HMC's one step size does not
cross.

Every move is a Metropolis-Hastings step with the exact proposal density (the
reverse move draws s from the Gaussian at the old values), so the box
priors, the truncation to S and the soft wall that the Gaussian leaves out
are corrected for, and the moves leave ``log_prior + lambda * log_likelihood``
invariant for every lambda in [0, 1]. The Gaussian does not depend on s, so
the current point's is carried from step to step: one Gaussian per step.

Shapes: x (d,) one particle's unconstrained parameters; t, y, mask (T,);
lambda a scalar.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from lcpfn.mcmc.metropolis import choose, is_accepted, spread_step
from lcpfn.mcmc.model import (
    clean_curves,
    parameter_values,
    unconstrained_space,
    weight_site,
)
from lcpfn.prior.curves import FAMILIES
from lcpfn.prior.spec import CurvePrior

__all__ = ["SHAPE_STEP", "build_linear_moves", "linear_sites"]

SHAPE_STEP = 0.3  # typical |log| change of a shape parameter's scaling move
NOISE_SITE = "log_sigma"
_MOMENT_DRAWS = 20_000  # prior draws behind each scale parameter's mean and variance


def linear_sites(prior: CurvePrior) -> tuple[list[str], list[str]]:
    """The latent sites the curve is linear in (the families' scale
    parameters) and the families' other latent parameters (shapes)."""
    sites = unconstrained_space(prior).sites
    linear, shapes = [], []
    for fam in prior.families:
        for p in fam.params:
            name = f"{fam.name}.{p}"
            if name in sites:
                (linear if p in FAMILIES[fam.name].scale else shapes).append(name)
    return linear, shapes


def build_linear_moves(
    prior: CurvePrior,
    in_support: Callable[[Any], Any],
    log_prior: Callable[[Any], Any],
    log_likelihood: Callable[[Any], Any],
    data: tuple[Any, Any, Any],
    n_rounds: int,
) -> Callable[..., Any]:
    """The moves for one curve's data.

    Args:
        prior: the curve prior.
        in_support: x -> whether its clean curve lies in S.
        log_prior: x -> the target's prior part (soft wall included).
        log_likelihood: x -> the log-likelihood of ``data``.
        data: (t, y, mask), the observed steps, values and which are real.
        n_rounds: rounds per call of ``moves``; a round is as many
            Metropolis steps as there are kinds of move, each step's kind
            picked at random.

    Returns:
        ``moves(key, x, lam) -> (x, share of proposals accepted)``, for the
        target ``log_prior + lam * log_likelihood`` with lam in [0, 1].
    """
    import jax
    import jax.numpy as jnp
    from jax import lax, random
    from numpyro.distributions import constraints

    space = unconstrained_space(prior)
    sites, values_of, x_of = space.sites, space.values_of, space.x_of
    linear, shapes = linear_sites(prior)
    t, y, mask = data
    p = len(linear)
    if not p or not n_rounds:  # no amplitude to refit, or no move asked for

        def unmoved(key: Any, x: Any, lam: Any) -> tuple[Any, Any]:
            return x, jnp.asarray(0.0)

        return unmoved
    keys = random.split(random.key(0), p)
    draws = [
        sites[n].sample(k, (_MOMENT_DRAWS,)) for n, k in zip(linear, keys, strict=True)
    ]
    mean0 = jnp.stack([d.mean() for d in draws])  # (p,)
    precision0 = 1.0 / jnp.stack([d.var() for d in draws])  # (p,)

    def conditional(values: dict[str, Any], lam: Any) -> tuple[Any, Any]:
        """The Gaussian of s at these values: its mean (p,) and the Cholesky
        factor (p, p) of its precision."""
        params = parameter_values(prior, values, jnp)

        def curve(s: Any) -> Any:
            return clean_curves(
                prior, {**params, **{n: s[j] for j, n in enumerate(linear)}}, t, jnp
            )

        # f is linear in s: f(s) = f0 + X s, X's columns the derivatives
        f0, derivative = jax.linearize(curve, jnp.zeros(p))  # f0 (T,)
        X = jax.vmap(derivative, out_axes=1)(jnp.eye(p))
        X = jnp.where(mask[:, None], X, 0.0)  # (T, p)
        residual = jnp.where(mask, y - f0, 0.0)
        # the precision is A'A: its factor from A's QR, which float32 keeps
        # accurate where forming A'A (condition 1e6 on a sharp curve) would not
        root_gain = jnp.sqrt(lam) * jnp.exp(-params["log_sigma"])
        root_prior = jnp.sqrt(precision0)
        A = jnp.concatenate([root_gain * X, jnp.diag(root_prior)])  # (T + p, p)
        rhs = jnp.concatenate([root_gain * residual, root_prior * mean0])
        r, qt_rhs = _triangularize(A, rhs)
        return _solve_upper(r, qt_rhs), r.T

    def log_density(s: Any, mean: Any, chol: Any) -> Any:
        z = chol.T @ (s - mean)
        return (
            -0.5 * z @ z
            + jnp.sum(jnp.log(jnp.diag(chol)))
            - 0.5 * p * math.log(2 * math.pi)
        )

    def keep(key: Any, values: dict[str, Any]) -> tuple[Any, Any]:
        return values, jnp.zeros(())

    def redraw(name: str, component: int | None) -> Callable[..., Any]:
        """A new value of site ``name`` (one component of it) from its prior."""

        def change(key: Any, values: dict[str, Any]) -> tuple[Any, Any]:
            old, draw = values[name], sites[name].sample(key)
            if component is not None:
                draw = old.at[component].set(draw[component])
            log_q = sites[name].log_prob
            return {**values, name: draw}, jnp.sum(log_q(old) - log_q(draw))

        return change

    def shift(name: str) -> Callable[..., Any]:
        """A real site plus e, e symmetric: q's ratio is 1."""

        def change(key: Any, values: dict[str, Any]) -> tuple[Any, Any]:
            e = spread_step(key, SHAPE_STEP)
            return {**values, name: values[name] + e}, jnp.zeros(())

        return change

    def scaling(name: str) -> Callable[..., Any]:
        """A positive site times exp(e), e symmetric: q's ratio is exp(e)."""

        def change(key: Any, values: dict[str, Any]) -> tuple[Any, Any]:
            e = spread_step(key, SHAPE_STEP)
            return {**values, name: values[name] * jnp.exp(e)}, e

        return change

    changes = [keep]
    for name in shapes:
        changes.append(redraw(name, None))
        if sites[name].support is constraints.positive:
            changes.append(scaling(name))
    weights = weight_site(prior)
    if weights in sites:
        changes += [redraw(weights, k) for k in range(len(prior.families))]
    if NOISE_SITE in sites:  # with the amplitudes refitted at the new noise
        changes += [redraw(NOISE_SITE, None), shift(NOISE_SITE)]

    def moves(key: Any, x: Any, lam: Any) -> tuple[Any, Any]:
        def target(x: Any) -> Any:
            return log_prior(x) + lam * log_likelihood(x)

        def step(i: Any, carry: Any) -> Any:
            """One change picked at random (one ``lax.switch``: the Gaussian
            is compiled once, not once per change), then s drawn from the
            Gaussian at the changed values."""
            x, log_p, gaussian, accepted, key = carry
            key, k_pick, k_change, k_draw, k_accept = random.split(key, 5)
            values = values_of(x)
            pick = random.randint(k_pick, (), 0, len(changes))
            new, correction = lax.switch(pick, changes, k_change, values)
            new_gaussian = conditional(new, lam)
            mean, chol = new_gaussian
            s_new = mean + _solve_upper(chol.T, random.normal(k_draw, (p,)))
            x_new = x_of({**new, **{n: s_new[j] for j, n in enumerate(linear)}})
            # the reverse move undoes the change, then draws s at the old values
            s = jnp.stack([values[n] for n in linear])
            correction += log_density(s, *gaussian) - log_density(s_new, *new_gaussian)
            # the proposal is made in the values' space: the Jacobians of x
            correction += space.log_jacobian(x) - space.log_jacobian(x_new)
            log_p_new = target(x_new)
            accept = is_accepted(
                k_accept, log_p_new - log_p + correction, x_new, in_support
            )
            x, log_p, gaussian = choose(
                accept, (x_new, log_p_new, new_gaussian), (x, log_p, gaussian)
            )
            return x, log_p, gaussian, accepted + accept, key

        # a round is as many steps as there are changes
        n_steps = n_rounds * len(changes)
        carry = (x, target(x), conditional(values_of(x), lam), 0.0, key)
        x, _, _, accepted, _ = lax.fori_loop(0, n_steps, step, carry)
        return x, accepted / n_steps

    return moves


# The two helpers below are written with plain array operations: under vmap,
# jnp.linalg.qr and solve_triangular become batched LAPACK calls that jaxlib
# 0.10 spreads over XLA's CPU thread pool from inside that pool, which
# deadlocks once two of them run at once.


def _triangularize(a: Any, b: Any) -> tuple[Any, Any]:
    """Householder QR of ``a`` (m, p), m >= p: R (p, p), upper triangular with
    a positive diagonal, and the first p entries of Q'b for ``b`` (m,)."""
    import jax.numpy as jnp

    m, p = a.shape
    rows = jnp.arange(m)
    work = jnp.concatenate([a, b[:, None]], axis=1)  # (m, p + 1)
    for j in range(p):
        x = jnp.where(rows >= j, work[:, j], 0.0)
        alpha = -jnp.where(work[j, j] < 0, -1.0, 1.0) * jnp.sqrt(x @ x)
        u = x - alpha * (rows == j)
        u_norm2 = u @ u
        beta = jnp.where(u_norm2 > 0, 2.0 / jnp.where(u_norm2 > 0, u_norm2, 1.0), 0.0)
        work = work - beta * jnp.outer(u, u @ work)
    r = jnp.triu(work[:p, :p])
    sign = jnp.where(jnp.diag(r) < 0, -1.0, 1.0)
    return r * sign[:, None], work[:p, p] * sign


def _solve_upper(r: Any, b: Any) -> Any:
    """x with ``r @ x = b`` for upper triangular ``r`` (p, p), by back substitution."""
    import jax.numpy as jnp

    p = b.shape[0]
    x = jnp.zeros_like(b)
    for i in reversed(range(p)):
        x = x.at[i].set((b[i] - r[i] @ x) / r[i, i])
    return x
