"""The prior's range guarantee, enforced on the network's predictive of y.

A prior whose clean curves lie in ``[lower, upper]`` and whose observations
are ``y = f + e`` with symmetric noise e gives a posterior predictive that
puts no more mass below ``lower - u`` than above ``lower + u`` for every
u >= 0, and no more above ``upper + u`` than below ``upper - u``: for one
clean value f >= lower, ``lower - u`` is at least as far from f as
``lower + u``, and a mixture over f and the noise keeps the inequality. In
particular its median lies in ``[lower, upper]``.

The network learns this from prior curves but is not bound to it on curves
the prior cannot produce. On a loss that climbs back towards its initial
value it extends the climb past the prior's floor and puts most of its mass
below ``lower``, which a loss transform maps onto its hard bound: the median
in metric units jumps to the transform's cap (``lcpfn.transforms``).
``PriorRange`` exchanges the two tails, at each distance u from a bound,
wherever the one beyond it holds more mass than its mirror image inside.
With F the network's CDF,

    F_lower(y) = min(F(y), 1 - F(2 lower - y))
    F_range(y) = max(F_lower(y), 1 - F_lower(2 upper - y))

Each is a CDF (the min or max of two increasing functions with the limits 0
and 1), obeys its guarantee, and equals its input wherever the input already
obeys it: the Bayes predictive, and every prediction of the network that
keeps the guarantee, pass through unchanged. F_range keeps the floor's
guarantee too unless F has mass below ``2 lower - upper`` or above
``2 upper - lower`` (for the prior's [0, 1]: outside (-1, 2), a whole range
away; the network's predictions sit far closer), which a mirror would carry
past the other bound. Quantiles follow as

    Q_lower(q) = max(Q(q), 2 lower - Q(1 - q))
    Q_range(q) = min(Q_lower(q), 2 upper - Q_lower(1 - q))

and the density is the derivative of F_range: the input's density at y or at
one of its mirror images, whichever term of each min and max is active. The
masses decide, not the densities: far out, where the network's two tails are
shaped differently, a density can be exchanged for a smaller one.

Everything is evaluated at the four mirror images of y (``mirrors``): y,
``2 lower - y``, ``2 upper - y`` and ``2 lower - 2 upper + y``. An infinite
bound puts its images at -inf or +inf, where F is 0 or 1 and the bound has
no effect.

The comparisons that pick a term use P(Y <= v) and P(Y > v), each summed
from its own end of the bars (``BarDistribution.cdf_and_sf``), so that they
stay right in the far tails, where float32 has lost 1 - F.

Shapes: ``mirrors`` (...) -> (4, ...); ``cdf`` and ``log_prob`` take the
input's CDF, survival function (and log-density) at the four images,
(4, ...) each, and return (...).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from lcpfn.errors import InputError

__all__ = ["PriorRange"]


@dataclass(frozen=True)
class PriorRange:
    """The range ``[lower, upper]`` of a prior's clean curves (-inf / inf: none)."""

    lower: float = -math.inf
    upper: float = math.inf

    def __post_init__(self) -> None:
        if not self.lower < self.upper:  # also refuses NaN
            raise InputError(
                f"a prior range needs lower < upper; got {self.lower!r}, {self.upper!r}"
            )

    @classmethod
    def of_card(cls, card: dict[str, Any]) -> PriorRange:
        """The range in a model card's prior (``constraints.y_min``, ``y_max``);
        unbounded where the card names no prior or no constraint."""
        constraints = (card.get("prior") or {}).get("constraints") or {}
        return cls(
            float(constraints.get("y_min", -math.inf)),
            float(constraints.get("y_max", math.inf)),
        )

    @property
    def bounded(self) -> bool:
        return math.isfinite(self.lower) or math.isfinite(self.upper)

    def mirrors(self, y: Tensor) -> Tensor:
        """y and its mirror images at the bounds. Shapes: (...) -> (4, ...)."""
        y = y.double()
        below = 2 * self.lower - y
        above = 2 * self.upper - y
        return torch.stack([y, below, above, 2 * self.lower - above])

    def cdf(self, cdf: Tensor, sf: Tensor) -> Tensor:
        """F_range(y) from F and 1 - F at ``mirrors(y)``. Shapes: (4, ...) -> (...)."""
        at_y, _ = _lower_cdf(cdf, sf)
        _, beyond_above = _lower_cdf(cdf[2:], sf[2:])
        return torch.maximum(at_y, beyond_above)

    def log_prob(self, cdf: Tensor, sf: Tensor, log_prob: Tensor) -> Tensor:
        """The log-density of F_range at y from F, 1 - F and the log-density at
        ``mirrors(y)``. Shapes: (4, ...) each -> (...)."""
        F, S, lp = cdf, sf, log_prob
        # F_lower's density at y and at 2 upper - y: the input's own, or its
        # mirror image's across lower where that term of the min is smaller
        lp_y = torch.where(_greater(F[0], S[0], S[1], F[1]), lp[1], lp[0])
        lp_above = torch.where(_greater(F[2], S[2], S[3], F[3]), lp[3], lp[2])
        # F_range = max(F_lower(y), 1 - F_lower(2 upper - y)): whichever is larger
        at_y, beyond_y = _lower_cdf(F, S)
        at_above, beyond_above = _lower_cdf(F[2:], S[2:])
        take_above = _greater(beyond_above, at_above, at_y, beyond_y)
        return torch.where(take_above, lp_above, lp_y)

    def quantile(self, at_q: Tensor, at_complement: Tensor) -> Tensor:
        """Q_range(q) from the input's Q(q) and Q(1 - q). Shapes: (...) -> (...)."""
        lower_q = torch.maximum(at_q, 2 * self.lower - at_complement)
        lower_complement = torch.maximum(at_complement, 2 * self.lower - at_q)
        return torch.minimum(lower_q, 2 * self.upper - lower_complement)


def _lower_cdf(F: Tensor, S: Tensor) -> tuple[Tensor, Tensor]:
    """F_lower(y) and 1 - F_lower(y) from F and 1 - F at y and at 2 lower - y
    (the first two rows). Shapes: (2+, ...) each -> (...), (...)."""
    return torch.minimum(F[0], S[1]), torch.maximum(S[0], F[1])


def _greater(
    a: Tensor, a_complement: Tensor, b: Tensor, b_complement: Tensor
) -> Tensor:
    """a > b for probabilities given with their complements, compared on the
    side where they are small (float32 keeps 1 - a only to 6e-8)."""
    return torch.where(torch.maximum(a, b) > 0.5, a_complement < b_complement, a > b)
