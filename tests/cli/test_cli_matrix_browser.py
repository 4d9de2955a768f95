"""`netpolicy matrix -o html` in a real browser: headless Chromium loads the page from a
file with the network cut off, the page's script runs without an error, a hovered cell
shows its tooltip, a clicked group cell draws the grid inside it, and a screenshot is
taken. Skipped, saying why, where no Chromium is installed; CI installs it and sets
NETPOLICY_REQUIRE_BROWSER=1, which makes a missing browser an error."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from clihelp import STAGING, Run

from test_cli_matrix_budget import cluster

_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
BROWSER = os.environ.get("NETPOLICY_BROWSER") or next((p for p in map(shutil.which, _NAMES) if p), None)

_MISSING = "no headless browser: install Chromium (Debian: apt-get install chromium) or set NETPOLICY_BROWSER"
if BROWSER is None and os.environ.get("NETPOLICY_REQUIRE_BROWSER") == "1":  # CI: a missing browser is a failure
    raise RuntimeError(_MISSING + " (NETPOLICY_REQUIRE_BROWSER=1)")
pytestmark = pytest.mark.skipif(BROWSER is None, reason=_MISSING)

#: first in <head>: every error the page raises is written on the <html> element
RECORD_ERRORS = """<script>
window.addEventListener('error', function (e) {
  var root = document.documentElement;
  root.setAttribute('data-errors', (root.getAttribute('data-errors') || '') + (e.message || 'error') + '|');
});
</script>"""

#: last in <body>: hover a cell, click a group cell, hover and click inside what it drew
EXERCISE = """<script>
(function () {
  var root = document.documentElement;
  function hover(td) {
    var r = td.getBoundingClientRect();
    td.dispatchEvent(new MouseEvent('mousemove', {bubbles: true, clientX: r.left + 2, clientY: r.top + 2}));
    return document.getElementById('tip').textContent;
  }
  var cells = document.querySelectorAll('table.m td');
  root.setAttribute('data-cells', String(cells.length));
  root.setAttribute('data-tip', hover(cells[cells.length - 1]));
  var group = document.querySelector('table.m.groups td');
  if (group) {
    group.dispatchEvent(new MouseEvent('click', {bubbles: true}));
    var panel = document.getElementById('drill-panel');
    var inner = panel ? panel.querySelectorAll('td') : [];
    root.setAttribute('data-drill', panel && panel.style.display === 'block' ? String(inner.length) : 'none');
    root.setAttribute('data-drill-title', panel ? panel.querySelector('h2 span').textContent : '');
    if (inner.length) {
      root.setAttribute('data-drill-tip', hover(inner[0]));
      var deeper = panel.querySelector('table.m.groups td');
      if (deeper) {
        deeper.dispatchEvent(new MouseEvent('click', {bubbles: true}));
        root.setAttribute('data-deeper', String(panel.querySelectorAll('td').length));
      }
    }
  }
  root.setAttribute('data-done', 'yes');
})();
</script>"""


def _browser(*args: str) -> subprocess.CompletedProcess[str]:
    assert BROWSER is not None
    command = [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--host-resolver-rules=MAP * ~NOTFOUND", "--user-data-dir=" + args[0], *args[1:]]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


class Root(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.attrs: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "html":
            self.attrs = {k: v or "" for k, v in attrs}


def load(page: str, tmp_path: Path) -> dict[str, str]:
    """Loads ``page`` (with the recorders added) and returns the attributes they wrote."""
    probe = page.replace("<head>", "<head>\n" + RECORD_ERRORS, 1).replace("</body>", EXERCISE + "\n</body>", 1)
    path = tmp_path / "probe.html"
    path.write_text(probe, encoding="utf-8")
    result = _browser(str(tmp_path / "profile"), "--dump-dom", path.as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    root = Root()
    root.feed(result.stdout)
    assert root.attrs.get("data-done") == "yes", f"the page's script did not run to the end: {result.stderr[-2000:]}"
    return root.attrs


def screenshot(page: str, tmp_path: Path) -> bytes:
    path = tmp_path / "page.html"
    path.write_text(page, encoding="utf-8")
    shot = tmp_path / "page.png"
    result = _browser(str(tmp_path / "profile-shot"), f"--screenshot={shot}", "--window-size=1200,900", path.as_uri())
    assert result.returncode == 0 and shot.exists(), result.stderr[-2000:]
    return shot.read_bytes()


def _self_contained(page: str) -> None:
    assert not re.search(r"""(src|href)\s*=|https?://|@import|url\(""", page), "the page must not load anything"


def test_the_pod_page_runs_and_shows_tooltips(run: Run, tmp_path: Path) -> None:
    page = run(["matrix", "-f", str(STAGING), "--port", "443", "-o", "html"]).stdout
    _self_contained(page)
    seen = load(page, tmp_path)
    assert "data-errors" not in seen, seen.get("data-errors")
    assert seen["data-cells"] == "16"
    tip = seen["data-tip"]  # staging/front-end to itself, the last cell
    assert tip.startswith("staging/front-end -> staging/front-end: Allow") and "same endpoint" in tip
    png = screenshot(page, tmp_path)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000


def test_a_group_page_draws_the_grid_inside_a_cell(run: Run, tmp_path: Path) -> None:
    manifests = tmp_path / "cluster.yaml"
    manifests.write_text(cluster(namespaces=3, workloads=4, replicas=3))
    result = run(["matrix", "-f", str(manifests), "-o", "html", "--html-budget", "0.02"])
    assert result.exit_code == 0, result.stderr
    page = result.stdout
    _self_contained(page)
    assert 'id="drill"' in page and len(page.encode()) <= 20_000
    seen = load(page, tmp_path)
    assert "data-errors" not in seen, seen.get("data-errors")
    assert seen["data-cells"] == "9"  # 3 namespaces
    assert "pod pairs allowed" in seen["data-tip"] and "open:" in seen["data-tip"]
    assert seen["data-drill"] == "16"  # ns-0 to itself: 4 workloads by 4
    assert seen["data-drill-title"].startswith("ns-0 → ns-0: one row per workload")
    assert "pod pairs allowed" in seen["data-drill-tip"]
    assert seen["data-deeper"] == "9"  # one workload to itself: 3 pods by 3
    png = screenshot(page, tmp_path)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000


def test_without_a_port_the_tooltip_lists_the_open_ranges(run: Run, tmp_path: Path) -> None:
    page = run(["matrix", "-f", str(STAGING), "-n", "staging", "-o", "html"]).stdout
    seen = load(page, tmp_path)
    assert "data-errors" not in seen, seen.get("data-errors")
    assert seen["data-tip"].startswith("staging/front-end -> staging/front-end: allowed on some port")
