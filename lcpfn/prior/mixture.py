"""The prior's curve, a weighted mixture of families, and its support test.

A ``CurvePrior`` draws weights ``w`` and family parameters and forms the clean
curve ``f(t) = sum_k w_k f_k(t)`` (``w`` divided by its sum when
``prior.normalize_weights``). Its support is the set of curves that are finite
and inside ``[y_min, y_max]`` at every step and, when ``prior.increasing``,
end higher than they start: ``f(t_last) > f(t_first)``.

These functions are the one definition of both, for the PFN's sampler
(``lcpfn.prior.sampler``, torch on ``(B, T)``) and the NumPyro model
(``lcpfn.mcmc.model``, ``jax.numpy``; ``numpy`` where its curves are
evaluated). Like the families of ``lcpfn.prior.curves`` they take the array
module ``xp`` (``numpy``, ``jax.numpy`` or ``torch``) and work elementwise over
any leading axes.

Shapes: F families, T steps; ``...`` any leading axes that broadcast.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType

import torch

from lcpfn.prior.curves import FAMILIES, Array
from lcpfn.prior.spec import CurvePrior

__all__ = ["accepts", "in_range", "mixture", "mixture_weights"]


def mixture_weights(prior: CurvePrior, weights: Array, *, xp: ModuleType) -> Array:
    """The weights the mixture uses: ``weights / sum(weights)`` if the prior
    normalizes them, else ``weights`` unchanged.

    Shapes:
        weights: (..., F)  ->  (..., F)
    """
    if not prior.normalize_weights:
        return weights
    return weights / weights.sum(axis=-1, keepdims=True)


def mixture(
    prior: CurvePrior,
    weights: Array,
    params: Mapping[str, Array],
    t: Array,
    *,
    xp: ModuleType,
) -> Array:
    """Clean curves ``sum_k w_k f_k(t)`` of the prior's families.

    Args:
        prior: names the families, in the order of the weights' last axis.
        weights: mixture weights, as ``mixture_weights`` returns them.
        params: ``"family.param"`` -> value for every parameter of every
            family; other keys (``"weights"``, ``"log_sigma"``) are ignored.
        t: steps.
        xp: the array module of the arguments.

    Shapes:
        weights: (..., F); params: (...,) each (or 0-d); t broadcasts against
        (..., 1), e.g. (T,), (1, T) or (..., T)  ->  (..., T)
    """
    y = None
    for k, fam in enumerate(prior.families):
        kwargs = {p: params[f"{fam.name}.{p}"][..., None] for p in fam.params}
        f_k = FAMILIES[fam.name].fn(t, **kwargs, xp=xp)  # (..., T)
        w_k = weights[..., k, None]  # (..., 1)
        if y is None:
            y = f_k * w_k
        elif xp is torch and y.shape == torch.broadcast_shapes(
            y.shape, f_k.shape, w_k.shape
        ):
            # in place: the sampler's (B, T) grid is large, one buffer suffices
            y.addcmul_(f_k, w_k)
        else:
            y = y + w_k * f_k
    assert y is not None, "a CurvePrior has at least one family"
    return y


def in_range(prior: CurvePrior, y: Array, *, xp: ModuleType) -> Array:
    """Curves that are finite and inside ``[y_min, y_max]`` at every step.

    NaN policy: a NaN or an infinity anywhere in a curve rejects it.

    Shapes:
        y: (..., T)  ->  (...,) bool
    """
    lo, hi = _min_max(y, xp)  # a NaN anywhere makes both NaN, which fails isfinite
    return xp.isfinite(lo) & xp.isfinite(hi) & (lo >= prior.y_min) & (hi <= prior.y_max)


def accepts(prior: CurvePrior, y: Array, *, xp: ModuleType) -> Array:
    """The prior's acceptance test: ``in_range`` and, if ``prior.increasing``,
    ``y(t_last) > y(t_first)``.

    ``accepts`` of a curve's two end points is a necessary condition for
    ``accepts`` of the whole curve (the sampler's cheap pre-check); the
    increasing condition reads the end points only.

    Shapes:
        y: (..., T)  ->  (...,) bool
    """
    ok = in_range(prior, y, xp=xp)
    if prior.increasing:
        ok = ok & (y[..., -1] > y[..., 0])
    return ok


def _min_max(y: Array, xp: ModuleType) -> tuple[Array, Array]:
    """Shapes: (..., T) -> (...,), (...,)"""
    if xp is torch:
        return torch.aminmax(y, dim=-1)  # one pass over the (B, T) grid
    return y.min(axis=-1), y.max(axis=-1)
