"""The coverage harness of issue 14: twin families with model error, band coverage, indicator bands.

The figures themselves (coverage per family, 600 s each) come from benchmarks/coverage.py;
here: the families carry the model error they say, the coverage arithmetic on a table whose
answer is known, the indicator bands against a direct weighted covariance, and bad input.
"""

import numpy as np
import pandas as pd
import pytest

from cardiosim.assimilation import ParameterSet, calibrate
from cardiosim.assimilation.calibrate import indicator_bands
from cardiosim.assimilation.coverage import FAMILIES, band_coverage, family, match_beats
from cardiosim.assimilation import kernels as AK
from cardiosim.assimilation.synthetic import ar1
from cardiosim.errors import ParameterError
from cardiosim.models.sphere import SphereModel


def test_ar1_noise_has_unit_variance_and_the_lag_one_correlation_asked():
    w = np.random.default_rng(1).standard_normal(400_000)
    x = ar1(w, 0.95)
    assert x[0] == w[0]
    assert np.std(x) == pytest.approx(1.0, abs=0.02)
    assert np.corrcoef(x[:-1], x[1:])[0, 1] == pytest.approx(0.95, abs=0.002)
    assert ar1(w, 0.0) is w


def test_families_carry_their_model_error():
    _, story = family("story", duration_s=40.0)
    _, drift = family("drift", duration_s=40.0)
    # drift: C0 x 1.3 at the end, linear from the start; the story's sigma0 untouched
    assert drift["C0"].iloc[0] == pytest.approx(story["C0"].iloc[0])
    frac = drift["t_s"].iloc[-1] / 40.0
    assert drift["C0"].iloc[-1] / drift["C0"].iloc[0] == pytest.approx(1 + 0.3 * frac, rel=1e-9)
    assert drift["Cd"].iloc[-1] / drift["Cd"].iloc[0] == pytest.approx(1 - 0.2 * frac, rel=1e-9)
    np.testing.assert_allclose(drift["sigma0"], story["sigma0"])
    # topology: a three-element Windkessel, so no Rd in the truth, but R and the same heart
    _, wk3 = family("topology", duration_s=40.0)
    assert "Rd" not in wk3 and "R" in wk3 and "Zc" in wk3
    np.testing.assert_allclose(wk3["sigma0"], story["sigma0"])
    # coloured noise with wander: the record differs from the story's, the truth does not
    rec_s, _ = family("story", duration_s=40.0)
    rec_n, noise = family("noise", duration_s=40.0)
    pd.testing.assert_frame_equal(noise, story)
    ch = rec_n.channel("ABP")
    d = (np.asarray(ch.values) - np.asarray(rec_s.channel("ABP").values)) / 133.322387415
    ok = np.isfinite(d)
    wave = np.sin(2 * np.pi * ch.times_s / 40.0)
    amp = float(np.sum(d[ok] * wave[ok]) / np.sum(wave[ok] ** 2))
    assert amp == pytest.approx(3.0, abs=0.1)                        # the 3 mmHg wander
    # what is left is the AR(1) noise x minus the white noise w it was made from (the same
    # draws): var(x - w) = 2 - 2 cov(x, w) = 2 - 2 sqrt(1 - 0.95^2), 1 mmHg sd each
    r = d[ok] - amp * wave[ok]
    assert np.std(r) == pytest.approx(np.sqrt(2 - 2 * np.sqrt(1 - 0.95 ** 2)), rel=0.05)


def _table(n=100):
    t = np.arange(n, dtype=float)
    return pd.DataFrame({"beat": np.arange(n), "t_s": t + 0.01, "observed": np.ones(n, bool)}), t


def test_band_coverage_counts_the_beats_whose_band_holds_the_truth():
    model = SphereModel()
    ps = ParameterSet.build(model, ["sigma0"], prior_sd=0.25)
    beats, t = _table()
    s0 = 100.0
    beats["sigma0"] = s0
    # sd_omega 0.1: band s0 2^(+-0.196) = [87.3, 114.5]; truth inside on 60 of the 80 beats
    beats["sigma0_sd"] = s0 * np.log(2) * 0.1
    truth = pd.DataFrame({"t_s": t, "sigma0": np.where(np.arange(100) % 5 == 0, 130.0, 95.0),
                          "SV_mL": 70.0, "CO_L_min": 5.0, "MAP_mmHg": 80.0})
    beats["SV_mL"], beats["CO_L_min"], beats["model_MAP_mmHg"] = 71.0, 5.0, 80.0
    beats["SV_mL_lo"], beats["SV_mL_hi"] = 70.5, 71.5   # never holds 70
    tab = band_coverage(beats, truth, ps, burn_in_beats=20).set_index("quantity")
    assert tab.loc["sigma0", "beats"] == 80
    assert tab.loc["sigma0", "coverage_pct"] == pytest.approx(100 * 64 / 80)
    assert tab.loc["sigma0", "mean_width"] == pytest.approx(s0 * (2 ** 0.196 - 2 ** -0.196), rel=1e-3)
    prior = float(ps.theta0[0]) / 1e3 * (2 ** (1.96 * 0.25) - 2 ** (-1.96 * 0.25))   # kPa
    assert tab.loc["sigma0", "width_over_prior"] == pytest.approx(s0 * (2 ** 0.196 - 2 ** -0.196) / prior,
                                                                  rel=1e-3)
    assert tab.loc["SV", "coverage_pct"] == 0.0 and tab.loc["SV", "rmse"] == pytest.approx(1.0)
    assert tab.loc["CO", "note"] == "no band in the calibration" and np.isnan(tab.loc["CO", "coverage_pct"])
    # a 50 % band is narrower: fewer beats inside
    half = band_coverage(beats, truth, ps, level=0.5, burn_in_beats=20).set_index("quantity")
    assert half.loc["sigma0", "mean_width"] < tab.loc["sigma0", "mean_width"]


def test_beats_are_matched_to_the_nearest_truth_beat():
    assert match_beats(np.array([0.4, 0.6, 2.9, 10.0]), np.array([0.0, 1.0, 2.0, 3.0])).tolist() == [0, 1, 3, 3]


def test_indicator_bands_are_the_weighted_spread_of_the_members():
    rng = np.random.default_rng(3)
    n, m = 4, 5
    S = np.zeros((n, m, AK.N_SUMMARY))
    S[..., AK.B_VMAX] = 120e-6 + 5e-6 * rng.standard_normal((n, m))
    S[..., AK.B_VMIN] = 50e-6 + 3e-6 * rng.standard_normal((n, m))
    S[..., AK.B_PES] = 13000.0 + 500 * rng.standard_normal((n, m))
    S[..., AK.B_PMEAN] = 12000.0 + 400 * rng.standard_normal((n, m))
    w = np.full(m, 1.0 / m)
    rr = np.full(n, 0.8)
    table = {"SV_mL": np.full(n, 70.0), "CO_L_min": np.full(n, 5.0), "EF": np.full(n, 0.6),
             "Ea_Ees": np.full(n, 1.0), "model_MAP_mmHg": np.full(n, 90.0)}
    bands = {c: (lo, hi) for c, lo, hi in indicator_bands(S, (w, w), rr, 10e-6, table)}
    sv = (S[..., AK.B_VMAX] - S[..., AK.B_VMIN]) * 1e6
    sd = np.sqrt(np.average((sv - sv.mean(axis=1, keepdims=True)) ** 2, axis=1, weights=w))
    np.testing.assert_allclose(bands["SV_mL"][1] - bands["SV_mL"][0], 2 * 1.96 * sd, rtol=1e-12)
    np.testing.assert_allclose(bands["SV_mL"][0] + bands["SV_mL"][1], 2 * 70.0)
    mp = S[..., AK.B_PMEAN] / 133.322387415
    np.testing.assert_allclose(bands["model_MAP_mmHg"][1] - 90.0, 1.96 * mp.std(axis=1), rtol=1e-9)


def test_calibration_writes_bands_on_the_indicators(tmp_path):
    rec, _ = family("story", duration_s=60.0)
    cal = calibrate(rec, reference="CO=5.9@20")
    b = cal.beats
    for col in ("SV_mL", "CO_L_min", "EF", "Ea_Ees", "model_MAP_mmHg"):
        lo, v, hi = b[f"{col}_lo"], b[col], b[f"{col}_hi"]
        assert (lo <= v).all() and (v <= hi).all() and (hi > lo).all(), col
    # the flow scale is an exact similarity: the SV band scales with the SV, EF's does not move
    b0 = calibrate(rec).beats
    np.testing.assert_allclose(b["SV_mL_hi"], cal.scale.k * b0["SV_mL_hi"], rtol=1e-5)
    np.testing.assert_allclose(b["EF_lo"], b0["EF_lo"], rtol=1e-5)
    cal.write(tmp_path)
    csv = pd.read_csv(tmp_path / "calibration.csv")
    assert {"SV_mL_lo", "SV_mL_hi", "EF_lo", "model_MAP_mmHg_hi"} <= set(csv.columns)


def test_bad_input_names_the_family_and_the_level():
    with pytest.raises(ParameterError, match="unknown twin family 'nope'; the families are story"):
        family("nope")
    beats, t = _table()
    ps = ParameterSet.build(SphereModel(), ["sigma0"])
    for level in (0.0, 1.0, 1.5, -0.1):
        with pytest.raises(ParameterError, match="band level must be in \\(0, 1\\)"):
            band_coverage(beats, pd.DataFrame({"t_s": t}), ps, level=level)
    assert set(FAMILIES) == {"story", "drift", "topology", "line", "noise"}
