"""Model SV and CO against FloTrac's, and the fluid boluses.

Run:  python examples/flotrac_comparison.py [RECORD] [--reference first|CO=X@T]
Default record: $CARDIOSIM_DATA/waveformtools-ppv-study/sample_record_csv. Without --reference
the model's SV and CO are relative (pressure alone has no flow scale); ``--reference first``
takes the monitor's first CO value as a one-point calibration. Prints one JSON line.
"""

import json
import os
import sys
from pathlib import Path

from cardiosim.assimilation import calibrate
from cardiosim.assimilation.compare import reference_report
from cardiosim.signals import read_record


def main(argv):
    data = Path(os.environ.get("CARDIOSIM_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
    reference = None
    if "--reference" in argv:
        i = argv.index("--reference")
        reference = argv[i + 1]
        argv = argv[:i] + argv[i + 2:]
    path = argv[1] if len(argv) > 1 else data / "waveformtools-ppv-study" / "sample_record_csv"
    rec = read_record(path)
    cal = calibrate(rec, reference=reference)
    rep = reference_report(cal, rec)
    rep["scale"] = cal.scale_text
    rep["rmse_mmHg"] = cal.rmse_mmhg()
    rep["estimated"] = list(cal.parameters.names)
    print(json.dumps(rep, default=float))


if __name__ == "__main__":
    main(sys.argv)
