"""atheris target: netpolicy.loads on arbitrary text, then evaluation of what loads.

Run from the repository root:  python tests/fuzz/fuzz_manifest.py -max_total_time=3600 CORPUS_DIR

Any exception other than PolicyError from loading is a finding; so is any exception from
evaluating a flow between the loaded endpoints, or an evaluate/evaluate_many mismatch.
"""

import os
import sys

if __name__ != "__main__":  # imported by a test collector: nothing to do
    raise ImportError("tests/fuzz/fuzz_manifest.py is an atheris target; run it as a script")

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

import atheris  # noqa: E402

with atheris.instrument_imports(include=["netpolicy"]):
    import netpolicy
    from netpolicy import Flow, PolicyError

EXTERNAL = "192.168.0.7"


def test_one_input(data: bytes) -> None:
    text = data.decode("utf-8", "surrogateescape")
    try:
        ps = netpolicy.loads(text, strict=len(data) % 2 == 0)
    except PolicyError:
        return
    sides = [e.key for e in ps.endpoints if e.name and e.namespace][:3]
    sides += [str(ip) for e in ps.endpoints for ip in e.ips][:3]
    sides.append(EXTERNAL)
    flows = []
    for src in sides:
        for dst in sides:
            for protocol, port in (("TCP", 80), ("UDP", 53), ("ICMP", None)):
                try:
                    flows.append(Flow(src=src, dst=dst, protocol=protocol, dst_port=port))
                except PolicyError:
                    pass
    verdicts = []
    for flow in flows:
        try:
            verdicts.append(ps.evaluate(flow))
        except PolicyError:
            verdicts.append(None)
    if hasattr(ps, "evaluate_many"):
        decided = [(f, v) for f, v in zip(flows, verdicts) if v is not None]
        if decided:
            many = ps.evaluate_many([f for f, _ in decided])
            expected = [v.allowed for _, v in decided]
            if list(many.allowed) != expected:
                raise AssertionError(f"evaluate_many {list(many.allowed)} != evaluate {expected}")


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


main()
