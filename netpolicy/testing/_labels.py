"""Kubernetes labels, label maps and LabelSelectors."""

from __future__ import annotations

from typing import Any, Sequence

from hypothesis import strategies as st

from ._vocabulary import Vocabulary, _check_bool, _check_size, _check_vocab

__all__ = ["label_keys", "label_values", "label_maps", "label_selectors"]


_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_LOWER_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"


def _dns_label(max_size: int = 8) -> st.SearchStrategy[str]:
    return st.builds(
        lambda first, middle, last: first + middle + last,
        st.sampled_from(_LOWER_ALNUM),
        st.text(_LOWER_ALNUM + "-", max_size=max(0, max_size - 2)),
        st.sampled_from(("",) + tuple(_LOWER_ALNUM)),
    ).filter(lambda s: s[-1] != "-")  # a DNS label ends alphanumeric


def _label_name(max_size: int) -> st.SearchStrategy[str]:
    return st.builds(
        lambda first, middle, last: first + middle + last,
        st.sampled_from(_ALNUM),
        st.text(_ALNUM + "-_.", max_size=max(0, max_size - 2)),
        st.sampled_from(("",) + tuple(_ALNUM)),
    ).filter(lambda s: s[-1] in _ALNUM)


def label_keys(*, prefixes: bool = True, max_size: int = 20) -> st.SearchStrategy[str]:
    """Valid Kubernetes label keys: ``[prefix/]name``, where the prefix is a DNS
    subdomain (at most 253 characters) and the name at most 63 characters of
    ``[A-Za-z0-9._-]`` starting and ending alphanumeric."""
    _check_bool("prefixes", prefixes)
    _check_size("max_size", max_size, 1, 63)
    name = _label_name(max_size)
    if not prefixes:
        return name
    prefix = st.lists(_dns_label(8), min_size=1, max_size=3).map(".".join)
    return st.one_of(name, st.builds(lambda p, n: f"{p}/{n}", prefix, name))


def label_values(*, max_size: int = 20) -> st.SearchStrategy[str]:
    """Valid Kubernetes label values: empty, or up to 63 characters of ``[A-Za-z0-9._-]``
    starting and ending alphanumeric."""
    _check_size("max_size", max_size, 0, 63)
    if max_size == 0:
        return st.just("")
    return st.one_of(st.just(""), _label_name(max_size))


def label_maps(
    *,
    keys: st.SearchStrategy[str] | None = None,
    values: st.SearchStrategy[str] | None = None,
    min_size: int = 0,
    max_size: int = 4,
) -> st.SearchStrategy[dict[str, str]]:
    """``dict[str, str]`` of valid Kubernetes labels (keys and values may be replaced by
    your own strategies, e.g. ``st.sampled_from([...])`` to make collisions likely)."""
    _check_size("min_size", min_size, 0, 100)
    _check_size("max_size", max_size, min_size, 100)
    return st.dictionaries(keys if keys is not None else label_keys(), values if values is not None else label_values(), min_size=min_size, max_size=max_size)


def _vocab_labels(vocab: Vocabulary, max_size: int = 3) -> st.SearchStrategy[dict[str, str]]:
    return st.dictionaries(st.sampled_from(vocab.label_keys), st.sampled_from(vocab.label_values), max_size=min(max_size, len(vocab.label_keys)))


# -- Kubernetes label selectors -----------------------------------------------------------


@st.composite
def _label_selector(draw: st.DrawFn, keys: Sequence[str], values: Sequence[str], max_terms: int = 2) -> dict[str, Any]:
    out: dict[str, Any] = {}
    match_labels = draw(st.dictionaries(st.sampled_from(keys), st.sampled_from(values), max_size=min(max_terms, len(keys))))
    if match_labels:
        out["matchLabels"] = match_labels
    expressions = []
    for _ in range(draw(st.integers(0, max_terms))):
        key = draw(st.sampled_from(keys))
        operator = draw(st.sampled_from(("In", "NotIn", "Exists", "DoesNotExist")))
        expression: dict[str, Any] = {"key": key, "operator": operator}
        if operator in ("In", "NotIn"):
            expression["values"] = draw(st.lists(st.sampled_from(values), min_size=1, max_size=2, unique=True))
        expressions.append(expression)
    if expressions:
        out["matchExpressions"] = expressions
    return out


def label_selectors(vocab: Vocabulary | None = None, *, max_terms: int = 2) -> st.SearchStrategy[dict[str, Any]]:
    """Kubernetes LabelSelectors (``matchLabels``, ``matchExpressions`` with every operator)."""
    _check_size("max_terms", max_terms, 0, 20)
    vocab = _check_vocab(vocab)
    return _label_selector(vocab.label_keys, vocab.label_values, max_terms)


def _ns_label_selector(vocab: Vocabulary) -> st.SearchStrategy[dict[str, Any]]:
    keys = vocab.label_keys + ("kubernetes.io/metadata.name",)
    return _label_selector(keys, vocab.label_values + vocab.namespaces)
