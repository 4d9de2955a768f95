"""Calico's policy hits: one tier's (or the profiles') outcome in a flow log's policy
trace, read from every form Calico writes and written in one.

A hit names the policy (tier, kind, namespace, name), its action and the rule index:
Calico's *expanded* index, where a Kubernetes NetworkPolicy or ClusterNetworkPolicy rule
counts once per protocol and peer it expands to. ``rule -1`` is the end of a tier (the
policy named is the first of the tier that selected the endpoint) or of the profiles.

Hit strings (``policies`` of Calico Enterprise flow logs) come in three generations, all
read here:

* ``<index>|<tier>|<kind>:<namespace>/<name>|<action>|<rule>`` (``<kind>:<name>`` for a
  cluster-wide policy); kinds by their name or Calico's short name (``knp``, ``gnp``...);
* ``<index>|<tier>|<v1 name>|<action>|<rule>`` with Calico's v1 names:
  ``<tier>.<name>``, ``<ns>/<tier>.<name>``, ``<ns>/knp.default.<name>``, the
  ``staged:`` forms, ``kanp.adminnetworkpolicy.<name>``, ``__PROFILE__.kns.<ns>``;
* the same without the rule index (older releases).

:meth:`Hit.text` writes the first form.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping

import attrs

__all__ = [
    "Hit",
    "HitError",
    "KINDS",
    "PROFILE_TIER",
    "END_OF_TIER",
    "parse_hit",
    "parse_hits",
    "hit_from_goldmane",
    "join_hits",
    "split_hits",
]

PROFILE_TIER = "__PROFILE__"
END_OF_TIER = -1  #: the rule index of a tier's (or the profiles') end
_SEPARATOR = ";"

#: The policy kinds a hit names, as netpolicy names them (``PolicyRef.kind``), plus ``Profile``.
KINDS = (
    "NetworkPolicy",
    "GlobalNetworkPolicy",
    "StagedNetworkPolicy",
    "StagedGlobalNetworkPolicy",
    "StagedKubernetesNetworkPolicy",
    "KubernetesNetworkPolicy",
    "AdminNetworkPolicy",
    "BaselineAdminNetworkPolicy",
    "KubernetesClusterNetworkPolicy",
    "Profile",
)

_SHORT = {
    "np": "NetworkPolicy",
    "cnp": "NetworkPolicy",
    "gnp": "GlobalNetworkPolicy",
    "snp": "StagedNetworkPolicy",
    "sgnp": "StagedGlobalNetworkPolicy",
    "sknp": "StagedKubernetesNetworkPolicy",
    "knp": "KubernetesNetworkPolicy",
    "kcnp": "KubernetesClusterNetworkPolicy",
    "anp": "AdminNetworkPolicy",
    "kanp": "AdminNetworkPolicy",
    "banp": "BaselineAdminNetworkPolicy",
    "kbanp": "BaselineAdminNetworkPolicy",
    "profile": "Profile",
    "pro": "Profile",
}
_BY_LOWER = {kind.lower(): kind for kind in KINDS}
_BY_LOWER.update({"caliconetworkpolicy": "NetworkPolicy"})

#: Goldmane's PolicyKind enum (its numbers, and its names as the Whisker API spells them).
_GOLDMANE_KINDS: Mapping[Any, str] = {
    1: "NetworkPolicy", "CalicoNetworkPolicy": "NetworkPolicy",
    2: "GlobalNetworkPolicy", "GlobalNetworkPolicy": "GlobalNetworkPolicy",
    3: "StagedNetworkPolicy", "StagedNetworkPolicy": "StagedNetworkPolicy",
    4: "StagedGlobalNetworkPolicy", "StagedGlobalNetworkPolicy": "StagedGlobalNetworkPolicy",
    5: "StagedKubernetesNetworkPolicy", "StagedKubernetesNetworkPolicy": "StagedKubernetesNetworkPolicy",
    6: "KubernetesNetworkPolicy", "NetworkPolicy": "KubernetesNetworkPolicy",
    7: "admin", "AdminNetworkPolicy": "admin", "ClusterNetworkPolicyAdminTier": "admin",
    8: "baseline", "BaselineAdminNetworkPolicy": "baseline", "ClusterNetworkPolicyBaselineTier": "baseline",
    9: "Profile", "Profile": "Profile",
    10: "EndOfTier", "EndOfTier": "EndOfTier",
}
_ACTIONS = {1: "allow", 2: "deny", 3: "pass", "allow": "allow", "deny": "deny", "pass": "pass", "next-tier": "pass"}
_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.:]*[A-Za-z0-9])?")


class HitError(ValueError):
    """A policy hit that cannot be read."""


@attrs.frozen(order=True)
class Hit:
    """One policy hit. ``namespace`` is None for cluster-wide kinds and profiles;
    ``rule`` is Calico's expanded rule index, -1 for the end of a tier; ``index`` the
    hit's place in the trace (None when the log does not say)."""

    tier: str
    kind: str
    namespace: str | None
    name: str
    action: str
    rule: int | None
    index: int | None = attrs.field(default=None, eq=False, order=False)

    @property
    def policy(self) -> tuple[str, str, str | None, str]:
        """What names the policy: (tier, kind, namespace, name)."""
        return (self.tier, self.kind, self.namespace, self.name)

    def text(self, index: int | None = None) -> str:
        """The hit in Calico's form ``<index>|<tier>|<kind>:<ns>/<name>|<action>|<rule>``."""
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        number = self.index if index is None else index
        rule = "" if self.rule is None else str(self.rule)
        return f"{'' if number is None else number}|{self.tier}|{self.kind}:{where}|{self.action}|{rule}"

    def __str__(self) -> str:
        return self.text()


def _kind(word: str) -> str:
    kind = _BY_LOWER.get(word.lower()) or _SHORT.get(word.lower())
    if kind is None:
        raise HitError(f"unknown policy kind {word!r}")
    return kind


def _admin_kind(family: str, tier: str) -> str:
    """Goldmane's kinds 7 and 8 name the admin and baseline tiers' cluster policies: the
    AdminNetworkPolicy kinds in their own tiers, ClusterNetworkPolicy in kube-admin and
    kube-baseline."""
    if family == "admin":
        return "AdminNetworkPolicy" if tier == "adminnetworkpolicy" else "KubernetesClusterNetworkPolicy"
    return "BaselineAdminNetworkPolicy" if tier == "baselineadminnetworkpolicy" else "KubernetesClusterNetworkPolicy"


def _check_name(value: str, what: str) -> str:
    if not value or _NAME.fullmatch(value) is None:
        raise HitError(f"invalid {what} {value!r}")
    return value


def _v1_name(part: str, tier: str) -> tuple[str, str | None, str]:
    """(kind, namespace, name) from Calico's v1 policy name."""
    if part.startswith(PROFILE_TIER + "."):
        return "Profile", None, _check_name(part[len(PROFILE_TIER) + 1 :], "profile name")
    if "/" in part:
        namespace, _, name = part.partition("/")
        _check_name(namespace, "namespace")
        if name.startswith("staged:knp.default."):
            return "StagedKubernetesNetworkPolicy", namespace, _check_name(name[len("staged:knp.default.") :], "name")
        if name.startswith("knp.default."):
            return "KubernetesNetworkPolicy", namespace, _check_name(name[len("knp.default.") :], "name")
        staged = "staged:" in name
        name = name.replace("staged:", "", 1)
        if name.startswith(tier + "."):
            name = name[len(tier) + 1 :]
        return ("StagedNetworkPolicy" if staged else "NetworkPolicy"), namespace, _check_name(name, "name")
    for prefix, kind in (("kanp.adminnetworkpolicy.", "AdminNetworkPolicy"), ("kbanp.baselineadminnetworkpolicy.", "BaselineAdminNetworkPolicy"),
                         ("kanp.", "AdminNetworkPolicy"), ("kbanp.", "BaselineAdminNetworkPolicy"),
                         ("kcnp.kube-admin.", "KubernetesClusterNetworkPolicy"), ("kcnp.kube-baseline.", "KubernetesClusterNetworkPolicy")):
        if part.startswith(prefix):
            return kind, None, _check_name(part[len(prefix) :], "name")
    staged = "staged:" in part
    name = part.replace("staged:", "", 1)
    if name.startswith(tier + "."):
        name = name[len(tier) + 1 :]
    return ("StagedGlobalNetworkPolicy" if staged else "GlobalNetworkPolicy"), None, _check_name(name, "name")


def _name_part(part: str, tier: str) -> tuple[str, str | None, str]:
    head, colon, rest = part.partition(":")
    if colon and "/" not in head and "." not in head and head != "staged":
        kind = _kind(head)
        if "/" in rest:
            namespace, _, name = rest.partition("/")
            return kind, _check_name(namespace, "namespace"), _check_name(name, "name")
        return kind, None, _check_name(rest, "name")
    return _v1_name(part, tier)


def parse_hit(text: str) -> Hit:
    """A hit from any of Calico's hit strings; HitError saying what is wrong."""
    parts = text.strip().split("|")
    if len(parts) not in (4, 5):
        raise HitError(f"policy hit {text!r} is not '<index>|<tier>|<policy>|<action>|<rule index>'")
    index_text, tier, part, action_text = parts[:4]
    try:
        index = int(index_text) if index_text.strip() else None
    except ValueError:
        raise HitError(f"policy hit {text!r}: index {index_text!r} is not a number") from None
    action = _ACTIONS.get(action_text.strip().lower())
    if action is None:
        raise HitError(f"policy hit {text!r}: unknown action {action_text!r}")
    rule: int | None = None
    if len(parts) == 5 and parts[4].strip() not in ("", "-"):
        try:
            rule = int(parts[4])
        except ValueError:
            raise HitError(f"policy hit {text!r}: rule index {parts[4]!r} is not a number") from None
    try:
        kind, namespace, name = _name_part(part, tier)
    except HitError as exc:
        raise HitError(f"policy hit {text!r}: {exc}") from None
    if tier == PROFILE_TIER or kind == "Profile":
        kind, tier = "Profile", PROFILE_TIER
    elif not tier:
        raise HitError(f"policy hit {text!r}: no tier")
    return Hit(tier=tier, kind=kind, namespace=namespace, name=name, action=action, rule=rule, index=index)


def hit_from_goldmane(data: Mapping[str, Any]) -> Hit:
    """A hit from Goldmane's PolicyHit (enums as numbers, zero values omitted) or the
    Whisker API's form of it (enums by name)."""
    if not isinstance(data, Mapping):
        raise HitError(f"a policy hit must be an object, not {type(data).__name__}")
    raw_kind = data.get("kind", 0)
    family = _GOLDMANE_KINDS.get(raw_kind)
    if family is None:
        raise HitError(f"unknown policy kind {raw_kind!r}")
    action = _ACTIONS.get(data.get("action", 0) if not isinstance(data.get("action"), str) else str(data["action"]).lower())
    if action is None:
        raise HitError(f"unknown action {data.get('action')!r}")
    tier = str(data.get("tier") or "")
    rule = _int(data.get("rule_index", 0), "rule_index")
    index = _int(data.get("policy_index", 0), "policy_index")
    source = data
    if family == "EndOfTier":
        trigger = data.get("trigger")
        if not isinstance(trigger, Mapping):
            raise HitError("an end-of-tier hit needs its trigger")
        family = _GOLDMANE_KINDS.get(trigger.get("kind", 0), "")
        if not family or family == "EndOfTier":
            raise HitError(f"unknown trigger kind {trigger.get('kind')!r}")
        source, rule = trigger, END_OF_TIER
    kind = _admin_kind(family, tier) if family in ("admin", "baseline") else family
    name = str(source.get("name") or "")
    namespace = str(source.get("namespace") or "") or None
    if kind == "Profile":
        tier, namespace = PROFILE_TIER, None
    if not name:
        raise HitError("a policy hit needs a name")
    return Hit(tier=tier, kind=kind, namespace=namespace, name=name, action=action, rule=rule, index=index)


def _int(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise HitError(f"{field} must be an integer, not {value!r}")
    try:
        return int(value)
    except ValueError:
        raise HitError(f"{field} must be an integer, not {value!r}") from None


def join_hits(hits: Iterable[Hit]) -> str:
    """Hits as one text (each in Calico's form, in trace order, ``;`` between)."""
    return _SEPARATOR.join(hit.text() for hit in hits)


def split_hits(text: str | None) -> list[Hit]:
    """The hits :func:`join_hits` wrote (or hit strings joined by ``;``)."""
    if not text:
        return []
    return [parse_hit(part) for part in text.split(_SEPARATOR) if part]


def parse_hits(values: Iterable[Any]) -> list[Hit]:
    """Hits from a list of hit strings or of Goldmane/Whisker PolicyHit objects, ordered
    by their index as Calico numbers the trace."""
    found = [hit_from_goldmane(v) if isinstance(v, Mapping) else parse_hit(str(v)) for v in values]
    return sorted(found, key=lambda hit: (hit.index is None, hit.index or 0))
