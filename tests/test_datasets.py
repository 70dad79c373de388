"""Loaders of the real-curve files: drop reasons, steps, transforms, splits."""

import os
from pathlib import Path

import numpy as np
import pytest

from lcpfn import transforms as tr
from lcpfn.errors import InputError
from lcpfn.evaluation import datasets as ds

# the real files: $LCPFN_DATA_DIR, else the shared folder beside the repository
DATA_DIR = Path(
    os.environ.get(
        "LCPFN_DATA_DIR", Path(__file__).resolve().parents[1].parent / "shared/data"
    )
)
needs_data = pytest.mark.skipif(
    not (DATA_DIR / ds.TASKSET_FILE).is_file(), reason=f"no real data in {DATA_DIR}"
)


def _write_taskset(folder: Path) -> None:
    """Five curves of 1 + 10 columns: fine, NaN, huge, non-positive start, fine."""
    loss = np.tile(np.linspace(0.7, 0.3, 11), (5, 1))
    loss[1, 4:] = np.nan
    loss[2, 6] = 1e30
    loss[3, 0] = 0.0
    loss[4] *= 2.0
    np.savez(
        folder / ds.TASKSET_FILE,
        valid_loss=loss.astype(np.float32),
        task=np.array(["a", "a", "b", "b", "b"]),
        config_id=np.arange(5, dtype=np.int32),
    )


def _write_lcdb11(folder: Path) -> None:
    """Four curves on a 5-anchor grid: full, gappy, empty, single value."""
    err = np.full((4, 5), np.nan)
    err[0] = [0.5, 0.4, 0.3, 0.25, 0.2]
    err[1, [1, 2, 4]] = [0.6, 0.5, 0.3]
    err[3, 0] = 0.1
    np.savez(
        folder / ds.LCDB11_FILE,
        valid_error_mean=err.astype(np.float32),
        anchor=np.ceil(16 * 2 ** (np.arange(5) / 8)).astype(np.int32),
        openmlid=np.array([3, 3, 6, 6]),
        dataset_name=np.array(["kr", "kr", "letter", "letter"]),
        learner=np.array(["svm", "knn", "svm", "knn"]),
    )


def test_taskset_drops_each_bad_row_once_under_its_reason(tmp_path):
    _write_taskset(tmp_path)
    curves = ds.load_taskset(tmp_path)
    assert curves.dropped == {"non_finite": 1, "no_initial_loss": 1, "diverged": 1}
    assert curves.n_source == 5 and curves.n_curves == 2
    assert curves.rows.tolist() == [0, 4]
    assert curves.y.shape == (2, 10) and curves.t.tolist() == list(range(1, 11))
    assert curves.horizon == 10.0
    # the soft upper bound is each curve's loss before training (column 0)
    np.testing.assert_allclose(curves.transform.soft_upper, [0.7, 1.4], rtol=1e-6)
    assert curves.transform.minimize and curves.transform.n_curves() == 2
    np.testing.assert_allclose(curves.y[1], 2 * np.linspace(0.7, 0.3, 11)[1:], 1e-6)


def test_taskset_divergence_threshold_is_a_parameter(tmp_path):
    _write_taskset(tmp_path)
    assert ds.load_taskset(tmp_path, max_loss_ratio=1e31).dropped["diverged"] == 0
    with pytest.raises(InputError, match="max_loss_ratio"):
        ds.load_taskset(tmp_path, max_loss_ratio=0.5)


def test_lcdb11_keeps_gaps_as_unobserved_and_counts_them(tmp_path):
    _write_lcdb11(tmp_path)
    curves = ds.load_lcdb11(tmp_path)
    assert curves.dropped == {"empty": 1, "too_short": 1, "out_of_range": 0}
    assert curves.n_curves == 2 and curves.n_with_gaps == 1
    assert curves.task.tolist() == ["3:kr", "3:kr"]
    assert curves.config.tolist() == ["svm", "knn"]
    # t = 1 + 8 log2(n / 16): the true sizes 16, 18, 20, 21, 23
    expected = 1 + 8 * np.log2(np.array([16, 18, 20, 21, 23]) / 16)
    np.testing.assert_allclose(curves.t, expected)
    assert curves.horizon == pytest.approx(expected[-1])
    assert isinstance(curves.transform, tr.Linear) and curves.transform.minimize


def test_split_at_fraction_cuts_prefix_and_packs_continuation(tmp_path):
    _write_lcdb11(tmp_path)
    curves = ds.load_lcdb11(tmp_path)
    split = ds.split_at_fraction(curves, 0.4)  # floor(0.4 * 5) = 2, floor(1.2) = 1
    assert split.n_observed.tolist() == [2, 1] and split.n_excluded == 0
    assert split.y_obs.shape == (2, 2)  # the gappy curve's first value is column 1
    np.testing.assert_allclose(split.y_obs[0], [0.5, 0.4], rtol=1e-6)
    assert np.isnan(split.y_obs[1, 0])
    np.testing.assert_allclose(split.y_true[0], [0.3, 0.25, 0.2], rtol=1e-6)
    np.testing.assert_allclose(split.y_true[1, :2], [0.5, 0.3], rtol=1e-6)
    assert np.isnan(split.y_true[1, 2])
    # padded query slots repeat the last real step and stay finite
    assert split.t_query[1, 2] == split.t_query[1, 1] == curves.t[4]
    assert split.t_obs.shape == (2,)


def test_split_values_partition_each_curve(tmp_path):
    _write_taskset(tmp_path)
    curves = ds.load_taskset(tmp_path, max_loss_ratio=1e31)
    for cutoff in ds.CUTOFFS:
        split = ds.split_at_fraction(curves, cutoff)
        n_obs = int(np.floor(cutoff * 10 + 1e-9)) or 1
        assert (split.n_observed == n_obs).all()
        joined = np.concatenate([split.y_obs, split.y_true], axis=1)
        np.testing.assert_array_equal(joined, curves.y)
        np.testing.assert_array_equal(split.t_query[0], np.arange(n_obs + 1, 11.0))


def test_split_at_count_excludes_short_curves_and_slices_transform(tmp_path):
    _write_taskset(tmp_path)
    curves = ds.load_taskset(tmp_path, max_loss_ratio=1e31)
    short = curves.subset(np.array([True, False, True]))
    assert short.transform.n_curves() == 2
    split = ds.split_at_count(short, 9)
    assert split.y_obs.shape == (2, 9) and split.y_true.shape == (2, 1)
    with pytest.raises(InputError, match="no curve"):
        ds.split_at_count(short, 10)
    np.testing.assert_array_equal(
        split.transform.soft_upper, curves.transform.soft_upper[[0, 2]]
    )


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda d: ds.load_taskset(d, split="dev"), "split"),
        (lambda d: ds.load_curves("lcbench", d), "name"),
        (lambda d: ds.split_at_fraction(ds.load_taskset(d), 1.0), "cutoff"),
        (lambda d: ds.split_at_count(ds.load_taskset(d), 0), "n_observed"),
    ],
)
def test_bad_arguments_are_named(tmp_path, call, match):
    _write_taskset(tmp_path)
    with pytest.raises(InputError, match=match):
        call(tmp_path)


def test_missing_file_names_the_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match=ds.LCDB_FILE):
        ds.load_lcdb(tmp_path)


# ---- the real files -------------------------------------------------------------


@needs_data
def test_real_taskset_counts_and_round_trip():
    curves = ds.load_taskset(DATA_DIR)
    assert curves.n_source == 12_000
    assert curves.dropped == {"non_finite": 917, "no_initial_loss": 0, "diverged": 614}
    assert curves.n_curves == 12_000 - 917 - 614 == curves.y.shape[0]
    assert np.isfinite(curves.y).all() and curves.horizon == 50.0
    assert len(np.unique(curves.task)) == 12
    z = curves.transform.forward(curves.y)
    assert ((z > 0) & (z < 1)).all()
    np.testing.assert_allclose(curves.transform.inverse(z), curves.y, rtol=1e-9)


@needs_data
def test_real_lcdb_counts_and_log_size_steps():
    curves = ds.load_lcdb(DATA_DIR)
    assert curves.n_source == 21_691
    assert curves.dropped == {"empty": 0, "too_short": 2, "out_of_range": 0}
    assert curves.n_curves == 21_689 and curves.t.shape == curves.y.shape
    has = ~np.isnan(curves.y)
    assert np.isfinite(curves.t[has]).all()
    both = has[:, 1:] & has[:, :-1]
    assert (np.diff(curves.t, axis=1)[both] > 0).all()  # increasing per curve
    assert curves.horizon == pytest.approx(1 + 2 * np.log2(2_205_023 / 16))
    assert curves.t[0, 0] == 1.0 and curves.t[0, 2] == pytest.approx(3.0)
    assert set(np.unique(curves.seed)) == {0, 1, 2, 3, 4}


@needs_data
def test_real_lcdb11_counts():
    curves = ds.load_lcdb11(DATA_DIR)
    assert curves.n_source == 7_420
    assert curves.dropped == {"empty": 216, "too_short": 0, "out_of_range": 0}
    assert curves.n_curves == 7_204 and curves.n_with_gaps == 47
    assert curves.horizon == 137.0 and curves.t.shape == (137,)


@needs_data
def test_real_split_feeds_the_baselines():
    from lcpfn.evaluation.baselines import LastValue

    curves = ds.load_lcdb(DATA_DIR).subset(np.arange(0, 20_000, 500))
    split = ds.split_at_fraction(curves, 0.2)
    pred = LastValue().predict(
        split.y_obs,
        split.t_obs,
        split.t_query,
        horizon=split.horizon,
        transform=split.transform,
    )
    assert pred.median().shape == split.y_true.shape
    assert np.isfinite(pred.log_prob(np.nan_to_num(split.y_true, nan=0.5))).all()
