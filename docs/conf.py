"""Sphinx configuration: MyST Markdown pages, API pages from docstrings, doctested
examples. Build: sphinx-build -W -n -b html docs docs/_build/html"""

from __future__ import annotations

import os
import sys
from typing import Any

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, ROOT)

import netpolicy  # noqa: E402

project = "netpolicy"
author = "the netpolicy authors"
copyright = "the netpolicy authors"
release = netpolicy.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.doctest",
    "sphinx.ext.graphviz",
]

graphviz_output_format = "svg"

source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": False}

# The doctest builder runs from the repository root, where examples/ is.
doctest_global_setup = f"""
import os
os.chdir({ROOT!r})
"""

# Types from outside the package that autodoc names but Sphinx cannot link without
# network access to other projects' inventories.
nitpick_ignore_regex = [
    ("py:class", r"(ipaddress|typing|collections\.abc|attrs|hypothesis|numpy|enum|click)\..*"),
    ("py:class", r"(IPv4Address|IPv6Address|IPv4Network|IPv6Network|Mapping|Sequence|Iterable|Callable|Any|Side|IPAddress|IPNetwork)"),
    ("py:class", r"(SearchStrategy|Path|PathLike|os\.PathLike|TextIO|IO)"),
    ("py:class", r"netpolicy\.(model|flow|verdict|selector|policyset|errors|resolve\.snapshot)\.\w+"),
    ("py:obj", r"netpolicy\..*\.(Any|Side)"),
    # Names that docstrings use unqualified (documented on this site under their modules)
    # and private helpers that appear in signatures.
    ("py:class", r"(Step|Layer|RulePort|BatchResult|Matrix|CalicoVersion|Answer|_ast\.Node)"),
    ("py:class", r"(Names|netpolicy\.resolve\.names\.\w+)"),
    ("py:class", r"Snapshot"),  # what the analyses take: a PolicySet
    ("py:attr", r"Decision\.layer"),
    ("py:class", r"netpolicy\.(selector\._\w+|engine(\.\w+)?|matrix)\.\w+"),
]

html_title = f"netpolicy {release}"
try:
    import furo  # noqa: F401

    html_theme = "furo"
except ImportError:
    html_theme = "alabaster"
html_static_path: list[str] = []


# BatchResult and Matrix are returned by PolicySet's methods, never built by users: their
# entries list no constructor parameters (autodoc adds them from the annotations).
_RETURNED_ONLY = {"netpolicy.BatchResult", "netpolicy.Matrix"}


def _drop_constructor_fields(app: object, domain: str, objtype: str, contentnode: Any) -> None:
    signature = contentnode.parent[0]
    if objtype == "class" and f"{signature.get('module')}.{signature.get('fullname')}" in _RETURNED_ONLY:
        for field_list in [node for node in contentnode.children if node.tagname == "field_list"]:
            contentnode.remove(field_list)


def setup(app: Any) -> None:
    app.connect("object-description-transform", _drop_constructor_fields, priority=600)
