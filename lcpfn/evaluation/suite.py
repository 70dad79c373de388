"""The real-curve benchmark suite behind ``lcpfn evaluate``.

For each benchmark file of ``shared/data`` (``lcpfn.evaluation.datasets``) it draws a
seeded subsample of curves, scores every method (the PFN models given, the
last value, least-squares pow3 / pow4 / MMF fits) at each split with
``lcpfn.evaluation``, scores MCMC on the PFN's prior on a smaller subsample
of those curves (with all the other methods again, so ranks compare like
with like), and writes ``real_curves.md``, ``real_curves.json`` and figures.

Splits: 10/20/40/80 % of each curve's values for every benchmark (the
paper's cutoffs), and for LCDB also fixed numbers of observed anchors
(``COUNT_SPLITS``).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lcpfn.evaluation import datasets, report
from lcpfn.evaluation.baselines import LastValue, ParametricFit
from lcpfn.evaluation.scoring import (
    Evaluation,
    Split,
    SummaryRow,
    evaluate,
    fraction_splits,
    summarize,
)
from lcpfn.mcmc.baseline import McmcBaseline
from lcpfn.predict import load

__all__ = ["COUNT_SPLITS", "SuiteConfig", "run_suite", "subsample"]

COUNT_SPLITS = {  # observed anchors; LCDB 1.0 has 2 anchors per octave, 1.1 has 8
    "taskset": (),
    "lcdb": (2, 4, 8),
    "lcdb11": (4, 8, 16, 32),
}
LAST_VALUE = "last value"


@dataclass(frozen=True, kw_only=True)
class SuiteConfig:
    """What ``run_suite`` evaluates.

    Attributes:
        data_dir: folder with the benchmark files.
        benchmarks: names for ``lcpfn.evaluation.datasets.load_curves``.
        models: PFN models (shipped names or paths), each one method.
        n_curves: curves drawn per benchmark (0 = all).
        n_mcmc: of those, curves also scored with MCMC (0 = no MCMC).
        mcmc_chains, mcmc_warmup, mcmc_samples: the MCMC budget per curve.
        seed: subsample and MCMC seed.
        n_boot: bootstrap resamples for the intervals.
        device: where the PFNs run ("cpu", "cuda").
    """

    data_dir: str
    benchmarks: tuple[str, ...] = ("taskset", "lcdb", "lcdb11")
    models: tuple[str, ...] = ("default",)
    n_curves: int = 600
    n_mcmc: int = 16
    mcmc_chains: int = 2
    mcmc_warmup: int = 300
    mcmc_samples: int = 300
    seed: int = 0
    n_boot: int = 2000
    device: str = "cpu"


def run_suite(
    config: SuiteConfig, out_dir: str | Path, *, command: str, machine: dict
) -> Path:
    """Evaluate, and write the report into ``out_dir``; returns the markdown path.

    ``command`` (how the run was started) and ``machine`` (what it ran on)
    go into the report's header and JSON record.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    methods = _methods(config.models, config.device)
    pfn = next(iter(methods))
    sections, records = [], {}
    start = time.perf_counter()
    for name in config.benchmarks:
        curves = datasets.load_curves(name, config.data_dir)
        sample = subsample(curves, config.n_curves, config.seed)
        splits = fraction_splits() + tuple(
            Split("count", c) for c in COUNT_SPLITS[name]
        )
        main = evaluate(sample, methods, splits)
        rows = summarize(main, n_boot=config.n_boot, seed=config.seed)
        report.plot_metrics(
            rows,
            f"{curves.name}: {sample.n_curves} curves",
            str(out / f"real_curves_{name}.png"),
        )
        gallery = _gallery(main, methods, pfn, out / f"real_curves_gallery_{name}.png")
        mcmc_rows: list[SummaryRow] = []
        if config.n_mcmc:
            small = sample.subset(np.arange(min(config.n_mcmc, sample.n_curves)))
            with_mcmc = {
                **methods,
                "MCMC": McmcBaseline(
                    n_chains=config.mcmc_chains,
                    n_warmup=config.mcmc_warmup,
                    n_samples=config.mcmc_samples,
                    seed=config.seed,
                ),
            }
            mcmc_eval = evaluate(small, with_mcmc, fraction_splits())
            mcmc_rows = summarize(mcmc_eval, n_boot=config.n_boot, seed=config.seed)
        sections.append(_section(curves, sample, main, rows, mcmc_rows, pfn, gallery))
        records[name] = {
            "curves": sample.n_curves,
            "dropped": curves.dropped,
            "rows": [asdict(r) for r in rows],
            "mcmc_rows": [asdict(r) for r in mcmc_rows],
        }
    seconds = time.perf_counter() - start
    header = _header(config, command, machine, seconds)
    path = out / "real_curves.md"
    path.write_text(header + "\n".join(sections))
    (out / "real_curves.json").write_text(
        json.dumps(
            {
                "config": asdict(config),
                "command": command,
                "machine": machine,
                "seconds": seconds,
                "benchmarks": records,
            },
            indent=1,
        )
    )
    return path


# ---- internals ----------------------------------------------------------------


def _methods(models: tuple[str, ...], device: str) -> dict[str, Any]:
    pfns = {f"LC-PFN ({m})": load(m, device=device) for m in models}
    return {
        **pfns,
        LAST_VALUE: LastValue(),
        "pow3 fit": ParametricFit(family="pow3"),
        "pow4 fit": ParametricFit(family="pow4"),
        "MMF fit": ParametricFit(family="mmf"),
    }


def subsample(curves: datasets.CurveSet, n: int, seed: int) -> datasets.CurveSet:
    """``n`` curves drawn without replacement (all if n = 0 or n >= N), in a
    seeded random order (so a prefix is itself a random subsample)."""
    order = np.random.default_rng(seed).permutation(curves.n_curves)
    return curves.subset(order[: n or None])


def _gallery(evaluation: Evaluation, methods: dict, pfn: str, path: Path) -> str:
    """Draw the PFN's three worst curves against the last value at the 20 %
    split, its median curve and its best one; returns the markdown lines."""
    split = fraction_splits()[1].label
    worst = report.worst_curves(evaluation, pfn, LAST_VALUE, split, n=3)
    run = evaluation.run(pfn, split)
    ll = run.values("log_likelihood")
    order = np.argsort(ll)
    chosen = [*worst, run.index[order[ll.size // 2]], run.index[order[-1]]]
    kinds = ["worst vs last value"] * 3 + ["median LL", "best LL"]
    by_position = dict(zip(run.index.tolist(), ll.tolist(), strict=True))
    last = dict(
        zip(
            run.index.tolist(),
            evaluation.run(LAST_VALUE, split).values("log_likelihood").tolist(),
            strict=True,
        )
    )
    curves = evaluation.curves
    titles, lines = [], []
    for kind, p in zip(kinds, chosen, strict=True):
        what = f"{curves.task[p]} / {curves.config[p]}"
        titles.append(
            f"{kind}: {what}\nLL PFN {by_position[p]:.2f}, last value {last[p]:.2f}"
        )
        lines.append(f"| {kind} | {what} | {by_position[p]:.3f} | {last[p]:.3f} |")
    report.plot_gallery(evaluation, methods, split, chosen, titles, str(path), fan=pfn)
    return (
        f"Gallery at {split} observed (`{path.name}`): fan chart of {pfn}, dashed "
        "medians of the other methods, red dots the true continuation.\n\n"
        "| curve | task / config | LL PFN | LL last value |\n|---|---|---|---|\n"
        + "\n".join(lines)
        + "\n"
    )


def _section(
    curves: datasets.CurveSet,
    sample: datasets.CurveSet,
    main: Evaluation,
    rows: list[SummaryRow],
    mcmc_rows: list[SummaryRow],
    pfn: str,
    gallery: str,
) -> str:
    name = curves.name.split("/")[0]
    dropped = ", ".join(f"{k} {v}" for k, v in curves.dropped.items())
    text = [
        f"## {curves.name} ({curves.metric}, {curves.direction})\n",
        f"{curves.n_source} rows in the file; dropped: {dropped}; "
        f"{curves.n_curves} curves kept ({curves.n_with_gaps} with gaps, their "
        f"missing steps treated as unobserved). Evaluated: a random subsample of "
        f"{sample.n_curves} curves from {np.unique(sample.task).size} tasks. "
        f"Figure: `real_curves_{name}.png`.\n",
    ]
    for split in main.splits:
        excluded = main.n_excluded[split.label]
        text.append(
            f"### {split.label} ({excluded} curves with nothing left "
            "to predict excluded)\n"
        )
        text.append(report.markdown_table(rows, split.label))
        text.append(_verdict(main, rows, split.label, pfn))
    text.append("### Where the PFN loses\n")
    text.append(gallery)
    if mcmc_rows:
        n = mcmc_rows[0].n_curves
        text.append(f"### With MCMC on the first {n} curves of the subsample\n")
        for split in fraction_splits():
            text.append(f"#### {split.label}\n")
            text.append(report.markdown_table(mcmc_rows, split.label))
    return "\n".join(text) + "\n"


def _verdict(main: Evaluation, rows: list[SummaryRow], split: str, pfn: str) -> str:
    """Who ranks best in LL, and the PFN against the last value."""
    mine = [r for r in rows if r.split == split]
    best = min(mine, key=lambda r: r.ranks["log_likelihood"])
    ll = report.compare(main, pfn, best.method, split, "log_likelihood")
    mse = report.compare(main, pfn, LAST_VALUE, split, "squared_error")
    lines = [
        f"Best mean LL rank: **{best.method}** ({best.ranks['log_likelihood']:.2f})."
    ]
    if best.method != pfn:
        lines.append(
            f"{pfn} minus {best.method} in LL: {ll.difference:+.3f} "
            f"[{ll.ci[0]:+.3f}, {ll.ci[1]:+.3f}], better on {ll.tasks_better} of "
            f"{ll.n_tasks} tasks."
        )
    lines.append(
        f"{pfn} minus {LAST_VALUE} in MSE: {mse.difference:+.2e} "
        f"[{mse.ci[0]:+.2e}, {mse.ci[1]:+.2e}] (negative: the PFN is better), "
        f"better on {mse.tasks_better} of {mse.n_tasks} tasks."
    )
    return " ".join(lines) + "\n"


def _header(config: SuiteConfig, command: str, machine: dict, seconds: float) -> str:
    on = ", ".join(f"{k} {v}" for k, v in machine.items() if v is not None)
    mcmc = (
        f"MCMC (`lcpfn.mcmc`, NUTS on the PFN's prior, {config.mcmc_chains} chains x "
        f"({config.mcmc_warmup} warm-up + {config.mcmc_samples} draws)) on the "
        f"first {config.n_mcmc} curves of each subsample."
        if config.n_mcmc
        else "No MCMC."
    )
    return f"""# Real learning curves: how well each method extrapolates

`{command}`; {seconds / 60:.1f} min on {on}.

Methods: {", ".join(f"LC-PFN ({m})" for m in config.models)} (the shipped PFN),
the last observed value with random-walk intervals, least-squares pow3, pow4
and MMF fits with regression intervals (`lcpfn.evaluation.baselines`); {mcmc}
Subsample: {config.n_curves or "all"} curves per benchmark, seed {config.seed}.

Metrics, on the unseen rest of each curve in the metric's own units (the
transforms of `lcpfn.evaluation.datasets` map each metric into the prior's space and
back): mean log-likelihood (LL, higher is better), mean squared error of the
median (MSE), CRPS from 39 quantiles, and the coverage of the central 90 %
interval, each first averaged over a curve's unseen steps. In brackets: 95 %
bootstrap intervals resampling whole tasks ({config.n_boot} resamples; curves
of one task are not independent). Ranks: the LC-PFN paper's average rank
(methods ranked by their mean score on each task, ranks averaged over tasks;
1 = best). ms / curve: wall time of predicting and scoring, per curve, in
batches of 512. Status counts curves where a baseline fell back to the last
value (too few points, failed fit) or where MCMC did not converge
(r_hat > 1.01 or divergences); they are scored, not left out.

"""
