"""Metropolis-Hastings steps for the SMC moves (JAX).

``is_accepted`` is the acceptance rule of every move here: with probability
``min(1, exp(log_ratio))``, where the ratio is the target's plus the log of
the proposal's density ratio ``q(x | x_new) / q(x_new | x)`` in the
unconstrained space x lives in; a proposal outside the truncation set S, or
with a non-finite ratio, is refused. ``choose`` then keeps the new state or
the old one (SMC's HMC transitions use it too).

The moves of ``lcpfn.mcmc.symmetry_moves`` are a list of proposals
``propose(key, x, logdensity_fn) -> (x_new, correction)``, the correction
being that log density ratio; ``metropolis_rounds`` makes one step per
proposal, in turn. The proposals are branches of one ``lax.switch``, so the
target (and the check of S) is compiled once, not once per proposal.
(``lcpfn.mcmc.linear_moves`` runs its own steps: they carry the current
point's Gaussian.)

Shapes: x (d,) one particle's unconstrained parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

__all__ = ["Proposal", "choose", "is_accepted", "metropolis_rounds", "spread_step"]

Proposal = Callable[[Any, Any, Callable[[Any], Any]], tuple[Any, Any]]


def metropolis_rounds(
    proposals: Sequence[Proposal],
    in_support: Callable[[Any], Any],
    n_rounds: int,
) -> Callable[..., Any]:
    """``moves(key, x, logdensity_fn) -> (x, share of proposals accepted)``:
    ``n_rounds`` rounds of one step per proposal."""
    import jax.numpy as jnp
    from jax import lax, random

    n = len(proposals)

    def moves(key: Any, x: Any, logdensity_fn: Callable[[Any], Any]) -> Any:
        if n == 0 or n_rounds == 0:
            return x, jnp.asarray(0.0)
        branches = [lambda k, x_, p=p: p(k, x_, logdensity_fn) for p in proposals]

        def step(i: Any, carry: Any) -> Any:
            x, log_p, accepted, key = carry
            key, k_propose, k_accept = random.split(key, 3)
            x_new, correction = lax.switch(i % n, branches, k_propose, x)
            log_p_new = logdensity_fn(x_new)
            accept = is_accepted(
                k_accept, log_p_new - log_p + correction, x_new, in_support
            )
            x, log_p = choose(accept, (x_new, log_p_new), (x, log_p))
            return x, log_p, accepted + accept, key

        carry = (x, logdensity_fn(x), 0.0, key)
        x, _, accepted, _ = lax.fori_loop(0, n_rounds * n, step, carry)
        return x, accepted / (n_rounds * n)

    return moves


def is_accepted(
    key: Any, log_ratio: Any, x_new: Any, in_support: Callable[[Any], Any]
) -> Any:
    """Whether a Metropolis-Hastings step to ``x_new`` is taken: with
    probability ``min(1, exp(log_ratio))`` (target and proposal ratio), never
    when the ratio or ``x_new`` is not finite or ``x_new`` lies outside S."""
    import jax.numpy as jnp
    from jax import random

    ok = jnp.isfinite(log_ratio) & jnp.isfinite(x_new).all() & in_support(x_new)
    log_u = jnp.log(random.uniform(key))
    return ok & (log_u < jnp.where(ok, log_ratio, -jnp.inf))


def choose(accept: Any, new: Any, old: Any) -> Any:
    """``new`` where ``accept``, else ``old``: pytrees of the same structure."""
    import jax
    import jax.numpy as jnp

    return jax.tree.map(partial(jnp.where, accept), new, old)


def spread_step(key: Any, typical: float) -> Any:
    """A step symmetric about 0, its scale spread over two decades around
    ``typical`` (log-uniform), so that one proposal serves wide and narrow
    targets alike."""
    from jax import random

    k_scale, k_normal = random.split(key)
    scale = typical * 10.0 ** random.uniform(k_scale, minval=-1.0, maxval=1.0)
    return scale * random.normal(k_normal)
