"""Tests for cardiosim.units: factors, parsing, conversion and error messages."""

import math

import numpy as np
import pytest

from cardiosim import units as u
from cardiosim.units import (
    CLINICAL_UNITS,
    UNITS,
    UnitError,
    bpm_to_period_s,
    convert,
    format_quantity,
    lookup_unit,
    parse_quantity,
)

EXACT = 1e-12  # conversions that are a product of exact factors
FOUR_SIG = 1e-4  # figures quoted to 4 significant figures


# --------------------------------------------------------------------- constants


def test_constants_values():
    assert u.MMHG == 133.322387415
    assert u.KPA == 1e3
    assert u.ML == 1e-6
    assert u.L == 1e-3
    assert u.MM == 1e-3
    assert u.CM == 1e-2
    assert u.MIN == 60.0
    assert u.MS == 1e-3
    for name in ("MMHG", "KPA", "ML", "L", "MM", "CM", "MIN", "MS"):
        assert type(getattr(u, name)) is float, name


def test_mmhg_definition_from_mercury_density():
    # 13595.1 kg/m^3 * 9.80665 m/s^2 * 1 mm
    assert u.MMHG == pytest.approx(13595.1 * 9.80665 * 1e-3, rel=EXACT)


def test_unit_error_is_value_error():
    assert issubclass(UnitError, ValueError)


# ------------------------------------------------------------------ converters


def test_one_mmhg_in_pa():
    assert u.mmhg_to_pa(1.0) == 133.322387415
    assert convert(1.0, "mmHg", "Pa") == 133.322387415
    assert parse_quantity("1 mmHg") == 133.322387415


def test_one_kpa_in_mmhg():
    assert u.pa_to_mmhg(1e3) == pytest.approx(7.5006, rel=FOUR_SIG)
    assert convert(1.0, "kPa", "mmHg") == pytest.approx(1e3 / 133.322387415, rel=EXACT)


def test_volume_converters():
    assert u.ml_to_m3(120.0) == pytest.approx(1.2e-4, rel=EXACT)
    assert u.m3_to_ml(1.2e-4) == pytest.approx(120.0, rel=EXACT)


def test_cardiac_output_converters():
    assert u.lpm_to_m3s(5.0) == pytest.approx(8.333333333e-5, rel=1e-9)
    assert u.lpm_to_m3s(5.0) == pytest.approx(8.333e-5, rel=FOUR_SIG)
    assert u.m3s_to_lpm(8.333333333333333e-5) == pytest.approx(5.0, rel=EXACT)
    assert u.m3s_to_mls(8.333333333333333e-5) == pytest.approx(83.33333333, rel=1e-9)
    assert convert(5.0, "L/min", "mL/s") == pytest.approx(83.33333333, rel=1e-9)


def test_heart_rate_converters():
    assert bpm_to_period_s(75) == pytest.approx(0.8, rel=EXACT)
    assert bpm_to_period_s(60.0) == 1.0
    assert u.period_s_to_bpm(0.8) == pytest.approx(75.0, rel=EXACT)
    assert u.period_s_to_bpm(bpm_to_period_s(72.0)) == pytest.approx(72.0, rel=EXACT)


def test_converters_preserve_type_and_vectorise():
    p = np.array([0.0, 80.0, 120.0])
    out = u.mmhg_to_pa(p)
    assert isinstance(out, np.ndarray)
    np.testing.assert_allclose(out, p * 133.322387415, rtol=EXACT)
    assert isinstance(u.mmhg_to_pa(120.0), float)
    assert isinstance(u.m3_to_ml(1e-4), float)

    rr = bpm_to_period_s(np.array([60.0, 75.0, 120.0]))
    np.testing.assert_allclose(rr, [1.0, 0.8, 0.5], rtol=EXACT)
    np.testing.assert_allclose(u.ml_to_m3([1.0, 2.0]), [1e-6, 2e-6], rtol=EXACT)


@pytest.mark.parametrize("bad", [0, 0.0, -60.0, math.nan, math.inf])
def test_bpm_to_period_rejects_non_positive_or_non_finite(bad):
    with pytest.raises(UnitError) as exc:
        bpm_to_period_s(bad)
    assert repr(bad) in str(exc.value)


def test_bpm_to_period_zero_message_names_value():
    with pytest.raises(UnitError, match=r"got 0\b"):
        bpm_to_period_s(0)


def test_bpm_to_period_array_names_bad_entries():
    with pytest.raises(UnitError, match=r"\[0\.0, -3\.0\]"):
        bpm_to_period_s(np.array([70.0, 0.0, -3.0]))


def test_period_to_bpm_rejects_zero():
    with pytest.raises(UnitError, match="0.0"):
        u.period_s_to_bpm(0.0)


# ------------------------------------------------------------------ unit table

REQUIRED_UNITS = {
    "Pa": "pressure", "kPa": "pressure", "MPa": "pressure", "mmHg": "pressure",
    "m": "length", "cm": "length", "mm": "length",
    "m^3": "volume", "m3": "volume", "mL": "volume", "ml": "volume",
    "L": "volume", "l": "volume",
    "m^3/s": "flow", "mL/s": "flow", "ml/s": "flow", "L/min": "flow", "l/min": "flow",
    "s": "time", "ms": "time", "min": "time",
    "Hz": "frequency", "1/s": "frequency", "bpm": "frequency", "/min": "frequency",
    "mmHg*s/mL": "resistance", "mmHg.s/mL": "resistance",
    "Pa*s/m^3": "resistance", "Pa.s/m^3": "resistance",
    "mL/mmHg": "compliance", "ml/mmHg": "compliance", "m^3/Pa": "compliance",
    "Pa*s": "viscosity", "Pa.s": "viscosity",
    "kg/m^3": "density", "g/cm^3": "density",
    "1": "dimensionless", "": "dimensionless", "%": "dimensionless",
}


@pytest.mark.parametrize("unit, dimension", sorted(REQUIRED_UNITS.items()))
def test_required_units_present(unit, dimension):
    factor, dim = UNITS[unit]
    assert dim == dimension
    assert isinstance(factor, float) and factor > 0


@pytest.mark.parametrize(
    "unit, factor",
    [
        ("Pa", 1.0), ("kPa", 1e3), ("MPa", 1e6), ("mmHg", 133.322387415),
        ("cm", 1e-2), ("mm", 1e-3), ("mL", 1e-6), ("L", 1e-3),
        ("L/min", 1e-3 / 60.0), ("mL/s", 1e-6), ("ms", 1e-3), ("min", 60.0),
        ("bpm", 1.0 / 60.0), ("/min", 1.0 / 60.0), ("1/s", 1.0),
        ("mmHg*s/mL", 133.322387415e6), ("mL/mmHg", 1e-6 / 133.322387415),
        ("g/cm^3", 1e3), ("%", 0.01), ("", 1.0), ("1", 1.0),
    ],
)
def test_si_factors(unit, factor):
    assert UNITS[unit][0] == pytest.approx(factor, rel=EXACT)


def test_bpm_is_frequency_not_period():
    assert UNITS["bpm"] == (pytest.approx(1 / 60, rel=EXACT), "frequency")
    assert convert(60.0, "bpm", "Hz") == pytest.approx(1.0, rel=EXACT)


def test_aliases_agree():
    for a, b in [("mL", "ml"), ("L", "l"), ("m^3", "m3"), ("L/min", "l/min"),
                 ("mmHg*s/mL", "mmHg.s/mL"), ("Pa*s/m^3", "Pa.s/m^3"),
                 ("Pa*s", "Pa.s"), ("mL/mmHg", "ml/mmHg"), ("mL/s", "ml/s")]:
        assert UNITS[a] == UNITS[b], (a, b)


def test_unit_table_is_read_only():
    with pytest.raises(TypeError):
        UNITS["furlong"] = (201.168, "length")  # type: ignore[index]


def test_lookup_tolerates_whitespace_around_operators():
    assert lookup_unit(" mmHg * s / mL ") == UNITS["mmHg*s/mL"]
    assert lookup_unit("Pa . s / m ^ 3") == UNITS["Pa*s/m^3"]
    assert lookup_unit("mL / mmHg") == UNITS["mL/mmHg"]


def test_lookup_is_case_sensitive():
    # mPa would be millipascal; accepting it as MPa would be a 1e9 error.
    for bad in ("kpa", "MMHG", "mPa", "HZ", "BPM"):
        with pytest.raises(UnitError, match=bad):
            lookup_unit(bad)


def test_clinical_units():
    assert CLINICAL_UNITS == {
        "pressure": "mmHg",
        "volume": "mL",
        "flow": "mL/s",
        "resistance": "mmHg*s/mL",
        "compliance": "mL/mmHg",
        "frequency": "bpm",
        "time": "s",
    }
    for dimension, unit in CLINICAL_UNITS.items():
        assert UNITS[unit][1] == dimension


# ------------------------------------------------------------ Windkessel (Caruel)


@pytest.mark.parametrize(
    "si_value, si_unit, clinical_unit, expected",
    [
        (2.5e-9, "m^3/Pa", "mL/mmHg", 0.3333),  # C_p
        (8e6, "Pa*s/m^3", "mmHg*s/mL", 0.0600),  # R_p
        (1e-8, "m^3/Pa", "mL/mmHg", 1.3332),  # C_d
        (1e8, "Pa*s/m^3", "mmHg*s/mL", 0.7501),  # R_d
    ],
)
def test_caruel_windkessel_parameters(si_value, si_unit, clinical_unit, expected):
    assert convert(si_value, si_unit, clinical_unit) == pytest.approx(expected, rel=FOUR_SIG)
    assert convert(expected, clinical_unit, si_unit) == pytest.approx(si_value, rel=FOUR_SIG)


def test_caruel_windkessel_exact_values():
    assert convert(2.5e-9, "m^3/Pa", "mL/mmHg") == pytest.approx(
        2.5e-9 * 133.322387415 / 1e-6, rel=EXACT
    )
    assert convert(1e8, "Pa*s/m^3", "mmHg*s/mL") == pytest.approx(
        1e8 * 1e-6 / 133.322387415, rel=EXACT
    )


# ------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    "text, expected",
    [
        ("124 kPa", 124000.0),
        ("0.33 mL/mmHg", 0.33e-6 / 133.322387415),
        ("1.2e5", 1.2e5),
        ("75 bpm", 1.25),
        (" 8e6 Pa.s/m^3 ", 8e6),
        ("-30 1/s", -30.0),
        ("120 mmHg", 120 * 133.322387415),
        ("120 mL", 1.2e-4),
        ("5 L/min", 5e-3 / 60.0),
        ("5 l/min", 5e-3 / 60.0),
        ("0.06 mmHg * s / mL", 0.06 * 133.322387415e6),
        ("800 ms", 0.8),
        ("1.06 g/cm^3", 1060.0),
        ("4e-3 Pa.s", 4e-3),
        ("124kPa", 124000.0),
        ("50 %", 0.5),
        ("+.5 mm", 5e-4),
        ("3", 3.0),
    ],
)
def test_parse_quantity(text, expected):
    assert parse_quantity(text) == pytest.approx(expected, rel=EXACT)


def test_parse_quantity_exact_cases():
    assert parse_quantity("124 kPa") == 124000
    assert parse_quantity("1.2e5") == 120000.0
    assert isinstance(parse_quantity("124 kPa"), float)


def test_parse_quantity_expected_dimension_ok():
    assert parse_quantity("12 mmHg", expected="pressure") == pytest.approx(
        12 * 133.322387415, rel=EXACT
    )
    assert parse_quantity("75 bpm", expected="frequency") == pytest.approx(1.25, rel=EXACT)
    # A bare number is SI and carries no dimension to check.
    assert parse_quantity("1600", expected="pressure") == 1600.0


def test_parse_quantity_numbers_pass_through():
    assert parse_quantity(1600) == 1600.0
    assert parse_quantity(2.5e-9, expected="compliance") == 2.5e-9
    assert parse_quantity(np.float64(3.5)) == 3.5


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, np.float64("nan")])
def test_parse_quantity_rejects_non_finite_numbers(bad):
    with pytest.raises(UnitError, match="finite"):
        parse_quantity(bad)


def test_parse_quantity_rejects_bool_and_none():
    with pytest.raises(TypeError):
        parse_quantity(True)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        parse_quantity(None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("3 furlong", "'furlong'"),
        ("furlong", "'furlong'"),
        ("abc kPa", "'abc kPa'"),
        ("", "''"),
        ("   ", "'   '"),
        ("nan mmHg", "'nan mmHg'"),
        ("inf Pa", "'inf Pa'"),
        ("1.2.3 kPa", "'1.2.3 kPa'"),
        ("1e400 Pa", "'1e400 Pa'"),
        ("1e305 MPa", "'1e305 MPa'"),
        ("12 kpa", "did you mean 'kPa'"),
    ],
)
def test_parse_quantity_errors_quote_text(text, fragment):
    with pytest.raises(UnitError) as exc:
        parse_quantity(text)
    assert fragment in str(exc.value)


def test_parse_quantity_empty_says_empty():
    with pytest.raises(UnitError, match="empty"):
        parse_quantity("")


def test_parse_quantity_dimension_mismatch_names_both():
    with pytest.raises(UnitError) as exc:
        parse_quantity("12 mmHg", expected="volume")
    msg = str(exc.value)
    assert "12 mmHg" in msg
    assert "pressure" in msg and "volume" in msg


def test_parse_quantity_unknown_unit_lists_accepted_units():
    with pytest.raises(UnitError) as exc:
        parse_quantity("12 furlong", expected="pressure")
    msg = str(exc.value)
    assert "furlong" in msg
    for unit in ("Pa", "kPa", "mmHg"):
        assert repr(unit) in msg


def test_parse_quantity_unknown_expected_dimension():
    with pytest.raises(UnitError, match="presure"):
        parse_quantity("12 mmHg", expected="presure")


# ---------------------------------------------------------------- conversion


@pytest.mark.parametrize(
    "a, b",
    [
        ("mmHg", "kPa"),
        ("mmHg", "Pa"),
        ("mL", "m^3"),
        ("L", "mL"),
        ("L/min", "mL/s"),
        ("L/min", "m^3/s"),
        ("bpm", "Hz"),
        ("ms", "min"),
        ("mmHg*s/mL", "Pa*s/m^3"),
        ("mL/mmHg", "m^3/Pa"),
        ("g/cm^3", "kg/m^3"),
        ("%", "1"),
        ("cm", "mm"),
    ],
)
@pytest.mark.parametrize("x", [1.0, 0.3333, 72.5, -12.0, 1.234e7])
def test_round_trip(a, b, x):
    assert convert(convert(x, a, b), b, a) == pytest.approx(x, rel=EXACT)


def test_convert_known_values():
    assert convert(120.0, "mmHg", "kPa") == pytest.approx(15.99868648980, rel=EXACT)
    assert convert(5.0, "L/min", "m^3/s") == pytest.approx(8.333e-5, rel=FOUR_SIG)
    assert convert(800.0, "ms", "s") == pytest.approx(0.8, rel=EXACT)
    assert convert(1.0, "min", "s") == 60.0
    assert convert(1.06, "g/cm^3", "kg/m^3") == pytest.approx(1060.0, rel=EXACT)
    assert convert(50.0, "%", "1") == pytest.approx(0.5, rel=EXACT)
    assert convert(3.0, "kPa", "kPa") == 3.0


def test_convert_vectorised():
    x = np.array([[60.0, 75.0], [90.0, 120.0]])
    out = convert(x, "bpm", "Hz")
    assert isinstance(out, np.ndarray) and out.shape == (2, 2)
    np.testing.assert_allclose(out, x / 60.0, rtol=EXACT)
    np.testing.assert_allclose(convert([1.0, 2.0], "L", "mL"), [1000.0, 2000.0], rtol=EXACT)


def test_convert_dimension_mismatch():
    with pytest.raises(UnitError) as exc:
        convert(1.0, "mmHg", "mL")
    msg = str(exc.value)
    assert "mmHg" in msg and "mL" in msg
    assert "pressure" in msg and "volume" in msg


def test_convert_bpm_to_seconds_is_a_dimension_error():
    # Rate and period are reciprocal, not proportional: use bpm_to_period_s.
    with pytest.raises(UnitError):
        convert(75.0, "bpm", "s")


def test_convert_unknown_unit():
    with pytest.raises(UnitError, match="furlong"):
        convert(1.0, "furlong", "m")


# ---------------------------------------------------------------- formatting


def test_format_quantity():
    assert format_quantity(124e3, "kPa") == "124 kPa"
    assert format_quantity(2.5e-9, "mL/mmHg") == "0.3333 mL/mmHg"
    assert format_quantity(1e8, "mmHg*s/mL") == "0.7501 mmHg*s/mL"
    assert format_quantity(120 * 133.322387415, "mmHg") == "120 mmHg"
    assert format_quantity(1.25, "bpm") == "75 bpm"
    assert format_quantity(1e-8, "mL/mmHg", digits=5) == "1.3332 mL/mmHg"
    assert format_quantity(0.5, "%") == "50 %"
    assert format_quantity(0.5, "") == "0.5"


def test_format_parse_round_trip():
    for text in ("124 kPa", "0.3333 mL/mmHg", "75 bpm", "5 L/min"):
        value = parse_quantity(text)
        unit = text.split(" ", 1)[1]
        assert format_quantity(value, unit) == text


def test_format_quantity_unknown_unit():
    with pytest.raises(UnitError, match="furlong"):
        format_quantity(1.0, "furlong")
