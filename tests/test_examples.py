"""The bundled examples decide as their comments say, and the README's main job runs."""

from __future__ import annotations

import csv
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import netpolicy
from netpolicy import Action, Flow, Reason
from netpolicy.cli import cli

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
STAGING = EXAMPLES / "staging"

KNP = "KubernetesNetworkPolicy"
GNP = "GlobalNetworkPolicy"


@pytest.fixture(scope="module")
def staging() -> netpolicy.PolicySet:
    return netpolicy.load(str(STAGING))


def side(decision: Any) -> Any:
    """A decision reduced to what the example's comments promise."""
    if decision is None:
        return None
    if decision.reason == Reason.RULE:
        return (str(decision.action), decision.tier, decision.policy.kind, decision.policy.name, decision.rule)
    if decision.reason == Reason.END_OF_TIER:
        return (str(decision.action), "end-of-tier", decision.tier)
    if decision.reason == Reason.PROFILE:
        return (str(decision.action), "profile", decision.profile)
    return (str(decision.action), decision.reason)


ALLOW, DENY = "Allow", "Deny"
END_OF_DEFAULT = (DENY, "end-of-tier", "default")

# (src, dst, protocol, port) -> (action, egress decision, ingress decision)
EXPECTED = [
    # The application's own paths: both sides allowed by Kubernetes policies in tier default.
    (("staging/front-end", "staging/back-end", "TCP", 443), ALLOW,
     (ALLOW, "default", KNP, "front-end", 0), (ALLOW, "default", KNP, "back-end", 0)),
    (("staging/back-end", "staging/database", "TCP", 27017), ALLOW,
     (ALLOW, "default", KNP, "back-end", 0), (ALLOW, "default", KNP, "database", 0)),
    # The security tier forbids front-end -> database outright; the front-end's egress
    # would be denied anyway at the end of tier default.
    (("staging/front-end", "staging/database", "TCP", 27017), DENY,
     END_OF_DEFAULT, (DENY, "security", GNP, "security.audit-database", 1)),
    # DNS: the GlobalNetworkPolicy allows UDP 53 to kube-dns; kube-system has no policy of
    # tier default, so its namespace profile allows.
    (("staging/front-end", "kube-system/kube-dns", "UDP", 53), ALLOW,
     (ALLOW, "default", GNP, "default-deny-except-dns", 0), (ALLOW, "profile", "kns.kube-system")),
    (("staging/back-end", "kube-system/kube-dns", "UDP", 53), ALLOW,
     (ALLOW, "default", GNP, "default-deny-except-dns", 0), (ALLOW, "profile", "kns.kube-system")),
    (("staging/front-end", "kube-system/kube-dns", "TCP", 53), DENY,
     END_OF_DEFAULT, (ALLOW, "profile", "kns.kube-system")),
    # The back-end has no egress to the front-end, though the front-end would accept it.
    (("staging/back-end", "staging/front-end", "TCP", 443), DENY,
     END_OF_DEFAULT, (ALLOW, "default", KNP, "front-end", 0)),
    # The internet reaches the front-end on 443, except blocked addresses.
    (("192.0.2.10", "staging/front-end", "TCP", 443), ALLOW,
     None, (ALLOW, "default", KNP, "front-end", 0)),
    (("203.0.113.7", "staging/front-end", "TCP", 443), DENY,
     None, (DENY, "security", GNP, "security.block-bad-addresses", 1)),
    # The front-end reaches the internet on 443, except blocked addresses.
    (("staging/front-end", "93.184.216.34", "TCP", 443), ALLOW,
     (ALLOW, "default", KNP, "front-end", 1), None),
    (("staging/front-end", "198.51.100.23", "TCP", 443), DENY,
     (DENY, "security", GNP, "security.block-bad-addresses", 1), None),
    (("staging/database", "93.184.216.34", "TCP", 443), DENY, END_OF_DEFAULT, None),
    (("staging/front-end", "staging/back-end", "TCP", 80), DENY,
     END_OF_DEFAULT, END_OF_DEFAULT),
    # Pod IPs resolve to the pods.
    (("10.0.1.10", "10.0.1.20", "TCP", 443), ALLOW,
     (ALLOW, "default", KNP, "front-end", 0), (ALLOW, "default", KNP, "back-end", 0)),
    (("10.0.1.20", "10.0.1.30", "TCP", 27017), ALLOW,
     (ALLOW, "default", KNP, "back-end", 0), (ALLOW, "default", KNP, "database", 0)),
]


@pytest.mark.parametrize(("flow", "action", "egress", "ingress"), EXPECTED, ids=lambda v: str(v) if isinstance(v, tuple) and len(v) == 4 else None)
def test_example_flow(staging: netpolicy.PolicySet, flow: tuple[str, str, str, int], action: str, egress: Any, ingress: Any) -> None:
    src, dst, protocol, port = flow
    verdict = staging.evaluate(Flow(src=src, dst=dst, protocol=protocol, dst_port=port))
    assert str(verdict.action) == action
    assert side(verdict.egress) == egress
    assert side(verdict.ingress) == ingress


def logged(verdict: netpolicy.Verdict) -> list[tuple[str, str | None, int]]:
    return [(str(r.direction), r.policy.name if r.policy else None, r.rule) for r in verdict.logged]


def test_log_rules_fire(staging: netpolicy.PolicySet) -> None:
    to_database = staging.evaluate(Flow(src="staging/back-end", dst="staging/database", dst_port=27017))
    assert logged(to_database) == [("Ingress", "security.audit-database", 0)]
    blocked_in = staging.evaluate(Flow(src="203.0.113.7", dst="staging/front-end", dst_port=443))
    assert logged(blocked_in) == [("Ingress", "security.block-bad-addresses", 0)]
    blocked_out = staging.evaluate(Flow(src="staging/front-end", dst="198.51.100.23", dst_port=443))
    assert logged(blocked_out) == [("Egress", "security.block-bad-addresses", 0)]
    plain = staging.evaluate(Flow(src="staging/front-end", dst="staging/back-end", dst_port=443))
    assert plain.logged == ()


def test_without_security_tier_the_database_path_is_still_closed() -> None:
    """Tier default alone denies front-end -> database on both sides."""
    files = [str(p) for p in sorted(STAGING.glob("*.yaml")) if "security" not in p.name]
    verdict = netpolicy.load(*files).evaluate(Flow(src="staging/front-end", dst="staging/database", dst_port=27017))
    assert verdict.action is Action.DENY
    assert side(verdict.egress) == END_OF_DEFAULT
    assert side(verdict.ingress) == END_OF_DEFAULT


def test_flow_file_covers_the_table(staging: netpolicy.PolicySet) -> None:
    """examples/flows.csv is the table above, and each of its rows decides as listed."""
    with open(EXAMPLES / "flows.csv", newline="") as handle:
        rows = [(r["src"], r["dst"], r["protocol"], int(r["dst_port"])) for r in csv.DictReader(handle)]
    expected = {flow: action for flow, action, _, _ in EXPECTED}
    assert rows and set(rows) <= set(expected)
    assert {expected[r] for r in rows} == {ALLOW, DENY}
    for src, dst, protocol, port in rows:
        verdict = staging.evaluate(Flow(src=src, dst=dst, protocol=protocol, dst_port=port))
        assert str(verdict.action) == expected[(src, dst, protocol, port)]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"## Quickstart.*?```(?:sh|bash|console)?\n(.*?)```", text, re.S)
    assert block, "README has a Quickstart code block"
    return [line.strip() for line in block.group(1).splitlines() if line.strip() and not line.startswith("#")]


def test_readme_has_two_setup_commands() -> None:
    commands = readme_commands()
    assert len(commands) == 2
    assert commands[1] == "pip install -e '.[test]' && python -m pytest"
    ci = (ROOT / ".ci" / "run").read_text()
    assert commands[1] in ci


def test_readme_main_job_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's first command, after its install step, through the console entry point."""
    install, _, job = readme_commands()[0].partition(" && ")
    assert install.startswith("pip install")
    argv = shlex.split(job)
    assert argv[0] == "netpolicy"
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(cli, argv[1:], prog_name="netpolicy")
    assert result.exit_code == 0, result.output
    assert "verdict: Deny" in result.output


def test_every_package_is_installed() -> None:
    """`pip install .` (the README's main job) ships every package of netpolicy."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    declared = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "netpolicy").rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert found <= declared, f"packages missing from pyproject.toml: {sorted(found - declared)}"


def test_every_optional_module_of_the_tests_is_in_the_test_extra() -> None:
    """A module the tests skip without (``pytest.importorskip``) is installed by the README's
    test command (`pip install -e '.[test]'`), so those tests run in CI rather than skip."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    import sys

    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["test"]
    installed = {re.match(r"[A-Za-z0-9_.-]+", requirement).group(0).lower().replace("-", "_") for requirement in extra}  # type: ignore[union-attr]
    skipped = {
        name.split(".")[0]
        for path in (ROOT / "tests").rglob("*.py")
        for name in re.findall(r"importorskip\(\s*[\"']([A-Za-z0-9_.]+)[\"']", path.read_text())
    }
    optional = {name for name in skipped if name not in sys.stdlib_module_names}
    assert optional <= installed, f"missing from the [test] extra: {sorted(optional - installed)}"
