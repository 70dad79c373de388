"""Metropolis moves along the directions a curve's data cannot see.

A prior curve is a weighted sum of families, ``f = sum_k w_k f_k``, and some
changes of its parameters leave ``f`` unchanged (``Family.scale``,
``Family.shift``):

- scaling: ``w_k -> s w_k`` with family k's scale parameters divided by s
  (unnormalized weights only);
- transfer: family k's shift parameters ``+ d / w_k`` and family m's
  ``- d / w_m`` (``w``: the weights the mixture uses).

The likelihood cannot tell these apart, so the posterior spreads along them
as far as the prior allows, on curved ridges (``w_k c_k`` is what the data
fix, not ``w_k`` and ``c_k``) that gradient moves, with step sizes set by the
sharp directions, cross slowly. Each
move here is a Metropolis-Hastings step whose proposal is a bijection ``g_d``
with ``g_-d`` its inverse and ``d`` symmetric about 0, so it is accepted with
the target's ratio times ``|det dg_d|``; the likelihood cancels up to
rounding, but it is evaluated all the same, so the moves are exact for the
target as computed. A third kind redraws one parameter (one weight) from its
prior, an independence proposal accepted with the ratio of likelihood and
soft wall alone: it jumps between the modes of a parameter the data barely
constrain, such as pow3's exponent when its amplitude is near 0.

The moves act on the flat unconstrained vector the samplers move in
(``lcpfn.mcmc.model.unconstrained_space``); the target is any
``logdensity_fn`` of it whose prior part is that space's ``prior_density``
(plus the soft wall and a tempered likelihood). A proposal
outside the truncation set S is rejected.

Shapes: x (d,) one particle's unconstrained parameters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from lcpfn.errors import InputError
from lcpfn.mcmc.metropolis import Proposal, metropolis_rounds, spread_step
from lcpfn.mcmc.model import parameter_values, unconstrained_space, weight_site
from lcpfn.prior.curves import FAMILIES
from lcpfn.prior.spec import CurvePrior

__all__ = ["MOVE_KINDS", "SCALE_STEP", "SHIFT_STEP", "build_symmetry_moves"]

MOVE_KINDS = ("redraw", "scale", "transfer")

SCALE_STEP = 0.3  # typical |log s| of a scaling move
SHIFT_STEP = 0.1  # typical |d| of a transfer, in units of y


def build_symmetry_moves(
    prior: CurvePrior,
    in_support: Callable[[Any], Any],
    n_rounds: int,
    kinds: tuple[str, ...] = MOVE_KINDS,
) -> Callable[..., Any]:
    """The moves, on ``lcpfn.mcmc.model.unconstrained_space(prior)``'s x.

    Args:
        prior: the curve prior.
        in_support: x -> whether its clean curve lies in S.
        n_rounds: rounds per call of ``moves``; a round redraws every
            parameter from its prior once, scales every family once and
            transfers between every pair of families once.
        kinds: which of ``MOVE_KINDS`` a round makes.

    Returns:
        ``moves(key, x, logdensity_fn) -> (x, acceptance)``, for a target
        whose prior part is the space's ``prior_density``.
    """
    import jax.numpy as jnp

    unknown = set(kinds) - set(MOVE_KINDS)
    if unknown:
        raise InputError(f"kinds must be among {MOVE_KINDS}; got {kinds!r}")
    space = unconstrained_space(prior)
    sites, values_of, x_of = space.sites, space.values_of, space.x_of
    log_jacobian, prior_density = space.log_jacobian, space.prior_density
    weights = weight_site(prior) if weight_site(prior) in sites else None

    def redraw(name: str, component: int | None) -> Callable[..., Any]:
        """Propose site ``name`` (one component of it) afresh from its prior."""

        def propose(key: Any, x: Any, _logdensity_fn: Any) -> tuple[Any, Any]:
            values = values_of(x)
            draw = sites[name].sample(key)
            if component is not None:
                draw = values[name].at[component].set(draw[component])
            x_new = x_of({**values, name: draw})
            # an independence proposal from the prior: its density cancels the
            # prior's in the target's ratio, leaving likelihood and soft wall
            return x_new, prior_density(x) - prior_density(x_new)

        return propose

    def bijection(g: Callable[..., Any]) -> Callable[..., Any]:
        """Propose g_d(x); g: (values, key) -> (values', log |det dg_d|)."""

        def propose(key: Any, x: Any, _logdensity_fn: Any) -> tuple[Any, Any]:
            new_values, log_det = g(values_of(x), key)
            x_new = x_of(new_values)
            # g's |det| carried through the maps to and from unconstrained space
            return x_new, log_det + log_jacobian(x) - log_jacobian(x_new)

        return propose

    families = list(prior.families)

    def latent(fam: Any, params: tuple[str, ...]) -> bool:
        return bool(params) and all(f"{fam.name}.{p}" in sites for p in params)

    def scaling(k: int) -> Callable[..., Any]:
        fam = families[k]
        names = [f"{fam.name}.{p}" for p in FAMILIES[fam.name].scale]

        def g(values, key):
            log_s = spread_step(key, SCALE_STEP)
            s = jnp.exp(log_s)
            out = dict(values)
            out[weights] = values[weights].at[k].multiply(s)
            for n in names:
                out[n] = values[n] / s
            return out, log_s * (1 - len(names))

        return g

    def transfer(k: int, m: int) -> Callable[..., Any]:
        shifts = [
            [f"{families[i].name}.{p}" for p in FAMILIES[families[i].name].shift]
            for i in (k, m)
        ]

        def g(values, key):
            d = spread_step(key, SHIFT_STEP)
            w = parameter_values(prior, values, jnp)["weights"]  # as f uses them
            out = dict(values)
            for n in shifts[0]:
                out[n] = values[n] + d / w[k]
            for n in shifts[1]:
                out[n] = values[n] - d / w[m]
            return out, jnp.zeros(())

        return g

    proposals: list[Proposal] = []
    if "redraw" in kinds:
        for name, d in sites.items():
            parts = range(int(np.prod(d.event_shape))) if d.event_shape else [None]
            proposals += [redraw(name, j) for j in parts]
    if "scale" in kinds and weights is not None and not prior.normalize_weights:
        proposals += [
            bijection(scaling(k))
            for k, fam in enumerate(families)
            if latent(fam, FAMILIES[fam.name].scale)
        ]
    shifting = [
        k
        for k, fam in enumerate(families)
        if "transfer" in kinds and latent(fam, FAMILIES[fam.name].shift)
    ]
    proposals += [
        bijection(transfer(k, m))
        for i, k in enumerate(shifting)
        for m in shifting[i + 1 :]
    ]

    return metropolis_rounds(proposals, in_support, n_rounds)
