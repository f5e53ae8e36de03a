"""Model SV and CO (from the arterial pressure alone) against FloTrac's, and a fluid bolus.

Run:  python examples/flotrac_comparison.py [RECORD]
Default record: $CARDIOSIM_DATA/waveformtools-ppv-study/sample_record_csv. Prints one JSON line.
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
    path = argv[1] if len(argv) > 1 else data / "waveformtools-ppv-study" / "sample_record_csv"
    rec = read_record(path)
    cal = calibrate(rec)
    rep = reference_report(cal, rec)
    rep["rmse_mmHg"] = cal.rmse_mmhg()
    rep["estimated"] = list(cal.parameters.names)
    print(json.dumps(rep, default=float))


if __name__ == "__main__":
    main(sys.argv)
