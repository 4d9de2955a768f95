"""Fuzz target: Selector.parse on arbitrary bytes (the check is targets.check_selector).

From the repository root:
  python tests/fuzz/fuzz_selector.py --runs 2000                  Hypothesis, 2000 inputs
  python tests/fuzz/fuzz_selector.py -dict=tests/fuzz/selector.dict -max_total_time=3600 CORPUS   atheris

Any exception other than SelectorSyntaxError is a finding; so is a selector whose
canonical text does not parse back to an equal selector. See driver.py for the options.
"""

import os
import sys

if __name__ != "__main__":  # imported by a test collector: nothing to do
    raise ImportError("tests/fuzz/fuzz_selector.py is a fuzz target; run it as a script")

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, "..", "..")]

from driver import main  # noqa: E402

sys.exit(main("selector", sys.argv[1:]))
