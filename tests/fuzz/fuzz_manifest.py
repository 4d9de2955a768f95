"""Fuzz target: netpolicy.loads on arbitrary bytes, then evaluation of what loads (the
check is targets.check_manifest).

From the repository root:
  python tests/fuzz/fuzz_manifest.py --runs 300                   Hypothesis, 300 inputs
  python tests/fuzz/fuzz_manifest.py -dict=tests/fuzz/manifest.dict -max_len=8192 -max_total_time=3600 CORPUS   atheris

Any exception other than PolicyError from loading is a finding; so is any exception from
evaluating a flow between the loaded endpoints, or an evaluate/evaluate_many mismatch.
See driver.py for the options.
"""

import os
import sys

if __name__ != "__main__":  # imported by a test collector: nothing to do
    raise ImportError("tests/fuzz/fuzz_manifest.py is a fuzz target; run it as a script")

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, "..", "..")]

from driver import main  # noqa: E402

sys.exit(main("manifest", sys.argv[1:]))
