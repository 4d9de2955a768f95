"""Calico's policy hits in every form it writes them, and back in one."""

from __future__ import annotations

import pytest

from netpolicy.flowlogs.hits import Hit, HitError, hit_from_goldmane, parse_hit, parse_hits, split_hits, join_hits


@pytest.mark.parametrize("text, expected", [
    # kind:namespace/name
    ("0|default|KubernetesNetworkPolicy:shop/allow-web|allow|2",
     Hit("default", "KubernetesNetworkPolicy", "shop", "allow-web", "allow", 2)),
    ("1|security|gnp:block|deny|0", Hit("security", "GlobalNetworkPolicy", None, "block", "deny", 0)),
    ("0|kube-admin|kcnp:guard|pass|1", Hit("kube-admin", "KubernetesClusterNetworkPolicy", None, "guard", "pass", 1)),
    # Calico's v1 names
    ("0|default|shop/knp.default.allow-web|allow|2", Hit("default", "KubernetesNetworkPolicy", "shop", "allow-web", "allow", 2)),
    ("0|default|shop/default.backend|allow|0", Hit("default", "NetworkPolicy", "shop", "backend", "allow", 0)),
    ("0|security|security.block|deny|3", Hit("security", "GlobalNetworkPolicy", None, "block", "deny", 3)),
    ("0|default|shop/staged:knp.default.web|deny|-1", Hit("default", "StagedKubernetesNetworkPolicy", "shop", "web", "deny", -1)),
    ("0|default|default.staged:open|allow|0", Hit("default", "StagedGlobalNetworkPolicy", None, "open", "allow", 0)),
    ("0|default|shop/default.staged:db|allow|0", Hit("default", "StagedNetworkPolicy", "shop", "db", "allow", 0)),
    ("0|adminnetworkpolicy|kanp.adminnetworkpolicy.guard|pass|0",
     Hit("adminnetworkpolicy", "AdminNetworkPolicy", None, "guard", "pass", 0)),
    ("2|__PROFILE__|__PROFILE__.kns.shop|allow|0", Hit("__PROFILE__", "Profile", None, "kns.shop", "allow", 0)),
    # no rule index (older releases)
    ("0|__PROFILE__|__PROFILE__.kns.kube-system|allow", Hit("__PROFILE__", "Profile", None, "kns.kube-system", "allow", None)),
])
def test_hit_strings(text: str, expected: Hit) -> None:
    hit = parse_hit(text)
    assert hit == expected
    assert parse_hit(hit.text()) == hit  # the form written reads back


@pytest.mark.parametrize("text", ["0|default|x", "a|default|gnp:x|allow|0", "0|default|gnp:x|maybe|0",
                                  "0|default|zzz:x|allow|0", "0||gnp:x|allow|0", "0|default|gnp:x|allow|one"])
def test_bad_hit_strings(text: str) -> None:
    with pytest.raises(HitError):
        parse_hit(text)


def test_goldmane_hits_numbers_and_names() -> None:
    numbers = {"kind": 6, "namespace": "shop", "name": "web", "tier": "default", "action": 1, "rule_index": 2}
    names = {"kind": "NetworkPolicy", "namespace": "shop", "name": "web", "tier": "default", "action": "Allow",
             "policy_index": 0, "rule_index": 2, "trigger": None}
    assert hit_from_goldmane(numbers) == hit_from_goldmane(names) == Hit("default", "KubernetesNetworkPolicy", "shop", "web", "allow", 2)
    end = {"kind": 10, "tier": "default", "action": 2, "rule_index": -1, "policy_index": 1,
           "trigger": {"kind": 2, "name": "base"}}
    assert hit_from_goldmane(end) == Hit("default", "GlobalNetworkPolicy", None, "base", "deny", -1)
    # kinds 7 and 8: the admin and baseline tiers' cluster policies, by tier
    assert hit_from_goldmane({"kind": 7, "name": "g", "tier": "kube-admin", "action": 3}).kind == "KubernetesClusterNetworkPolicy"
    assert hit_from_goldmane({"kind": 7, "name": "g", "tier": "adminnetworkpolicy", "action": 3}).kind == "AdminNetworkPolicy"
    with pytest.raises(HitError):
        hit_from_goldmane({"kind": 10, "tier": "default", "action": 2})  # an end of tier without its trigger


def test_traces_are_ordered_by_index_and_round_trip() -> None:
    hits = parse_hits(["1|default|shop/default.backend|allow|0", "0|security|security.pass|pass|0"])
    assert [hit.tier for hit in hits] == ["security", "default"]
    assert split_hits(join_hits(hits)) == hits
