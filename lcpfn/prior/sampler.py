"""Vectorized sampling of synthetic learning curves from a ``CurvePrior``.

All parameters of a batch are drawn at once and the curve families are
evaluated on a ``(B, T)`` grid in torch, on the CPU or a GPU; the mixture and
the acceptance test are those of ``lcpfn.prior.mixture``, shared with the MCMC
model. Rejected draws are replaced in a bounded number of vectorized rounds.
Each round first applies the acceptance test to the two end points (finite,
inside ``[y_min, y_max]``, ``f(t_last) > f(t_first)``), a necessary condition,
and evaluates the whole curve only for the draws that pass; the accepted set is
exactly that of checking every full curve, at a fraction of the cost, since
most rejections happen there.

Large requests are cut into chunks of ``chunk_size`` curves, each with its own
generator seeded from ``(seed, chunk index)``: the result depends on the seed,
the chunk size and the device, not on the number of threads, and ``iter_curves``
streams chunks so 10M curves never sit in memory at once.
"""

from __future__ import annotations

import functools
import math
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from lcpfn.errors import InputError, SamplingError
from lcpfn.prior.mixture import accepts, in_range, mixture, mixture_weights
from lcpfn.prior.spec import CurvePrior

__all__ = ["CurveBatch", "sample_curves", "iter_curves"]

MIN_ACCEPTANCE = 1e-3  # below this the prior is considered broken, not just strict
MAX_ROUNDS = 32
_DEFAULT_CHUNK = {"cpu": 16_384, "cuda": 1_048_576}


@dataclass(frozen=True)
class CurveBatch:
    """Curves drawn from a prior, with the parameters that generated them.

    Shapes:
        t: (T,)  steps 1..n_steps
        y, y_clean: (B, T)  noisy and clean values
        weights: (B, F)  mixture weights (normalized if the prior says so)
        params: {"family.param": (B,)}
        log_sigma: (B,)  log of the noise standard deviation
    """

    t: Tensor
    y: Tensor
    y_clean: Tensor
    weights: Tensor
    params: dict[str, Tensor]
    log_sigma: Tensor
    n_proposed: int  # parameter draws made to accept these B curves

    @property
    def acceptance_rate(self) -> float:
        return self.y.shape[0] / self.n_proposed


def sample_curves(
    prior: CurvePrior,
    n_curves: int,
    n_steps: int = 100,
    *,
    seed: int = 0,
    device: torch.device | str = "cpu",
    chunk_size: int | None = None,
    compile: bool = False,
) -> CurveBatch:
    """Draw ``n_curves`` curves of length ``n_steps`` from ``prior``.

    Args:
        prior: a ``CurvePrior`` (``lcpfn.priors.load("lcpfn")``).
        n_curves: number of curves, >= 1.
        n_steps: curve length; ``t = 1..n_steps``.
        seed: the same seed, chunk size and device give the same curves.
        device: where the curves are drawn and returned.
        chunk_size: curves per independent chunk (default 16,384 on CPU,
            1,048,576 on CUDA). Chunks run in parallel threads on a CPU.
        compile: evaluate the curve formulas with ``torch.compile`` (one fused
            kernel; on a CPU it needs a C++ compiler). It costs seconds once per
            process and pays off from about a million curves (training runs).
            Results agree with the eager path to float32 rounding, so a draw
            on the edge of a constraint may be accepted by one and not the other.

    Returns:
        A ``CurveBatch`` with every tensor on ``device``.

    Shapes:
        t (T,), y (B, T), y_clean (B, T), weights (B, F), params (B,) each.

    Raises:
        InputError: bad ``n_curves``, ``n_steps``, ``chunk_size`` or ``device``.
        SamplingError: the prior accepts fewer than 0.1 % of its draws.
    """
    stream = iter_curves(
        prior,
        n_curves,
        n_steps,
        seed=seed,
        device=device,
        chunk_size=chunk_size,
        compile=compile,
    )
    first = next(stream)
    if first.y.shape[0] == n_curves:
        return first
    # the result is filled chunk by chunk: joining a list of all chunks would
    # hold every curve twice at the peak, this holds it once plus the chunks
    # in flight
    t = first.t
    y, y_clean, weights, log_sigma = (
        _empty_rows(a, n_curves)
        for a in (first.y, first.y_clean, first.weights, first.log_sigma)
    )
    params = {k: _empty_rows(v, n_curves) for k, v in first.params.items()}
    start, n_proposed = 0, 0
    chunks = _chain(first, stream)
    del first
    for chunk in chunks:
        rows = slice(start, start + chunk.y.shape[0])
        y[rows], y_clean[rows] = chunk.y, chunk.y_clean
        weights[rows], log_sigma[rows] = chunk.weights, chunk.log_sigma
        for k, v in chunk.params.items():
            params[k][rows] = v
        n_proposed += chunk.n_proposed
        start = rows.stop
    return CurveBatch(
        t=t,
        y=y,
        y_clean=y_clean,
        weights=weights,
        params=params,
        log_sigma=log_sigma,
        n_proposed=n_proposed,
    )


def _empty_rows(like: Tensor, n: int) -> Tensor:
    return like.new_empty((n, *like.shape[1:]))


def _chain(first: CurveBatch, rest: Iterator[CurveBatch]) -> Iterator[CurveBatch]:
    yield first
    del first  # so the first chunk is freed once copied
    yield from rest


def iter_curves(
    prior: CurvePrior,
    n_curves: int,
    n_steps: int = 100,
    *,
    seed: int = 0,
    device: torch.device | str = "cpu",
    chunk_size: int | None = None,
    compile: bool = False,
) -> Iterator[CurveBatch]:
    """Stream ``n_curves`` curves as consecutive chunks (see ``sample_curves``).

    Memory stays bounded by the chunks in flight: on a CPU, one per thread plus
    one waiting, each about ``2.5 * chunk_size * n_steps * 4`` bytes of curves
    and ``chunk_size`` draws of each parameter per rejection round.

    Shapes:
        yields CurveBatch with B = chunk_size (the last one: the remainder).
    """
    n_curves = _positive_int(n_curves, "n_curves")
    n_steps = _positive_int(n_steps, "n_steps")
    if n_steps < 2 and prior.increasing:
        raise InputError(
            f"n_steps must be >= 2 for a prior that requires increasing "
            f"curves; got n_steps={n_steps}"
        )
    device = _as_device(device)
    if chunk_size is None:
        chunk_size = _DEFAULT_CHUNK.get(device.type, _DEFAULT_CHUNK["cpu"])
    chunk_size = _positive_int(chunk_size, "chunk_size")
    sizes = [
        min(chunk_size, n_curves - start) for start in range(0, n_curves, chunk_size)
    ]

    evaluate = _compiled_evaluate() if compile else _evaluate

    def run(index: int) -> CurveBatch:
        generator = torch.Generator(device=device).manual_seed(_chunk_seed(seed, index))
        return _sample_chunk(prior, sizes[index], n_steps, generator, device, evaluate)

    # The first chunk runs alone, so torch.compile (if asked for) compiles once.
    yield run(0)
    n_threads = torch.get_num_threads() if device.type == "cpu" else 1
    if n_threads <= 1:
        for index in range(1, len(sizes)):
            yield run(index)
        return
    # torch releases the GIL inside its kernels and the random-number draws of
    # one chunk run on one core, so chunks in threads use all cores. At most
    # n_threads + 1 chunks are in flight, and they are yielded in order.
    with ThreadPoolExecutor(max_workers=n_threads) as pool:
        pending: deque[Future[CurveBatch]] = deque()
        for index in range(1, len(sizes)):
            pending.append(pool.submit(run, index))
            if len(pending) > n_threads:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _sample_chunk(
    prior: CurvePrior,
    n: int,
    n_steps: int,
    generator: torch.Generator,
    device: torch.device,
    evaluate: _Evaluate,
) -> CurveBatch:
    """Accept ``n`` curves by vectorized rejection rounds; add noise at the end."""
    t = torch.arange(1, n_steps + 1, dtype=torch.float32, device=device)
    t_ends = t[[0, -1]][None, :]  # (1, 2)
    kept: list[tuple[Tensor, dict[str, Tensor], Tensor]] = []
    n_accepted = n_proposed = 0
    rate = 0.2  # first guess; replaced by the running acceptance rate
    for _ in range(MAX_ROUNDS):
        want = n - n_accepted
        m = min(math.ceil(want / rate * 1.15) + 32, math.ceil(want / MIN_ACCEPTANCE))
        weights, params = _draw_parameters(prior, m, generator, device)
        ends = mixture(prior, weights, params, t_ends, xp=torch)  # (m, 2)
        ok = accepts(prior, ends, xp=torch)
        passed = ok.nonzero().squeeze(1)  # (k,) positions in this round
        weights, params = weights[passed], {k: v[passed] for k, v in params.items()}
        clean, inside = evaluate(prior, weights, params, t[None, :])  # (k, T), (k,)
        idx = inside.nonzero().squeeze(1)[:want]
        kept.append((weights[idx], {k: v[idx] for k, v in params.items()}, clean[idx]))
        n_accepted += idx.numel()
        if n_accepted == n:
            # draws after the one that completed the chunk were never needed
            n_proposed += int(passed[idx[-1]]) + 1
            break
        n_proposed += m
        rate = max(n_accepted / n_proposed, MIN_ACCEPTANCE)
        if n_proposed >= 10_000 and n_accepted / n_proposed < MIN_ACCEPTANCE:
            break
    if n_accepted < n:
        raise SamplingError(
            f"prior {prior.name!r} accepted {n_accepted} of {n_proposed} draws "
            f"(rate {n_accepted / n_proposed:.2e}, floor {MIN_ACCEPTANCE:g}); "
            f"check its constraints and parameter ranges"
        )
    weights, params, y_clean = (
        kept[0]
        if len(kept) == 1
        else (
            torch.cat([k[0] for k in kept]),
            {key: torch.cat([k[1][key] for k in kept]) for key in kept[0][1]},
            torch.cat([k[2] for k in kept]),
        )
    )
    log_sigma = prior.log_sigma.sample(n, generator, device)
    noise = torch.randn(y_clean.shape, generator=generator, device=device)
    y = noise.mul_(log_sigma.exp()[:, None]).add_(y_clean)
    return CurveBatch(
        t=t,
        y=y,
        y_clean=y_clean,
        weights=weights,
        params=params,
        log_sigma=log_sigma,
        n_proposed=n_proposed,
    )


def _draw_parameters(
    prior: CurvePrior, m: int, generator: torch.Generator, device: torch.device
) -> tuple[Tensor, dict[str, Tensor]]:
    """Shapes: returns weights (m, F) and {"family.param": (m,)}."""
    weights = torch.stack(
        [prior.weight.sample(m, generator, device) for _ in prior.families], dim=1
    )
    weights = mixture_weights(prior, weights, xp=torch)
    params = {
        f"{fam.name}.{p}": dist.sample(m, generator, device)
        for fam in prior.families
        for p, dist in fam.params.items()
    }
    return weights, params


def _evaluate(
    prior: CurvePrior, weights: Tensor, params: dict[str, Tensor], t: Tensor
) -> tuple[Tensor, Tensor]:
    """Clean curves and which of them are inside the prior's range everywhere.

    The increasing condition reads the end points only, which the pre-check in
    ``_sample_chunk`` has tested; it is not repeated here because a ``(k, T)``
    grid may round an end point differently from the ``(m, 2)`` one.

    Shapes:
        weights (k, F), params (k,) each, t (1, T)  ->  (k, T), (k,) bool
    """
    clean = mixture(prior, weights, params, t, xp=torch)
    return clean, in_range(prior, clean, xp=torch)


_Evaluate = Callable[
    [CurvePrior, Tensor, dict[str, Tensor], Tensor], tuple[Tensor, Tensor]
]


@functools.cache
def _compiled_evaluate() -> _Evaluate:
    # One fused kernel for the whole (k, T) grid instead of ~20 passes over it.
    return torch.compile(_evaluate, dynamic=True)


def _chunk_seed(seed: int, index: int) -> int:
    state = np.random.SeedSequence([int(seed) & 0xFFFFFFFF, index]).generate_state(2)
    return int(state[0]) << 31 ^ int(state[1])


def _positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise InputError(f"{name} must be a positive integer; got {value!r}")
    return int(value)


def _as_device(device: torch.device | str) -> torch.device:
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise InputError(
            f"device must be a torch device like 'cpu' or 'cuda'; got {device!r}"
        ) from err
    if device.type == "cuda" and not torch.cuda.is_available():
        raise InputError(f"device={str(device)!r} but CUDA is not available here")
    return device
