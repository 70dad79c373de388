"""Model-card measurements: the prior-accuracy protocol, latency, ``lcpfn bench``."""

import json

import numpy as np
import pytest

import lcpfn
from lcpfn.cli import main
from lcpfn.errors import InputError
from lcpfn.evaluation.bench import (
    CUTOFFS,
    STRATA,
    median_seconds,
    noise_strata,
    one_curve_latency,
    prior_accuracy,
)


@pytest.mark.parametrize("name", ["default", "v1"])
def test_shipped_card_figures_reproduce_on_a_subsample(name):
    # v1 is the previous default, kept loadable: its card predates the
    # scale-aware inputs, so this also checks that it loads as it was trained
    model = lcpfn.load(name)
    card = next(
        v for k, v in model.card["benchmarks"].items() if k.startswith("prior_acc")
    )
    result = prior_accuracy(model, 400)
    for cutoff, row in result.summary.items():
        # the card's mean is over 10,000 curves (s.e. ~0.008); 400 curves of the
        # same protocol land within 4 of their own standard errors of it. A card
        # from other weights, another prior or another scoring misses by more
        # (the 10 % and 80 % figures differ by 0.73)
        gap = row["mean_log_likelihood"] - card[cutoff]["mean_log_likelihood"]
        assert abs(gap) < 4 * row["log_likelihood_se"], (cutoff, gap)


def test_chunking_and_seed_do_what_they_say(tiny):
    a = prior_accuracy(tiny, 30, chunk=7)
    b = prior_accuracy(tiny, 30, chunk=30)
    c = prior_accuracy(tiny, 30, chunk=30, seed=1)
    # the network runs in float32, and a chunk's shape may change the order of
    # its sums (seen: 2e-9 relative on an AVX2 CPU); a curve dropped, doubled
    # or scored against another's values moves these means by far more
    for cutoff in a.summary:
        for key, value in a.summary[cutoff].items():
            assert value == pytest.approx(b.summary[cutoff][key], rel=1e-6)
    assert a.summary != c.summary  # other curves
    for cutoff, row in a.summary.items():
        assert 0 <= row["coverage_90"] <= 1 and np.isfinite(row["log_likelihood_se"])
        assert sum(a.pit_histogram[cutoff]) == pytest.approx(1.0)
    assert list(a.summary) == [f"{c}%" for c in CUTOFFS]


def test_noise_strata_pool_their_bins(tiny):
    """The pooled strata ("< -5", "all") are the share-weighted means of the
    disjoint bins they cover (to float rounding), and the bins' shares add to 1;
    a pooled column computed over the wrong curves breaks both."""
    result = noise_strata(tiny, 300, chunk=64)
    bins = ["< -6", "-6..-5", "-5..-4", "-4..-3", "> -3"]
    assert list(STRATA)[:5] == bins
    for row in result.table.values():
        present = [b for b in bins if b in row]
        assert sum(row[b]["share"] for b in present) == pytest.approx(1.0)
        for pooled, covered in (("< -5", ["< -6", "-6..-5"]), ("all", present)):
            covered = [b for b in covered if b in row]
            share = sum(row[b]["share"] for b in covered)
            assert row[pooled]["share"] == pytest.approx(share)
            for key in ("pfn_log_likelihood", "oracle_log_likelihood"):
                mean = sum(row[b]["share"] * row[b][key] for b in covered) / share
                assert row[pooled][key] == pytest.approx(mean, rel=1e-9)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"n_curves": 0}, "n_curves"),
        ({"n_curves": 2.5}, "n_curves"),
        ({"n_curves": 5, "chunk": 0}, "chunk"),
        ({"n_curves": 5, "cutoffs": (0, 50)}, "cutoffs"),
        ({"n_curves": 5, "cutoffs": (100,)}, "cutoffs"),
    ],
)
def test_prior_accuracy_refuses_bad_arguments(tiny, kwargs, name):
    with pytest.raises(InputError, match=name):
        prior_accuracy(tiny, **kwargs)


def test_latency_is_a_median_of_real_calls(tiny):
    calls = []
    assert median_seconds(lambda: calls.append(1), 5, "cpu") >= 0
    assert len(calls) == 6  # one warm-up + 5 timed
    with pytest.raises(InputError, match="repeats"):
        median_seconds(lambda: None, 0, "cpu")
    ms = one_curve_latency(tiny, 3)
    assert ms["one_curve_network_ms"] > 0 and 0 < ms["one_curve_ms"] < 10_000


def test_bench_command_prints_and_writes_the_figures(tiny_model_path, tmp_path, capsys):
    out = tmp_path / "bench.json"
    argv = ["bench", "--model", str(tiny_model_path), "--n-curves", "20"]
    code = main([*argv, "--repeats", "2", "--out", str(out)])
    printed = capsys.readouterr().out
    record = json.loads(out.read_text())
    assert code == 0 and printed.count("%  ") == 4
    assert set(record["summary"]) == {f"{c}%" for c in CUTOFFS} | {
        "one_curve_ms",
        "one_curve_network_ms",
    }
    direct = prior_accuracy(lcpfn.load(tiny_model_path), 20)
    assert record["summary"]["10%"] == pytest.approx(direct.summary["10%"])
    assert main([*argv[:3], "--n-curves", "1"]) == 2
    assert "--n-curves must be >= 2" in capsys.readouterr().err
