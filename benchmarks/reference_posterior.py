"""The reference posterior against brute force: NUTS and tempered SMC on prior curves.

Usage:
    python benchmarks/reference_posterior.py [--n-curves 16] [--cutoffs 10 20 40 80]
        [--n-draws 4000000] [--methods nuts smc] [--seed 20261201]
        [--chunk 16] [--nuts-warmup 1000] [--nuts-samples 1000]
        [--smc-particles 1000] [--smc-max-particles 64000] [--smc-steps 1]
        [--smc-leapfrog 50] [--smc-symmetry-moves 4] [--smc-linear-moves 2]
        [--smc-target-ess 0.7] [--smc-draws N] [--importance-curves N]
        [--importance-from STEM] [--out reference_posterior]

Draws ``--n-curves`` curves from the LC-PFN prior (``lcpfn.sample_curves``),
observes the first ``cutoff`` of their 100 steps and scores each sampler's
posterior predictive on the rest: the mean log density of the unseen values
(the PFN's metric). The brute-force reference is importance sampling from
``--n-draws`` prior draws of the PFN's torch sampler
(``lcpfn.mcmc.importance``); it is trusted where its effective sample size is
at least 1,000, and there each sampler must be within 0.05 nats of it. Its
own Monte Carlo error (``ImportanceResult.score_mcse``, batch means over its
chunks of draws) is shown beside every miss, where the run recorded it.
The same fits give simulation-based calibration (Talts et al., 2018; the
ranks and tests of ``benchmarks/sbc.py``): each curve's true parameters and
f(100) are ranked among L = 99 thinned posterior draws, and the ranks of all
curves at a cutoff are tested for uniformity (chi-square on 10 bins, KS on
randomized fractional ranks).
Each sampler's convergence is judged by ``lcpfn.mcmc.posterior.converged``
(R-hat <= 1.01, bulk ESS >= 400, no divergence), and the Monte Carlo error
of its predictive's log density by ``Diagnostics.predictive_mcse`` (at
typical points) and ``PosteriorPredictive.log_likelihood_mcse`` at the
held-out values (the spread of their LL score from one sampler run to the
next); its cost is sampling seconds
per curve (compilation excluded, SMC's repeated runs with more particles
included), measured in the same run.

The work goes in chunks of ``--chunk`` curves: importance sampling for all
cutoffs of a chunk (its prior draws are drawn again for each chunk; only
chunks that start before ``--importance-curves``, default all: past them the
fits serve SBC; a 16-curve chunk's importance sampling from 4M draws takes
about 12 minutes on a 2-core CPU; ``--importance-from`` takes it from an
earlier run of the same curves and prior draws instead), then
each sampler at each cutoff, seeded with ``--seed`` plus the chunk's first
curve. Each cutoff has its own compiled sampler: padding the observed values
with NaN to one width would compile once, but SMC's cost grows with the
width (43 s per curve at 10 % padded to 80 steps, against about 17 s).
benchmarks/results/<out>.{json,md} are written after every sampler run; a
killed run started again with the same arguments goes on from there. It may
be started again with a higher ``--smc-max-particles``: the chunks where a
curve did not converge under the lower cap are then sampled again, with the
same seed, so the record is what a run with the higher cap from the start
gives (a curve that converged under the lower cap does so under the higher
one too, from the same random numbers); the md lists them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

import lcpfn
from lcpfn.mcmc import fit_posterior
from lcpfn.mcmc.importance import importance_predictive
from lcpfn.mcmc.posterior import converged
from lcpfn.mcmc.smc import ESCALATION, REPEAT_TARGET_ESS, repeat_ladder

sys.path.insert(0, str(Path(__file__).parent))
from machine import RESULTS, describe_machine  # noqa: E402
from sbc import (  # noqa: E402
    cutoff_table,
    cutoff_tests,
    posterior_draws,
    ranks,
    true_values,
)

N_RANKS, N_BINS = 99, 10
SBC_MIN_CURVES = 5 * N_BINS  # chi-square wants >= 5 expected per bin
N_STEPS = 100
IS_ESS_MIN = 1000
TOLERANCE = 0.05  # nats
PER_CURVE = (
    "log_likelihood",
    "converged",
    "r_hat_max",
    "ess_bulk_min",
    "n_particles",
    "repeats",
    "predictive_mcse",
    "ll_mcse",
)


def fit(method: str, y_obs: np.ndarray, prior, args, seed: int) -> object:
    settings = {
        "smc": {
            "n_particles": args.smc_particles,
            "max_particles": args.smc_max_particles,
            "n_mcmc_steps": args.smc_steps,
            "n_leapfrog": args.smc_leapfrog,
            "symmetry_moves": args.smc_symmetry_moves,
            "linear_moves": args.smc_linear_moves,
            "target_ess": args.smc_target_ess,
            "n_draws": args.smc_draws,
        },
        "nuts": {"n_warmup": args.nuts_warmup, "n_samples": args.nuts_samples},
    }[method]
    with warnings.catch_warnings():  # convergence is counted per curve
        warnings.simplefilter("ignore")
        return fit_posterior(None, y_obs, prior, method=method, seed=seed, **settings)


def scores(post, y: np.ndarray, k: int) -> dict[str, list]:
    """Per-curve results of one fit at cutoff k. Shapes: y (B, 100) -> lists (B,)."""
    pred = post.predict(np.arange(k + 1.0, N_STEPS + 1.0))
    diagnostics = post.curve_diagnostics
    stats = post.idata.sample_stats
    per_curve = {
        name: (
            stats[name].transpose("curve", ...).values.reshape(len(y), -1).max(axis=1)
            if name in stats
            else np.zeros(len(y))
        )
        .astype(int)
        .tolist()
        for name in ("n_particles", "repeats")
    }
    return {
        "log_likelihood": pred.log_prob(y[:, k:]).mean(1).tolist(),
        "converged": [converged(d) for d in diagnostics],
        "r_hat_max": [d.r_hat_max for d in diagnostics],
        "ess_bulk_min": [d.ess_bulk_min for d in diagnostics],
        "predictive_mcse": [d.predictive_mcse for d in diagnostics],
        "ll_mcse": pred.log_likelihood_mcse(y[:, k:]).tolist(),
        **per_curve,
    }


def sbc_ranks(post, truth: dict, families: list[str]) -> dict[str, list]:
    """Ranks of the true values among N_RANKS thinned draws. Shapes: lists (B,)."""
    draws = posterior_draws(post, families, N_STEPS)
    return {
        name: ranks(draws[name], value, N_RANKS).tolist()
        for name, value in truth.items()
        if name in draws  # a constant (a fixed weight, say) has no rank
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-curves", type=int, default=16)
    parser.add_argument("--cutoffs", type=int, nargs="+", default=[10, 20, 40, 80])
    parser.add_argument("--n-draws", type=int, default=4_000_000)
    parser.add_argument("--methods", nargs="+", default=["nuts", "smc"])
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--chunk", type=int, default=16)
    parser.add_argument("--nuts-warmup", type=int, default=1000)
    parser.add_argument("--nuts-samples", type=int, default=1000)
    parser.add_argument("--smc-particles", type=int, default=1000)
    parser.add_argument("--smc-max-particles", type=int, default=64000)
    parser.add_argument("--smc-steps", type=int, default=1)
    parser.add_argument("--smc-leapfrog", type=int, default=50)
    parser.add_argument("--smc-symmetry-moves", type=int, default=4)
    parser.add_argument("--smc-linear-moves", type=int, default=2)
    parser.add_argument("--smc-target-ess", type=float, default=0.7)
    parser.add_argument(
        "--smc-draws", type=int, default=None, help="per run; default fit_smc's"
    )
    parser.add_argument(
        "--importance-curves", type=int, default=None, help="default: all"
    )
    parser.add_argument(
        "--importance-from",
        default=None,
        help="results stem of a run of the same curves whose importance sampling "
        "is reused",
    )
    parser.add_argument("--out", default="reference_posterior")
    args = parser.parse_args()
    prior = lcpfn.priors.load("lcpfn")
    families = [f.name for f in prior.families]
    batch = lcpfn.sample_curves(prior, args.n_curves, N_STEPS, seed=args.seed)
    truth = true_values(batch, families)
    y = batch.y.numpy().astype(np.float64)  # (n, 100)
    steps = np.arange(N_STEPS)
    path = RESULTS / f"{args.out}.json"
    record = {
        "command": "python benchmarks/reference_posterior.py " + " ".join(sys.argv[1:]),
        "settings": vars(args),
        "log_sigma": batch.log_sigma.tolist(),
        "importance_seconds": 0.0,
        "rows": {
            "importance": {str(k): {} for k in args.cutoffs},
            **{
                m: {
                    str(k): {"seconds": 0.0, "compile_seconds": 0.0}
                    for k in args.cutoffs
                }
                for m in args.methods
            },
        },
    }
    if path.exists():  # a killed run of the same settings resumes where it stopped
        done = json.loads(path.read_text())
        # --importance-curves and --importance-from only say where the
        # importance sampling comes from, so they may change between restarts;
        # --smc-max-particles may rise (see below_cap)
        unchecked = {
            "importance_curves": None,
            "importance_from": None,
            "smc_max_particles": None,
        }
        if {**done["settings"], **unchecked} != {**record["settings"], **unchecked}:
            sys.exit(f"{path} holds a run with other settings; choose another --out")
        if args.smc_max_particles < done["settings"]["smc_max_particles"]:
            sys.exit(
                f"{path} was sampled with --smc-max-particles "
                f"{done['settings']['smc_max_particles']}; it may rise, not fall"
            )
        record = {**done, "settings": record["settings"]}
        print(f"resuming {path}", flush=True)
    if args.importance_from and not record["rows"]["importance"][str(args.cutoffs[0])]:
        record = reuse_importance(record, RESULTS / f"{args.importance_from}.json")
    rows = record["rows"]
    # a run spans several starts, perhaps on other machines: each is recorded
    # with the number of curves each method had reached at each cutoff
    reached = {
        m: {k: len(rows[m][str(k)].get("log_likelihood", [])) for k in args.cutoffs}
        for m in args.methods
    }
    record.setdefault("starts", []).append(
        {"machine": describe_machine(), "curves_done": reached}
    )
    importance_curves = (
        args.n_curves if args.importance_curves is None else args.importance_curves
    )
    for first in range(0, args.n_curves, args.chunk):
        part = slice(first, min(first + args.chunk, args.n_curves))
        n_importance = len(rows["importance"][str(args.cutoffs[0])].get("ess", []))
        if n_importance < part.stop and first < importance_curves:
            aligned(n_importance, part, "importance")
            start = time.perf_counter()
            seen = [steps < k for k in args.cutoffs]
            brute = importance_predictive(
                prior,
                np.concatenate([np.where(m, y[part], np.nan) for m in seen]),
                np.concatenate([np.where(~m, y[part], np.nan) for m in seen]),
                n_draws=args.n_draws,
            )
            record["importance_seconds"] += time.perf_counter() - start
            n = part.stop - part.start
            for j, k in enumerate(args.cutoffs):
                row = rows["importance"][str(k)]
                within = slice(j * n, (j + 1) * n)
                extend(row, "log_likelihood", brute.log_density[within, k:].mean(1))
                extend(row, "ess", brute.ess[within])
                # chunks sampled before the field existed get None
                missing = len(row["ess"]) - n - len(row.get("mcse", []))
                extend(
                    row, "mcse", [None] * missing + brute.score_mcse[within].tolist()
                )
            save(record, path)
        for k in args.cutoffs:
            for method in args.methods:
                row = rows[method][str(k)]
                n_done = len(row.get("log_likelihood", []))
                recorded = n_done >= part.stop
                again = below_cap(row, part, method, args) if recorded else []
                if recorded and not again:
                    continue
                if not recorded:
                    aligned(n_done, part, f"{method} {k} %")
                before = row.get("log_likelihood", [])[part]
                post = fit(method, y[part, :k], prior, args, args.seed + part.start)
                for key, values in scores(post, y[part], k).items():
                    put(row, key, part, values)
                chunk_truth = {name: v[part] for name, v in truth.items()}
                for name, values in sbc_ranks(post, chunk_truth, families).items():
                    put(row.setdefault("ranks", {}), name, part, values)
                row["seconds"] += post.seconds * (part.stop - part.start)
                row["compile_seconds"] += post.compile_seconds
                if again:
                    record.setdefault("refits", []).append(
                        refit_entry(row, part, k, again, before, post, args)
                    )
                save(record, path)
                what = f"refit {method}" if again else method
                print(what, k, part, f"{post.seconds:.1f} s/curve", flush=True)
    print(markdown(record))


def aligned(n_done: int, part: slice, what: str) -> None:
    """Stops the run unless the ``n_done`` curves already recorded for ``what``
    end where the chunk ``part`` starts (else its rows would land on other
    curves' places)."""
    if n_done != part.start:
        sys.exit(
            f"{what}: {n_done} curves recorded, but the chunk to add starts at "
            f"curve {part.start}; the record is not from chunks of this size"
        )


def reuse_importance(record: dict, source: Path) -> dict:
    """``record`` with the importance sampling of the run in ``source``.

    Importance sampling depends only on the curves and the prior draws, so a
    run with the same seed, curves, cutoffs and number of draws gives the same
    figures; any other run is refused.
    """
    earlier = json.loads(source.read_text())
    same = ("seed", "n_curves", "cutoffs", "n_draws", "chunk")
    theirs = {key: earlier["settings"].get(key) for key in same}
    ours = {key: record["settings"][key] for key in same}
    if theirs != ours:
        sys.exit(f"{source} sampled other curves or draws: {theirs} against {ours}")
    return {
        **record,
        "importance_seconds": earlier["importance_seconds"],
        "rows": {**record["rows"], "importance": earlier["rows"]["importance"]},
    }


def started_on(starts: list[dict]) -> list[str]:
    """Markdown lines naming the machine, code and JAX of each start of the run."""
    if not starts:
        return []
    lines = ["Starts (curves already done per cutoff, then where it ran):", ""]
    for start in starts:
        m = start["machine"]
        done = " / ".join(
            f"{method} {'/'.join(map(str, by_cutoff.values()))}"
            for method, by_cutoff in start["curves_done"].items()
        )
        packages = ", ".join(
            f"{name} {m['packages'][name]}" for name in ("jax", "numpyro", "blackjax")
        )
        lines.append(f"- {done}: {m['cpu']}, lcpfn {m['git_revision']}, {packages}")
    return [*lines, ""]


def below_cap(row: dict, part: slice, method: str, args) -> list[int]:
    """The curves of the recorded chunk ``part`` that did not converge with
    fewer SMC particles than ``--smc-max-particles`` now allows: they were
    sampled under a lower cap, and their chunk is sampled again under this
    one (with the same seed, so its other curves get the same fits)."""
    if method != "smc":
        return []
    return [
        i
        for i in range(part.start, part.stop)
        if not row["converged"][i] and row["n_particles"][i] < args.smc_max_particles
    ]


def refit_entry(row, part, k, again, before, post, args) -> dict:
    """What the refit of the chunk ``part`` for the curves ``again`` changed,
    for the record: whether they converged now, their particles, and how
    many of the other curves' LL moved (the same seed leaves them as they
    were, unless the sampler's arithmetic is not reproducible)."""
    return {
        "cutoff": k,
        "curves": [part.start, part.stop],
        "max_particles": args.smc_max_particles,
        "sampled_again": {
            str(i): {
                "converged": row["converged"][i],
                "n_particles": row["n_particles"][i],
                "r_hat_max": row["r_hat_max"][i],
                "ess_bulk_min": row["ess_bulk_min"][i],
            }
            for i in again
        },
        "others_ll_changed": sum(
            abs(row["log_likelihood"][part.start + j] - b) > 1e-9
            for j, b in enumerate(before)
            if part.start + j not in again
        ),
        "seconds": post.seconds * (part.stop - part.start),
    }


def put(row: dict, key: str, part: slice, values) -> None:
    """The chunk ``part``'s values at its curves' places in ``row[key]``:
    appended for a new chunk (its first curve is where the list ends),
    replaced for a refitted one."""
    old = row.get(key, [])
    row[key] = [*old[: part.start], *np.asarray(values).tolist(), *old[part.stop :]]


def extend(row: dict, key: str, values) -> None:
    row[key] = [*row.get(key, []), *np.asarray(values).tolist()]


def save(record: dict, path: Path) -> None:
    """The record so far, as JSON and markdown, each written atomically."""
    for target, text in (
        (path, json.dumps(record, indent=2) + "\n"),
        (path.with_suffix(".md"), markdown(record)),
    ):
        partial = target.with_suffix(target.suffix + ".partial")
        partial.write_text(text)
        os.replace(partial, target)


def markdown(record: dict) -> str:
    s = record["settings"]
    imp = record["rows"]["importance"]
    n_importance = len(imp[str(s["cutoffs"][0])].get("ess", []))
    ladder = repeat_ladder(
        s["smc_particles"],
        s.get("smc_target_ess", REPEAT_TARGET_ESS),
        s["smc_max_particles"],
    )
    levels = range(1, len(ladder) + 1)
    lines = [
        "# Reference posterior against brute-force importance sampling",
        "",
        f"Command: `{record['command']}`",
        "",
        f"{s['n_curves']} curves of the LC-PFN prior (seed {s['seed']}); "
        f"importance sampling from {s['n_draws']:,} prior draws for the first "
        f"{n_importance} curves ({record['importance_seconds']:.0f} s in all"
        + (
            f", reused from `{s['importance_from']}`"
            if s.get("importance_from")
            else ""
        )
        + "), trusted where its "
        f"ESS >= {IS_ESS_MIN}. "
        + "; ".join(
            {
                "nuts": f"NUTS: 4 x ({s['nuts_warmup']} + {s['nuts_samples']})",
                "smc": f"SMC: 4 runs x {s['smc_particles']} particles (a curve that "
                f"did not converge sampled again at target ESS >= {REPEAT_TARGET_ESS}"
                f", with as many particles, then {ESCALATION} times as many at a "
                f"time up to {s['smc_max_particles']}), "
                f"{s['smc_steps']} HMC move(s) of {s['smc_leapfrog']} leapfrog "
                "steps per stage, each after "
                f"{s['smc_symmetry_moves']} rounds of symmetry moves and "
                f"{s['smc_linear_moves']} of linear moves, target ESS "
                f"{s.get('smc_target_ess', 0.9)}, "
                f"{s.get('smc_draws') or 'the default number of'} draws per run",
            }[m]
            for m in s["methods"]
        )
        + ". LL: mean log density of the unseen values.",
        "",
        *started_on(record.get("starts", [])),
        "| cutoff | method | curves | converged | sampled again "
        f"({' / '.join(map(str, levels))} times) "
        "| IS-trusted curves | mean abs LL diff to IS | max abs LL diff "
        "| within 0.05 | mean LL | predictive MCSE mean / max "
        "| MCSE of LL at held-out values mean / max | s / curve |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    failures, misses = [], []
    for k in s["cutoffs"]:
        for method in s["methods"]:
            row = record["rows"][method][str(k)]
            ll = np.array(row.get("log_likelihood", []))
            if not ll.size:  # not sampled yet
                continue
            n = len(ll)
            ref = np.array(imp[str(k)].get("log_likelihood", [])[:n])
            trusted = np.array(imp[str(k)].get("ess", [])[:n]) >= IS_ESS_MIN
            diff = np.abs(ll[: len(ref)] - ref)[trusted]
            cells = (
                [f"{diff.mean():.3f}", f"{diff.max():.3f}",
                 f"{(diff <= TOLERANCE).sum()} / {trusted.sum()}"]
                if trusted.any()
                else ["-", "-", "-"]
            )  # fmt: skip
            repeats = np.array(row.get("repeats", []))
            again = (
                " / ".join(str((repeats == level).sum()) for level in levels)
                if method == "smc" and repeats.size
                else "-"
            )
            # a per-curve field added after a run began is shown only when
            # every curve has it
            mcse_cells = [
                f"{np.mean(v):.3f} / {np.max(v):.3f}" if len(v) == n else "-"
                for v in (row.get("predictive_mcse", []), row.get("ll_mcse", []))
            ]
            lines.append(
                f"| {k} % | {method} | {n} | {sum(row['converged'])} | {again} | "
                f"{trusted.sum()} | "
                + " | ".join([*cells, f"{ll.mean():.3f}", *mcse_cells])
                + f" | {row['seconds'] / n:.1f} |"
            )
            ll_mcse = row.get("ll_mcse", [])
            is_mcse = imp[str(k)].get("mcse", [])
            misses += [
                f"| {k} % | {method} | {i} | {record['log_sigma'][i]:.2f} | "
                f"{ll[i]:.4f} | {ref[i]:.4f} | {imp[str(k)]['ess'][i]:.0f} | "
                + (f"{ll_mcse[i]:.4f} |" if len(ll_mcse) == n else "- |")
                + (
                    f" {is_mcse[i]:.4f} |"
                    if i < len(is_mcse) and is_mcse[i] is not None
                    else " - |"
                )
                for i in np.flatnonzero(
                    trusted & (np.abs(ll[: len(ref)] - ref) > TOLERANCE)
                )
            ]
            failures += [
                f"| {k} % | {method} | {i} | {record['log_sigma'][i]:.2f} | "
                f"{row['r_hat_max'][i]:.3f} | {row['ess_bulk_min'][i]:.0f} | "
                f"{row['n_particles'][i] if method == 'smc' else '-'} |"
                for i in range(n)
                if not row["converged"][i]
            ]
    compile_seconds = {
        m: sum(r["compile_seconds"] for r in record["rows"][m].values())
        for m in s["methods"]
    }
    lines += [
        "",
        "Compilation (not in s / curve): "
        + ", ".join(f"{m} {v:.0f} s" for m, v in compile_seconds.items())
        + ". Curves that did not converge:",
        "",
        "| cutoff | method | curve | log sigma | max R-hat | min bulk ESS "
        "| particles |",
        "|---|---|---|---|---|---|---|",
        *(failures or ["| - | - | none | | | | |"]),
        "",
        f"IS-trusted curves more than {TOLERANCE} nats from importance sampling:",
        "",
        "| cutoff | method | curve | log sigma | LL | IS LL | IS ESS "
        "| MCSE of LL at held-out values | MCSE of IS LL |",
        "|---|---|---|---|---|---|---|---|---|",
        *(misses or ["| - | - | none | | | | | | |"]),
    ]
    lines += refits_markdown(record.get("refits", []))
    for method in s["methods"]:
        lines += sbc_markdown(record["rows"][method], s["cutoffs"], method)
    return "\n".join(lines) + "\n"


def refits_markdown(refits: list[dict]) -> list[str]:
    """The table of the chunks sampled again after the cap on particles rose."""
    if not refits:
        return []
    lines = [
        "",
        "Chunks sampled again after `--smc-max-particles` rose, for the curves "
        "that had not converged under the lower cap (s / curve above includes "
        "the chunks' first fits):",
        "",
        "| cutoff | curves | max particles | curve: converged, particles, "
        "max R-hat, min bulk ESS | other curves whose LL changed | seconds |",
        "|---|---|---|---|---|---|",
    ]
    for r in refits:
        again = "; ".join(
            f"{i}: {'yes' if v['converged'] else 'no'}, {v['n_particles']}, "
            f"{v['r_hat_max']:.3f}, {v['ess_bulk_min']:.0f}"
            for i, v in r["sampled_again"].items()
        )
        first, stop = r["curves"]
        others = stop - first - len(r["sampled_again"])
        lines.append(
            f"| {r['cutoff']} % | {first}-{stop - 1} | {r['max_particles']} | "
            f"{again} | {r['others_ll_changed']} of {others} | "
            f"{r['seconds']:.0f} |"
        )
    return lines


def sbc_markdown(rows: dict, cutoffs: list[int], method: str) -> list[str]:
    """The SBC table of one method: p-values per quantity and cutoff."""
    done = [
        k
        for k in cutoffs
        if len(rows[str(k)].get("log_likelihood", [])) >= SBC_MIN_CURVES
    ]
    if not done:
        return [
            "",
            f"## Simulation-based calibration: {method}",
            "",
            f"Not tested yet: fewer than {SBC_MIN_CURVES} curves at every cutoff.",
        ]
    ranks_at = {k: rows[str(k)]["ranks"] for k in done}
    # seed: the randomized fractional ranks of KS
    tests = cutoff_tests(ranks_at, N_RANKS, N_BINS, seed=0)
    return [
        "",
        f"## Simulation-based calibration: {method}",
        "",
        *cutoff_table(tests, N_RANKS, N_BINS),
    ]


if __name__ == "__main__":
    main()
