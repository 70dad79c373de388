"""Prior specs: the shipped files hold the published values; bad files say why."""

import math

import numpy as np
import pytest
import torch

import lcpfn
from lcpfn.errors import PriorSpecError
from lcpfn.prior.spec import ParamDist

GOOD = """
name = "tiny"
[noise]
log_sigma = { dist = "normal", mu = -4.0, sigma = 1.0 }
[weights]
prior = { dist = "uniform", low = 0.0, high = 1.0 }
[constraints]
increasing = true
y_min = 0.0
y_max = 1.0
[families.pow3]
c = { dist = "uniform", low = 0.0, high = 1.25 }
a = { dist = "uniform", low = -0.6, high = 0.6 }
alpha = { dist = "lognormal", mu = 0.0, sigma = 2.0 }
"""


def test_shipped_priors_are_listed_and_load():
    assert {"lcpfn", "domhan11"} <= set(lcpfn.priors.available())
    assert len(lcpfn.priors.load("domhan11").families) == 11


def test_lcpfn_prior_holds_the_paper_values(lcpfn_prior):
    p = lcpfn_prior
    assert [f.name for f in p.families] == ["pow3", "ilog2", "janoschek"]
    fam = {f.name: f.params for f in p.families}
    assert fam["pow3"]["c"] == ParamDist(dist="uniform", args=(0.0, 1.25))
    assert fam["pow3"]["a"] == ParamDist(dist="uniform", args=(-0.6, 0.6))
    assert fam["pow3"]["alpha"] == ParamDist(dist="lognormal", args=(0.0, 2.0))
    assert fam["ilog2"]["c"] == ParamDist(dist="uniform", args=(0.0, 1.0))
    assert fam["ilog2"]["a"] == ParamDist(dist="uniform", args=(-0.5, 0.5))
    assert fam["janoschek"]["alpha"] == ParamDist(dist="uniform", args=(0.0, 1.0))
    assert fam["janoschek"]["beta"] == ParamDist(dist="uniform", args=(0.0, 2.0))
    assert fam["janoschek"]["kappa"] == ParamDist(dist="lognormal", args=(-2.0, 1.0))
    assert fam["janoschek"]["delta"] == ParamDist(dist="lognormal", args=(0.0, 0.5))
    assert p.weight == ParamDist(dist="uniform", args=(0.0, 1.0))
    assert not p.normalize_weights
    assert p.log_sigma == ParamDist(dist="normal", args=(-4.0, 1.0))
    assert (p.increasing, p.y_min, p.y_max) == (True, 0.0, 1.0)


def test_load_from_path_and_hash(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(GOOD)
    a = lcpfn.priors.load(path)
    b = lcpfn.priors.load(str(path))
    assert a == b and a.hash() == b.hash()
    assert a.hash() != lcpfn.priors.load("lcpfn").hash()
    # the dict form round-trips through from_dict to the same prior
    assert lcpfn.priors.from_dict(a.to_dict()).hash() == a.hash()


@pytest.mark.parametrize(
    "old,new,match",
    [
        ("[families.pow3]", "[families.pow5]", r"families\.pow5: unknown curve family"),
        (
            'dist = "lognormal", mu = 0.0',
            'dist = "lognorm", mu = 0.0',
            r"families\.pow3\.alpha: unknown distribution 'lognorm'",
        ),
        (
            'alpha = { dist = "lognormal", mu = 0.0, sigma = 2.0 }',
            "",
            r"families\.pow3: parameters must be .* missing \['alpha'\]",
        ),
        ("c = {", "k = 1\nc = {", r"families\.pow3: .* unknown \['k'\]"),
        (
            "low = 0.0, high = 1.25",
            "low = 1.25, high = 0.0",
            r"families\.pow3\.c: .*low < high",
        ),
        (
            "mu = -4.0, sigma = 1.0",
            "mu = -4.0, sigma = 0.0",
            r"noise\.log_sigma: .*sigma > 0",
        ),
        (
            "mu = -4.0, sigma = 1.0",
            "mu = -4.0",
            r"noise\.log_sigma: .*missing \['sigma'\]",
        ),
        ("low = -0.6,", 'low = "x",', r"families\.pow3\.a\.low must be a number"),
        ("y_max = 1.0", "y_max = -1.0", r"y_min < y_max"),
        (
            "increasing = true",
            "increasing = 1",
            r"constraints\.increasing must be true or false",
        ),
        ('name = "tiny"', "", r"top level: missing keys \['name'\]"),
        ("[noise]", "colour = 3\n[noise]", r"unknown keys \['colour'\]"),
        ("y_max = 1.0", "y_max = 1.0 =", r"not valid TOML"),
    ],
)
def test_bad_spec_says_what_is_wrong(tmp_path, old, new, match):
    assert old in GOOD
    path = tmp_path / "bad.toml"
    path.write_text(GOOD.replace(old, new, 1))
    with pytest.raises(PriorSpecError, match=match) as info:
        lcpfn.priors.load(path)
    assert str(path) in str(info.value)  # the message names the file
    assert isinstance(info.value, ValueError)


def test_missing_file_and_unknown_name(tmp_path):
    with pytest.raises(PriorSpecError, match="cannot read"):
        lcpfn.priors.load(tmp_path / "nope.toml")
    with pytest.raises(PriorSpecError, match="no shipped prior named 'nope'"):
        lcpfn.priors.load("nope")


@pytest.mark.parametrize(
    "dist,mean,var",
    [
        (ParamDist(dist="uniform", args=(-1.0, 3.0)), 1.0, 16 / 12),
        (ParamDist(dist="normal", args=(0.5, 2.0)), 0.5, 4.0),
        # lognormal(mu, s): mean exp(mu + s^2/2), var (exp(s^2) - 1) exp(2mu + s^2)
        (
            ParamDist(dist="lognormal", args=(-2.0, 0.5)),
            math.exp(-1.875),
            (math.exp(0.25) - 1) * math.exp(-3.75),
        ),
        # log X ~ U(0, 1): mean e - 1, E[X^2] = (e^2 - 1) / 2
        (
            ParamDist(dist="loguniform", args=(0.0, 1.0)),
            math.e - 1,
            (math.e**2 - 1) / 2 - (math.e - 1) ** 2,
        ),
        # 1 - X with log X ~ U(-5, 0): mean 1 - (1 - e^-5) / 5
        (
            ParamDist(dist="loguniform", args=(-5.0, 0.0), shift=1.0, multiplier=-1.0),
            1 - (1 - math.exp(-5)) / 5,
            (1 - math.exp(-10)) / 10 - ((1 - math.exp(-5)) / 5) ** 2,
        ),
        (ParamDist(dist="constant", args=(0.25,)), 0.25, 0.0),
    ],
)
def test_param_dist_moments(dist, mean, var):
    n = 400_000
    x = dist.sample(n, torch.Generator().manual_seed(0)).double().numpy()
    assert x.shape == (n,)
    # the sample mean is within 5 standard errors (false alarm < 1e-6 per case)
    assert abs(x.mean() - mean) <= 5 * math.sqrt(var / n) + 1e-12
    assert np.var(x) == pytest.approx(var, rel=0.02, abs=1e-12)
