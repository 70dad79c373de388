"""Parametric learning-curve families, each written once for NumPy, torch and JAX.

Every formula is elementwise and takes the array module ``xp`` (``numpy``,
``torch`` or ``jax.numpy``) for ``exp`` and ``log``, so the PFN's curve sampler
and the MCMC model evaluate the very same definition. Powers of the positive
step ``t`` are written ``exp(x * log(t))``: that is what ``t ** x`` computes
anyway, and it lets a ``(1, T)`` grid share one ``log(t)`` across a batch.

The eleven families are those of Domhan, Springenberg & Hutter (2015),
"Speeding up automatic hyperparameter optimization of deep neural networks by
extrapolation of learning curves", IJCAI; pow3, ilog2 and janoschek form the
LC-PFN prior of Adriaensen et al. (2023). Parameter names follow those papers.

Shapes: ``t`` and every parameter broadcast against each other; the sampler
passes ``t`` as ``(1, T)`` and parameters as ``(B, 1)``, giving ``(B, T)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

Array = Any  # numpy.ndarray | torch.Tensor | jax.Array

_EXP_FLOOR = -87.0  # exp(-87) ~ 1.6e-38, just above float32's smallest normal number


def _exp(x: Array, xp: ModuleType) -> Array:
    """``exp(x)`` with ``x`` floored at -87.

    Results below float32's smallest normal number (denormals, or 0) take CPUs'
    vector ``exp`` off its fast path (many times slower), and flooring
    the argument changes a curve by less than 2e-38.
    """
    return xp.exp(xp.clip(x, _EXP_FLOOR, None))


def pow3(t: Array, c: Array, a: Array, alpha: Array, *, xp: ModuleType) -> Array:
    """pow3: ``c - a * t**(-alpha)``."""
    return c - a * _exp(-alpha * xp.log(t), xp)


def ilog2(t: Array, c: Array, a: Array, *, xp: ModuleType) -> Array:
    """ilog2: ``c - a / log(t + 1)``."""
    return c - a / xp.log(t + 1.0)


def janoschek(
    t: Array, alpha: Array, beta: Array, kappa: Array, delta: Array, *, xp: ModuleType
) -> Array:
    """Janoschek: ``alpha - (alpha - beta) * exp(-kappa * t**delta)``."""
    return alpha - (alpha - beta) * _exp(-kappa * _exp(delta * xp.log(t), xp), xp)


def weibull(
    t: Array, alpha: Array, beta: Array, kappa: Array, delta: Array, *, xp: ModuleType
) -> Array:
    """Weibull: ``alpha - (alpha - beta) * exp(-(kappa * t)**delta)``."""
    return alpha - (alpha - beta) * _exp(-_exp(delta * xp.log(kappa * t), xp), xp)


def mmf(
    t: Array, alpha: Array, beta: Array, kappa: Array, delta: Array, *, xp: ModuleType
) -> Array:
    """Morgan-Mercer-Flodin: ``alpha - (alpha - beta) / (1 + (kappa * t)**delta)``."""
    return alpha - (alpha - beta) / (1.0 + _exp(delta * xp.log(kappa * t), xp))


def log_power(t: Array, a: Array, b: Array, c: Array, *, xp: ModuleType) -> Array:
    """log power: ``a / (1 + (t / exp(b))**c)``."""
    return a / (1.0 + _exp(c * (xp.log(t) - b), xp))


def vap(t: Array, a: Array, b: Array, c: Array, *, xp: ModuleType) -> Array:
    """Vapor pressure: ``exp(a + b / t + c * log(t))``."""
    return _exp(a + b / t + c * xp.log(t), xp)


def loglog_linear(t: Array, a: Array, b: Array, *, xp: ModuleType) -> Array:
    """log-log linear: ``log(a * log(t) + b)``."""
    return xp.log(a * xp.log(t) + b)


def exp4(
    t: Array, c: Array, a: Array, b: Array, alpha: Array, *, xp: ModuleType
) -> Array:
    """exp4: ``c - exp(-a * t**alpha + b)``."""
    return c - _exp(b - a * _exp(alpha * xp.log(t), xp), xp)


def pow4(
    t: Array, c: Array, a: Array, b: Array, alpha: Array, *, xp: ModuleType
) -> Array:
    """pow4: ``c - (a * t + b)**(-alpha)``."""
    return c - _exp(-alpha * xp.log(a * t + b), xp)


def hill3(t: Array, theta: Array, eta: Array, kappa: Array, *, xp: ModuleType) -> Array:
    """Hill with zero background: ``theta * t**eta / (kappa**eta + t**eta)``.

    Written as ``theta / (1 + (kappa / t)**eta)``, the same function, because
    ``kappa**eta`` and ``t**eta`` overflow float32 separately for large ``eta``.
    """
    return theta / (1.0 + _exp(eta * (xp.log(kappa) - xp.log(t)), xp))


@dataclass(frozen=True)
class Family:
    """A curve family: its formula and the names of its parameters, in order.

    ``scale``: parameters that scale the curve (multiplying them all by s
    multiplies f by s); ``shift``: parameters that shift it (adding d to them
    all adds d to f). Empty where the formula has none. ``lcpfn.mcmc``'s
    symmetry moves use them to travel along what the data cannot tell apart.
    """

    name: str
    fn: Callable[..., Array]
    params: tuple[str, ...]
    scale: tuple[str, ...] = ()
    shift: tuple[str, ...] = ()


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family("pow3", pow3, ("c", "a", "alpha"), ("c", "a"), ("c",)),
        Family("ilog2", ilog2, ("c", "a"), ("c", "a"), ("c",)),
        Family(
            "janoschek",
            janoschek,
            ("alpha", "beta", "kappa", "delta"),
            ("alpha", "beta"),
            ("alpha", "beta"),
        ),
        Family(
            "weibull",
            weibull,
            ("alpha", "beta", "kappa", "delta"),
            ("alpha", "beta"),
            ("alpha", "beta"),
        ),
        Family(
            "mmf",
            mmf,
            ("alpha", "beta", "kappa", "delta"),
            ("alpha", "beta"),
            ("alpha", "beta"),
        ),
        Family("log_power", log_power, ("a", "b", "c"), ("a",)),
        Family("vap", vap, ("a", "b", "c")),
        Family("loglog_linear", loglog_linear, ("a", "b")),
        Family("exp4", exp4, ("c", "a", "b", "alpha"), (), ("c",)),
        Family("pow4", pow4, ("c", "a", "b", "alpha"), (), ("c",)),
        Family("hill3", hill3, ("theta", "eta", "kappa"), ("theta",)),
    )
}
