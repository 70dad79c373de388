"""The shipped PFN against NUTS on the same prior: accuracy, calibration, cost.

Usage:
    python benchmarks/pfn_vs_mcmc.py [--model default] [--n-curves 16]
                                     [--budgets 100 250] [--n-chains 4]
                                     [--smc-particles P ...] [--smc-max-factor 16]
                                     [--include STEM ...]

Draws ``--n-curves`` fresh curves of 100 steps from the model's prior (seed
fixed, a stream no training run uses) and, at each cutoff of 10/20/40/80 %
observed, predicts the unseen steps with the PFN, with ``fit_mcmc`` (NUTS) at
each budget (``--n-chains`` chains x (b warm-up + b draws) for each b in
``--budgets``) and with ``fit_smc`` (tempered SMC, the reference posterior:
``--n-chains`` runs x p particles for each p in ``--smc-particles``, a curve
that did not converge sampled again with up to ``--smc-max-factor`` x p
(default 16, ``fit_smc``'s; 1: never), its other settings its defaults).
Every method sees the same curves. Reports per method and cutoff, as
``benchmarks/prior_accuracy.py`` does:

- mean log-likelihood of the noisy unseen values (mean over curves and unseen
  steps) with a 95 % bootstrap interval over curves, and the paired
  difference PFN - MCMC with its own bootstrap interval,
- MSE of the median, coverage of the central 90 % interval, PIT histograms,
- wall time per curve: PFN ``predict`` timed one curve at a time and in one
  batch of ``--pfn-batch`` curves (the benchmark's curves repeated; a batch
  the size a benchmark over thousands of curves uses), after a warm-up call;
  MCMC sampling time per curve in vmapped batches of ``--batch-size``
  (compilation reported apart), and the ratios: MCMC against the PFN one
  curve at a time (an HPO worker) and batched against batched, and each SMC
  reference against each NUTS budget,
- MCMC diagnostics per budget and cutoff: curves converged by
  ``lcpfn.mcmc.posterior.converged``, the largest Monte Carlo error of a
  curve's LL (``log_likelihood_mcse`` at its unseen values), curves with
  max r_hat > 1.01 over all parameters, with r_hat > 1.01 for the
  extrapolated value f(100), with bulk ESS < 100 per chain, with divergences
  (NUTS), and SMC's own: the largest spread (sd) of the runs' log evidence,
  the smallest final ESS and the curves sampled again,
- each reference's agreement with the SMC reference of the most particles:
  the mean and largest absolute difference of the curves' LL, and how many
  differ by more than 0.05 nats.
  No curve is excluded. ``--include STEM`` adds the methods of an earlier
  run of the same curves (same model, prior, seed, curves and chains, on this
  CPU) to the report, marked with a dagger: their figures as measured there,
  so that a reference of many particles and cheaper budgets timed on an idle
  machine can be compared without running either again. SMC runs first (the
  reference), then each NUTS budget; the results are written after each, and
  a killed run started again with the same arguments, code and machine keeps
  the references it finished.

Each cutoff's observed prefix is passed as it is, (N, cutoff): one compiled
sampler per cutoff and budget. Padding every prefix with NaN to 80 steps
would compile once, but SMC's cost grows with the width
(``reference_posterior.py``'s docstring).

Writes benchmarks/results/<out>.{json,md}, <out>_pit.png, <out>_ll.png.
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

import lcpfn
from lcpfn.evaluation import metrics
from lcpfn.mcmc import fit_mcmc, fit_smc
from lcpfn.mcmc.fit import METHOD_SETTINGS, fit_posterior
from lcpfn.mcmc.posterior import converged
from lcpfn.mcmc.smc import ESCALATION
from lcpfn.prior.spec import from_dict

sys.path.insert(0, str(Path(__file__).parent))
from machine import RESULTS, describe_machine  # noqa: E402

CUTOFFS = (10, 20, 40, 80)
N_STEPS = 100
PAPER_MCMC = (1.642, 1.956, 2.285, 2.486)  # LC-PFN paper, best MCMC (DESIGN.md)
SEED = 20_261_124  # fresh curves: no training run or other benchmark draws these


def score(pred, truth: np.ndarray) -> dict[str, np.ndarray]:
    """Per-curve scores and the PIT values of one predictive.

    Shapes: truth (N, Q)  ->  "ll", "se", "cov" (N,), "pit" (N * Q,)
    """
    lo, hi = pred.interval(0.9)
    return {
        "ll": metrics.log_likelihood(pred.log_prob(truth), truth),
        "se": metrics.squared_error(pred.median(), truth),
        "cov": metrics.interval_coverage(lo, hi, truth),
        "pit": metrics.pit_values(pred.cdf(truth), truth),
    }


def large_sample_estimate(record: dict, model_name: str) -> dict | None:
    """Each MCMC budget's mean LL on 10,000 prior curves, estimated.

    The PFN's mean LL on ``benchmarks/prior_accuracy.py``'s 10,000 curves minus
    the paired difference PFN - MCMC measured here: the subsample's own
    offset (its curves are easier or harder than average) cancels in the
    difference, so this is comparable with the paper's 10,000-curve numbers.
    The interval is the difference's bootstrap interval, shifted likewise.
    None without a prior_accuracy result for the model.
    """
    path = RESULTS / f"prior_accuracy_{Path(model_name).name}.json"
    if not path.exists():
        return None
    reference = json.loads(path.read_text())
    out = {"source": path.name, "n_curves": reference["n_curves"], "methods": {}}
    for name, rows in list(record["methods"].items())[1:]:
        out["methods"][name] = {}
        for k, v in rows.items():
            pfn = reference["summary"][k]["mean_log_likelihood"]
            lo, hi = v["pfn_minus_mcmc_ll_ci95"]
            out["methods"][name][k] = {
                "pfn_large_sample": pfn,
                "mcmc_estimate": pfn - v["pfn_minus_mcmc_ll"],
                "mcmc_estimate_ci95": [pfn - hi, pfn - lo],
            }
    return out


def fit_settings() -> dict:
    """``fit_mcmc``'s defaults that the benchmark does not set (mass, acceptance)."""
    return {
        name: p.default
        for name, p in inspect.signature(fit_mcmc).parameters.items()
        if name in ("target_accept_prob", "max_tree_depth", "dense_mass")
    }


def smc_settings(max_factor: int) -> dict:
    """``fit_smc``'s own settings that the benchmark leaves at their defaults,
    and ``max_particles`` (``max_factor`` x n_particles)."""
    defaults = inspect.signature(fit_smc).parameters
    settings = {
        name: defaults[name].default
        for name in METHOD_SETTINGS["smc"]
        if name not in ("n_runs", "n_particles")
    }
    settings["max_particles"] = f"{max_factor} x n_particles"
    if settings["n_draws"] is None:
        settings["n_draws"] = "n_particles x chain_length"
    return settings


def run_pfn(model, y: np.ndarray, batch: int) -> dict[int, dict]:
    """PFN scores and timings per cutoff. Shapes: y (N, 100) noisy curves.

    The batched time is one ``predict`` call on ``batch`` curves: the rows of
    ``y`` repeated (the cost does not depend on the values).
    """
    out, tiled = {}, np.resize(y, (batch, y.shape[1]))
    for c in CUTOFFS:
        cutoff = c * N_STEPS // 100
        queries = np.arange(cutoff + 1.0, N_STEPS + 1.0)
        model.predict(y[:1, :cutoff], t_query=queries)  # warm-up
        start = time.perf_counter()
        for row in y[:, :cutoff]:
            model.predict(row, t_query=queries)
        one = (time.perf_counter() - start) / len(y)
        pred = model.predict(y[:, :cutoff], t_query=queries)
        start = time.perf_counter()
        model.predict(tiled[:, :cutoff], t_query=queries)
        batched = (time.perf_counter() - start) / batch
        out[c] = {
            **score(pred, y[:, cutoff:]),
            "seconds_one": one,
            "seconds_batched": batched,
        }
    return out


def fit_reference(method: str, prior, y_obs: np.ndarray, args, budget: int, seed):
    """NUTS with ``budget`` warm-up + ``budget`` draws per chain, or SMC with
    ``budget`` particles per run; ``args.n_chains`` chains (runs) either way."""
    if method == "nuts":
        size = {"n_chains": args.n_chains, "n_warmup": budget, "n_samples": budget}
    else:
        size = {
            "n_runs": args.n_chains,
            "n_particles": budget,
            "max_particles": args.smc_max_factor * budget,
        }
    return fit_posterior(
        None,
        y_obs,
        prior,
        method=method,
        seed=seed,
        batch_size=args.batch_size,
        **size,
    )


def run_mcmc(prior, y: np.ndarray, args, method: str, budget: int) -> dict[int, dict]:
    """MCMC scores, timings and diagnostics per cutoff at one budget."""
    import arviz as az

    out = {}
    for c in CUTOFFS:
        cutoff = c * N_STEPS // 100
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            post = fit_reference(
                method, prior, y[:, :cutoff], args, budget, args.seed + c
            )
        pred = post.predict(np.arange(cutoff + 1.0, N_STEPS + 1.0))
        f_last = post.curves([float(N_STEPS)])[..., 0]  # (C * S, N)
        f_last = f_last.reshape(args.n_chains, -1, len(y))  # (chains, draws, N)
        r_hat_f = np.array([float(az.rhat(f_last[..., b])) for b in range(len(y))])
        per_curve = post.curve_diagnostics
        out[c] = {
            **score(pred, y[:, cutoff:]),
            "converged": np.array([converged(d) for d in per_curve]),
            "ll_mcse": pred.log_likelihood_mcse(y[:, cutoff:]),
            "seconds": post.seconds,
            "compile_seconds": post.compile_seconds,
            "r_hat": np.array([d.r_hat_max for d in per_curve]),
            "r_hat_f_last": r_hat_f,
            "ess_bulk": np.array([d.ess_bulk_min for d in per_curve]),
            "divergences": np.array([d.n_divergences for d in per_curve]),
            "log_evidence_sd": np.array([d.log_evidence_sd for d in per_curve]),
            "final_ess": np.array([d.final_ess_min for d in per_curve]),
            "boundary_rejection_rate": post.diagnostics.boundary_rejection_rate,
            "warnings": [str(w.message) for w in caught],
        }
        if method == "smc":  # the repeated runs per curve, (chain, draw, curve)
            out[c]["repeats"] = post.idata.sample_stats["repeats"].values[0, 0]
        print(f"{method} {budget} {c}%: {post.seconds:.2f} s/curve", flush=True)
    return out


def summarize(m: dict, pfn_ll: np.ndarray | None, n_chains: int) -> dict:
    """JSON-ready summary of one method at one cutoff."""
    ll = m["ll"]
    row = {
        "mean_log_likelihood": float(ll.mean()),
        "log_likelihood_ci95": metrics.bootstrap_ci(ll).tolist(),
        "mse_median": float(m["se"].mean()),
        "coverage_90": float(m["cov"].mean()),
        "pit_histogram": (
            np.histogram(m["pit"], bins=10, range=(0, 1))[0] / m["pit"].size
        ).tolist(),
        "per_curve_log_likelihood": ll.tolist(),
    }
    if "seconds_one" in m:
        row["seconds_per_curve_one"] = m["seconds_one"]
        row["seconds_per_curve_batched"] = m["seconds_batched"]
        return row
    diff = pfn_ll - ll
    row.update(
        seconds_per_curve=m["seconds"],
        compile_seconds=m["compile_seconds"],
        pfn_minus_mcmc_ll=float(diff.mean()),
        pfn_minus_mcmc_ll_ci95=metrics.bootstrap_ci(diff).tolist(),
        curves_converged=int(m["converged"].sum()),
        ll_mcse_max=float(np.nanmax(m["ll_mcse"], initial=np.nan)),
        curves_r_hat_over_1_01=int((m["r_hat"] > 1.01).sum()),
        curves_r_hat_f_last_over_1_01=int((m["r_hat_f_last"] > 1.01).sum()),
        curves_ess_bulk_under_100_per_chain=int((m["ess_bulk"] < 100 * n_chains).sum()),
        curves_with_divergences=int((m["divergences"] > 0).sum()),
        r_hat_max=float(m["r_hat"].max()),
        r_hat_f_last_max=float(m["r_hat_f_last"].max()),
        ess_bulk_min=float(m["ess_bulk"].min()),
        n_divergences=int(m["divergences"].sum()),
        log_evidence_sd_max=float(np.nanmax(m["log_evidence_sd"], initial=np.nan)),
        final_ess_min=float(np.nanmin(m["final_ess"], initial=np.nan)),
        boundary_rejection_rate=m["boundary_rejection_rate"],
        warnings=m["warnings"],
        per_curve_r_hat=m["r_hat"].tolist(),
    )
    if "repeats" in m:
        row["curves_sampled_again"] = int((m["repeats"] > 0).sum())
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="default", help="shipped name or path")
    parser.add_argument("--n-curves", type=int, default=16)
    parser.add_argument(
        "--budgets", type=int, nargs="*", default=[100, 250], help="NUTS budgets"
    )
    parser.add_argument(
        "--smc-particles",
        type=int,
        nargs="*",
        default=[],
        help="SMC particles per run, one reference per value",
    )
    parser.add_argument(
        "--smc-max-factor",
        type=int,
        default=ESCALATION**2,
        help="SMC repeats a curve up to this times its particles (1: never; the "
        "repeats grow 4x at a time)",
    )
    parser.add_argument("--n-chains", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=8, help="MCMC vmap batch")
    parser.add_argument(
        "--pfn-batch", type=int, default=1024, help="curves in the PFN's timed batch"
    )
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument(
        "--include",
        nargs="*",
        default=[],
        help="result stems of earlier runs of the same curves whose methods are "
        "added to the report",
    )
    parser.add_argument("--out", default="pfn_vs_mcmc", help="result stem")
    args = parser.parse_args()
    if args.smc_max_factor < 1:
        parser.error(f"--smc-max-factor must be >= 1; got {args.smc_max_factor}")

    model = lcpfn.load(args.model)
    prior = from_dict(model.card["prior"]) if "prior" in model.card else None
    prior = prior or lcpfn.priors.load("lcpfn")
    y = lcpfn.sample_curves(prior, args.n_curves, N_STEPS, seed=args.seed).y
    y = y.double().numpy()

    config = {k: v for k, v in vars(args).items() if k != "out"}
    done, elapsed = finished_references(args.out, config, model.card.get("sha256"))
    included = {
        stem: included_methods(stem, config, model.card.get("sha256"), prior.hash())
        for stem in args.include
    }
    start = time.perf_counter() - elapsed
    pfn = run_pfn(model, y, args.pfn_batch)
    methods = {f"PFN {args.model}": {c: summarize(pfn[c], None, 0) for c in CUTOFFS}}
    # results are written after each budget: a run cut short keeps what it has
    references = [("smc", p) for p in args.smc_particles] + [
        ("nuts", b) for b in args.budgets
    ]
    for method, b in [(None, None), *references]:
        if method is not None:
            name = (
                f"MCMC {args.n_chains}x({b}+{b})"
                if method == "nuts"
                else f"SMC {args.n_chains}x{b}"
                + (
                    f" (max {args.smc_max_factor * b})"
                    if args.smc_max_factor != ESCALATION**2
                    else ""
                )
            )
            if name in done:
                methods[name] = {c: done[name][f"{c}%"] for c in CUTOFFS}
                continue
            runs = run_mcmc(prior, y, args, method, b)
            methods[name] = {
                c: summarize(runs[c], pfn[c]["ll"], args.n_chains) for c in CUTOFFS
            }
        record = {
            "benchmark": "pfn_vs_mcmc",
            "command": "python benchmarks/pfn_vs_mcmc.py " + " ".join(sys.argv[1:]),
            "machine": describe_machine(),
            "config": config,
            "model_sha256": model.card.get("sha256"),
            "n_parameters": model.card.get("n_parameters"),
            "prior": prior.name,
            "prior_sha256": prior.hash(),
            "fit_mcmc_settings": fit_settings(),
            "fit_smc_settings": smc_settings(args.smc_max_factor),
            "seconds_total": time.perf_counter() - start,
            "paper_mcmc_mean_log_likelihood": dict(
                zip(CUTOFFS, PAPER_MCMC, strict=True)
            ),
            "methods": {
                **{
                    name: {f"{c}%": r for c, r in rows.items()}
                    for name, rows in methods.items()
                },
                **{
                    f"{name} {INCLUDED}": rows
                    for run in included.values()
                    for name, rows in run["methods"].items()
                },
            },
            "included": {
                stem: {key: run[key] for key in ("command", "git_revision")}
                for stem, run in included.items()
            },
        }
        record["large_sample_estimate"] = large_sample_estimate(record, args.model)
        write(record, args.out)


def finished_references(out: str, config: dict, model_sha256) -> tuple[dict, float]:
    """The reference methods already in benchmarks/results/<out>.json from a run
    with the same arguments, model, code revision and machine (a killed run
    started again goes on from there), and the seconds that run took; ({}, 0.0)
    when there is none."""
    path = RESULTS / f"{out}.json"
    if not path.exists():
        return {}, 0.0
    previous = json.loads(path.read_text())
    machine = describe_machine()
    same = (
        previous["config"] == config
        and previous["model_sha256"] == model_sha256
        and all(
            previous["machine"].get(k) == machine[k]
            for k in ("git_revision", "cpu", "gpu")
        )
    )
    if not same:
        return {}, 0.0
    done = dict(list(previous["methods"].items())[1:])  # the PFN is measured again
    print(f"resuming {path}: {', '.join(done) or 'no reference'} kept", flush=True)
    return done, previous["seconds_total"]


def included_methods(stem: str, config: dict, model_sha256, prior_sha256) -> dict:
    """The reference methods of the run in benchmarks/results/<stem>.json, with
    its command and revision; exits unless that run scored the same curves
    with the same chains on this CPU."""
    path = RESULTS / f"{stem}.json"
    if not path.exists():
        sys.exit(f"--include: {path} does not exist")
    run = json.loads(path.read_text())
    same = ("model", "n_curves", "seed", "n_chains")
    theirs = {
        **{key: run["config"][key] for key in same},
        "model_sha256": run["model_sha256"],
        "prior_sha256": run["prior_sha256"],
        "cpu": run["machine"]["cpu"],
    }
    ours = {
        **{key: config[key] for key in same},
        "model_sha256": model_sha256,
        "prior_sha256": prior_sha256,
        "cpu": describe_machine()["cpu"],
    }
    if theirs != ours:
        sys.exit(f"--include: {stem} scored other curves: {theirs} against {ours}")
    return {
        "command": run["command"],
        "git_revision": run["machine"]["git_revision"],
        "methods": dict(list(run["methods"].items())[1:]),  # without its PFN
    }


def write(record: dict, out: str) -> None:
    """The JSON, the markdown table and both plots under benchmarks/results/."""
    RESULTS.mkdir(exist_ok=True)
    stem = RESULTS / out
    stem.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n")
    stem.with_suffix(".md").write_text(_markdown(record))
    _plot_pit(record, RESULTS / f"{out}_pit.png")
    _plot_ll(record, RESULTS / f"{out}_ll.png")
    print(_markdown(record))


def _row(label: str, rows: dict, fmt) -> str:
    return f"| {label} | " + " | ".join(fmt(r) for r in rows.values()) + " |"


def _cost_ratio(label: str, rows: dict, baseline: dict, kind: str, fmt: str) -> str:
    """A table row: each cutoff's seconds per curve over the baseline's
    ``seconds_per_curve<kind>``, formatted with ``fmt``."""
    ratios = [
        rows[k]["seconds_per_curve"] / baseline[k][f"seconds_per_curve{kind}"]
        for k in rows
    ]
    return (
        f"| {label}: cost ratio | "
        + " | ".join(format(x, fmt) + "x" for x in ratios)
        + " |"
    )


INCLUDED = "†"  # marks a method of an earlier run (--include)


def _particles(name: str) -> int:
    """The particles per run of an SMC method's name, "SMC 4x1000" -> 1000,
    "SMC 4x250 (max 1000)" -> 250."""
    return int(name.split()[1].split("x")[1])


def _agreement(label: str, rows: dict, reference: str, reference_rows: dict) -> str:
    """A table row: per cutoff, the mean and largest absolute difference of the
    curves' LL to the reference's, and how many curves differ by > 0.05 nats."""
    cells = []
    for k in rows:
        diff = np.abs(
            np.subtract(
                rows[k]["per_curve_log_likelihood"],
                reference_rows[k]["per_curve_log_likelihood"],
            )
        )
        cells.append(f"{diff.mean():.3f} / {diff.max():.3f} ({(diff > 0.05).sum()})")
    return (
        f"| {label}: abs LL difference to {reference} per curve, mean / max "
        "(curves > 0.05) | " + " | ".join(cells) + " |"
    )


def _markdown(r: dict) -> str:
    c, m, fit = r["config"], r["machine"], r["fit_mcmc_settings"]
    methods = r["methods"]
    pfn_name = next(iter(methods))
    pfn = methods[pfn_name]
    lines = [
        "# PFN against MCMC on prior curves",
        "",
        f"`{r['command']}` at revision {m['git_revision']}; {m['cpu']}, "
        f"{m['cpu_count']} cores, {r['seconds_total']:.0f} s in all.",
        "",
        f"{c['n_curves']} fresh curves from prior `{r['prior']}` (seed {c['seed']}), "
        f"the same for every method; MCMC: {c['n_chains']} chains, NUTS "
        f"({'dense' if fit['dense_mass'] else 'diagonal'} mass matrix, target "
        f"acceptance {fit['target_accept_prob']})"
        + (
            f", or {c['n_chains']} runs of tempered SMC ("
            + ", ".join(f"{k}={v}" for k, v in r["fit_smc_settings"].items())
            + ")"
            if c.get("smc_particles")
            else ""
        )
        + f", batches of {c['batch_size']} curves. Log-likelihood of the noisy "
        "unseen values, mean over curves and steps, [95 % bootstrap interval over "
        "curves].",
        *(
            f"Methods marked {INCLUDED} are those of `{run['command']}` at revision "
            f"{run['git_revision']} (`{stem}.md`: its settings and timing), as "
            "measured there."
            for stem, run in r.get("included", {}).items()
        ),
        "",
        "| method | " + " | ".join(f"{k} observed" for k in pfn) + " |",
        "|---|" + "---:|" * len(pfn),
    ]
    for name, rows in methods.items():
        lines.append(
            _row(
                f"{name}: mean LL",
                rows,
                lambda v: (
                    f"{v['mean_log_likelihood']:.3f} "
                    f"[{v['log_likelihood_ci95'][0]:.3f}, "
                    f"{v['log_likelihood_ci95'][1]:.3f}]"
                ),
            )
        )
    lines.append(
        "| MCMC (paper, 10,000 curves) | "
        + " | ".join(f"{v:.3f}" for v in r["paper_mcmc_mean_log_likelihood"].values())
        + " |"
    )
    for name, rows in list(methods.items())[1:]:
        lines.append(
            _row(
                f"PFN - {name}: LL",
                rows,
                lambda v: (
                    f"{v['pfn_minus_mcmc_ll']:+.3f} "
                    f"[{v['pfn_minus_mcmc_ll_ci95'][0]:+.3f}, "
                    f"{v['pfn_minus_mcmc_ll_ci95'][1]:+.3f}]"
                ),
            )
        )
    for name, rows in methods.items():
        lines.append(
            _row(f"{name}: MSE of median", rows, lambda v: f"{v['mse_median']:.2e}")
        )
    for name, rows in methods.items():
        lines.append(
            _row(f"{name}: 90 % coverage", rows, lambda v: f"{v['coverage_90']:.3f}")
        )
    lines.append(
        _row(
            f"{pfn_name}: s/curve, one at a time",
            pfn,
            lambda v: f"{v['seconds_per_curve_one']:.4f}",
        )
    )
    lines.append(
        _row(
            f"{pfn_name}: s/curve, batched ({c.get('pfn_batch', c['n_curves'])} "
            "curves per call)",
            pfn,
            lambda v: f"{v['seconds_per_curve_batched']:.6f}",
        )
    )
    references = list(methods.items())[1:]
    for name, rows in references:
        lines.append(
            _row(f"{name}: s/curve", rows, lambda v: f"{v['seconds_per_curve']:.2f}")
        )
        lines.append(
            _cost_ratio(f"{name} / PFN one at a time", rows, pfn, "_one", ",.0f")
        )
        lines.append(
            _cost_ratio(f"{name} / PFN batched", rows, pfn, "_batched", ",.0f")
        )
    for name, rows in references:
        for other, other_rows in references:
            if name.startswith("SMC") and other.startswith("MCMC"):
                lines.append(
                    _cost_ratio(f"{name} / {other}", rows, other_rows, "", ".2f")
                )
    smc = [(n, rows) for n, rows in references if n.startswith("SMC")]
    if smc:
        largest, reference_rows = max(smc, key=lambda item: _particles(item[0]))
        for name, rows in references:
            if name != largest:
                lines.append(_agreement(name, rows, largest, reference_rows))
    est = r.get("large_sample_estimate")
    if est and est["methods"]:
        lines += [
            "",
            f"Estimated on {est['n_curves']:,} curves (the PFN's mean LL from "
            f"`{est['source']}` minus the paired difference above; the "
            f"subsample's offset cancels), to compare with the paper:",
            "",
            "| method | " + " | ".join(pfn) + " |",
            "|---|" + "---:|" * len(pfn),
        ]
        for name, rows in est["methods"].items():
            lines.append(
                _row(
                    f"{name}: mean LL, 10,000-curve estimate",
                    rows,
                    lambda v: (
                        f"{v['mcmc_estimate']:.3f} "
                        f"[{v['mcmc_estimate_ci95'][0]:.3f}, "
                        f"{v['mcmc_estimate_ci95'][1]:.3f}]"
                    ),
                )
            )
        first = next(iter(est["methods"].values()))
        lines.append(
            _row(
                f"{pfn_name}: mean LL, measured",
                first,
                lambda v: f"{v['pfn_large_sample']:.3f}",
            )
        )
        lines.append(
            "| MCMC (paper) | "
            + " | ".join(
                f"{v:.3f}" for v in r["paper_mcmc_mean_log_likelihood"].values()
            )
            + " |"
        )
    lines += [
        "",
        "MCMC diagnostics (curves of "
        f"{c['n_curves']}; none excluded from the table above):",
        "",
        "| budget, cutoff | converged | r_hat > 1.01 (all params) "
        "| r_hat(f(100)) > 1.01 | "
        "bulk ESS < 100/chain | with divergences | max r_hat | divergences | "
        "boundary rejections | max sd of log evidence (SMC) | min final ESS (SMC) "
        "| max MCSE of LL | sampled again (SMC) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, rows in list(methods.items())[1:]:
        for k, v in rows.items():
            lines.append(
                f"| {name}, {k} | {v.get('curves_converged', '-')} | "
                f"{v['curves_r_hat_over_1_01']} | "
                f"{v['curves_r_hat_f_last_over_1_01']} | "
                f"{v['curves_ess_bulk_under_100_per_chain']} | "
                f"{v['curves_with_divergences']} | {v['r_hat_max']:.3f} | "
                f"{v['n_divergences']} | {v['boundary_rejection_rate']:.2%} | "
                f"{v.get('log_evidence_sd_max', np.nan):.2f} | "
                f"{v.get('final_ess_min', np.nan):.0f} | "
                f"{v.get('ll_mcse_max', np.nan):.3f} | "
                f"{v.get('curves_sampled_again', '-')} |"
            )
    lines += [
        "",
        "Timing: the PFN's time is `predict` (the forward pass); MCMC's is "
        "sampling (compilation excluded, "
        + ", ".join(
            f"{name}: {sum(v['compile_seconds'] for v in rows.values()):.0f} s "
            "over the cutoffs"
            for name, rows in list(methods.items())[1:]
        )
        + "); neither includes computing quantiles. PIT histograms and the "
        "log-likelihood against the cutoff are in the PNGs beside this file.",
        "",
    ]
    return "\n".join(lines)


def _plot_pit(r: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    methods = r["methods"]
    n_cut = len(CUTOFFS)
    fig, axes = plt.subplots(
        len(methods),
        n_cut,
        figsize=(3 * n_cut, 2.3 * len(methods)),
        sharey=True,
        squeeze=False,
    )
    for i, (name, rows) in enumerate(methods.items()):
        for ax, (k, v) in zip(axes[i], rows.items(), strict=True):
            ax.bar(
                np.arange(10) / 10 + 0.05,
                v["pit_histogram"],
                width=0.1,
                edgecolor="k",
                alpha=0.7,
            )
            ax.axhline(0.1, color="r", lw=1, ls="--")
            ax.set(xlim=(0, 1), title=f"{name}, {k}")
            ax.title.set_fontsize(8)
    fig.suptitle(
        f"PIT of unseen values, {r['config']['n_curves']} prior curves "
        "(flat = calibrated)"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _plot_ll(r: dict, path: Path) -> None:
    """Left: measured on the subsample. Right: the 10,000-curve estimates."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    est = r.get("large_sample_estimate") or {"methods": {}}
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for i, (name, rows) in enumerate(r["methods"].items()):
        mean = np.array([v["mean_log_likelihood"] for v in rows.values()])
        ci = np.array([v["log_likelihood_ci95"] for v in rows.values()]).T
        _errorbar(axes[0], i, mean, ci, name)
        if name in est["methods"]:
            e = est["methods"][name].values()
            mean = np.array([v["mcmc_estimate"] for v in e])
            ci = np.array([v["mcmc_estimate_ci95"] for v in e]).T
            _errorbar(axes[1], i, mean, ci, f"{name} (estimate)")
        elif est["methods"]:
            pfn = [
                v["pfn_large_sample"]
                for v in next(iter(est["methods"].values())).values()
            ]
            axes[1].plot(
                CUTOFFS, pfn, marker="o", color=f"C{i}", label=f"{name} (measured)"
            )
    for ax in axes:
        ax.plot(CUTOFFS, PAPER_MCMC, "k--", marker="x", label="MCMC (paper)")
        ax.set(xlabel="% of the curve observed", xticks=CUTOFFS)
        ax.legend(fontsize=8)
    axes[0].set_ylabel("mean log-likelihood")
    axes[0].set_title(
        f"{r['config']['n_curves']} prior curves, 95 % bootstrap intervals", fontsize=9
    )
    axes[1].set_title(
        "10,000-curve estimates (PFN measured - paired difference)", fontsize=9
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _errorbar(ax, i: int, mean: np.ndarray, ci: np.ndarray, label: str) -> None:
    """Means with interval bars, shifted sideways by method index ``i``."""
    x = np.array(CUTOFFS) + (i - 1) * 0.8
    ax.errorbar(
        x,
        mean,
        yerr=[mean - ci[0], ci[1] - mean],
        marker="o",
        capsize=3,
        color=f"C{i}",
        label=label,
    )


if __name__ == "__main__":
    main()
