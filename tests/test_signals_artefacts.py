"""Artefacts injected into a clean model-made waveform at known times must be
found at those times, with the right flag on exactly the beats they touch."""

import numpy as np
import pytest

from cardiosim.signals import analyse_arterial
from cardiosim.signals import inject as I
from cardiosim.assimilation.synthetic import arterial_pressure, synthetic_record
from cardiosim.units import MMHG

FS = 125.0
LIMITS = (-40 * MMHG, 320 * MMHG)
# kind, start [s], duration [s]
INJECTED = [("flush", 20.0, 2.0), ("zeroing", 40.0, 5.0), ("saturation", 60.0, 6.0),
            ("gap", 80.0, 2.0), ("overdamped", 95.0, 10.0), ("underdamped", 115.0, 10.0)]
SEGMENT_KINDS = ("flush", "zeroing", "saturation", "gap")


@pytest.fixture(scope="module")
def clean():
    p, starts = arterial_pressure(duration_s=140.0, hr_bpm=72, fs_hz=FS, seed=3)
    return p, starts


@pytest.fixture(scope="module")
def injected(clean):
    p = clean[0]
    p = I.flush(p, FS, 20.0, 2.0)
    p = I.zeroing(p, FS, 40.0, 5.0)
    p = I.saturation(p, FS, 60.0, 6.0, limit_pa=LIMITS[1], gain=3.0)
    p = I.gap(p, FS, 80.0, 2.0)
    p = I.damping(p, FS, 95.0, 10.0, natural_hz=4.0, zeta=1.2)
    p = I.damping(p, FS, 115.0, 10.0, natural_hz=10.0, zeta=0.12)
    return analyse_arterial(synthetic_record(p, FS, limits_pa=LIMITS))


def test_clean_waveform_has_no_flag(clean):
    a = analyse_arterial(synthetic_record(clean[0], FS, limits_pa=LIMITS))
    assert a.segments.empty
    assert a.beats["clean"].all(), a.beats.loc[~a.beats["clean"], "reason"].tolist()


def test_every_beat_is_found_with_a_constant_delay(clean):
    """Model beats start at activation; the arterial foot follows after the
    isovolumic contraction, the same delay every beat."""
    a = analyse_arterial(synthetic_record(clean[0], FS, limits_pa=LIMITS))
    starts = clean[1]
    feet = a.beats["foot_s"].to_numpy()
    k = np.searchsorted(starts, feet) - 1
    delay = feet - starts[k]
    assert np.all(np.diff(k) == 1)  # one foot per model beat, none skipped
    # Every model beat is found but the last, whose foot closes the record's last beat.
    assert k[0] == 0 and k[-1] >= len(starts) - 3
    assert np.std(delay) < 0.004, delay
    # Activation start to valve opening: electromechanical delay plus isovolumic contraction.
    assert 0.05 < np.median(delay) < 0.3


@pytest.mark.parametrize("kind", SEGMENT_KINDS)
def test_segment_found_at_injected_time(injected, kind):
    _, start, dur = next(x for x in INJECTED if x[0] == kind)
    seg = injected.segments[injected.segments["kind"] == kind]
    assert len(seg) == 1, injected.segments
    s = seg.iloc[0]
    if kind == "saturation":
        # Only the clipped peaks sit at the limit: first and last clipped sample.
        assert start <= s["start_s"] < start + 1.0 and start + dur - 1.0 < s["end_s"] <= start + dur
    else:
        assert s["start_s"] == pytest.approx(start, abs=0.1)
        assert s["end_s"] == pytest.approx(start + dur, abs=0.35 if kind == "flush" else 0.1)


def _touching(beats, a, b):
    return (beats["end_s"] > a) & (beats["onset_s"] < b)


@pytest.mark.parametrize("kind,start,dur", INJECTED)
def test_beats_touched_carry_the_flag(injected, kind, start, dur):
    b = injected.beats
    if kind in ("overdamped", "underdamped"):
        # Beats wholly inside the span: the filter has settled after one beat.
        inside = (b["onset_s"] >= start + 1.0) & (b["end_s"] <= start + dur)
    else:
        seg = injected.segments[injected.segments["kind"] == kind].iloc[0]
        inside = _touching(b, seg["start_s"], seg["end_s"])
    assert inside.sum() >= 1
    flagged = b.loc[inside, "flag"]
    assert all(kind in f for f in flagged), b.loc[inside, ["onset_s", "flag", "reason"]]


def test_no_flag_away_from_the_artefacts(injected):
    b = injected.beats
    near = np.zeros(len(b), bool)
    for _, start, dur in INJECTED:
        # One beat of margin: the beat cut by an artefact's edge and its neighbour.
        near |= _touching(b, start - 1.2, start + dur + 1.2).to_numpy()
    away = b[~near]
    assert len(away) > 40
    assert away["clean"].all(), away.loc[~away["clean"], ["onset_s", "flag", "reason"]]
