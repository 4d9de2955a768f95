"""ClusterNetworkPolicy manifests (``policy.networking.k8s.io/v1alpha2``)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from ._policies import _anp_rules, _anp_subject
from ._vocabulary import Manifest, Vocabulary, _check_size, _check_vocab

__all__ = ["cluster_network_policies"]

_CNP_API = "policy.networking.k8s.io/v1alpha2"
_TIERS = ("Admin", "Baseline")


@st.composite
def _cnp_protocol(draw: st.DrawFn, vocab: Vocabulary) -> dict[str, Any]:
    kind = draw(st.sampled_from(("tcp", "udp", "sctp", "destinationNamedPort")))
    if kind == "destinationNamedPort":
        return {kind: draw(st.sampled_from(vocab.port_names))}
    if draw(st.booleans()):
        return {kind: {"destinationPort": {"number": draw(st.sampled_from(vocab.ports))}}}
    start, width = draw(st.sampled_from(vocab.ports)), draw(st.sampled_from((1, 100)))
    start = min(start, 65535 - width)  # start must be below end
    return {kind: {"destinationPort": {"range": {"start": start, "end": start + width}}}}


@st.composite
def _cnp(draw: st.DrawFn, vocab: Vocabulary, name: str, tier: str | None, priority: int, max_rules: int) -> Manifest:
    spec: dict[str, Any] = {
        "tier": tier or draw(st.sampled_from(_TIERS)),
        "priority": priority,
        "subject": draw(_anp_subject(vocab)),
    }
    draw(_anp_rules(vocab, ("Accept", "Deny", "Pass"), max_rules, spec, "protocols", _cnp_protocol(vocab),
                    "destinationNamedPort"))
    return {"apiVersion": _CNP_API, "kind": "ClusterNetworkPolicy", "metadata": {"name": name}, "spec": spec}


def cluster_network_policies(vocab: Vocabulary | None = None, *, name: str = "cnp0", tier: str | None = None,
                             priority: int | None = None, max_rules: int = 3) -> st.SearchStrategy[Manifest]:
    """ClusterNetworkPolicies: tier (Admin or Baseline; drawn unless given), priority,
    subject (namespaces or pods), Accept/Deny/Pass rules with namespaces/pods/networks
    peers and tcp/udp/sctp ports (numbers or ranges) or destinationNamedPort."""
    _check_size("max_rules", max_rules, 0, 25)
    if tier is not None and tier not in _TIERS:
        raise InvalidArgument(f"tier={tier!r} must be one of {', '.join(_TIERS)}")
    vocab = _check_vocab(vocab)
    if priority is not None:
        _check_size("priority", priority, 0, 1000)
        return _cnp(vocab, name, tier, priority, max_rules)
    return st.integers(0, 1000).flatmap(lambda p: _cnp(vocab, name, tier, p, max_rules))
