"""The normalized model: what Calico generates from the loaded resources (profiles,
effective labels), the :class:`Snapshot` a policy set holds, and the index the
evaluators look things up in (entities by address, the policies that apply to an
endpoint)."""

from .index import Entity, Index, TierPolicies, index_of
from .normalize import normalize
from .profiles import effective_endpoint_labels
from .snapshot import Snapshot

__all__ = ["Entity", "Index", "Snapshot", "TierPolicies", "effective_endpoint_labels", "index_of", "normalize"]
