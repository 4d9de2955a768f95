"""The HTML matrix's style sheet and script, inlined into the page (no network).

Colours are from the Okabe-Ito palette, which people with any common colour-vision
deficiency tell apart: blue for allowed, vermillion for denied, sky blue for a group
whose pod pairs are partly allowed. The script shows a tooltip per cell (the verdict,
each side's deciding rule and the open ports) and, on a page of workloads or
namespaces, draws the finer grid of a clicked cell from the data the page carries.
"""

from __future__ import annotations

__all__ = ["CSS", "JS", "COLOURS"]

#: the cell colours: (class, colour, meaning)
COLOURS = (("a", "#0072B2", "allowed"), ("d", "#D55E00", "denied"), ("s", "#56B4E9", "some pod pairs allowed"))

CSS = """
:root { --allow: #0072B2; --deny: #D55E00; --some: #56B4E9; --ns: #222; }
* { box-sizing: border-box; }
body { font: 13px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 16px; color: #222; }
h1 { font-size: 18px; margin: 0 0 4px; }
h2 { font-size: 15px; margin: 16px 0 4px; }
p.meta { margin: 0 0 8px; color: #555; }
p.note { margin: 0 0 12px; padding: 6px 8px; background: #eef6fb; border-left: 3px solid var(--allow); }
.legend { margin: 0 0 10px; }
.legend span.key { display: inline-block; width: 12px; height: 12px; vertical-align: -2px; margin: 0 4px 0 12px; }
.legend span.key:first-child { margin-left: 0; }
.wrap { overflow: auto; max-height: calc(100vh - 130px); border: 1px solid #ddd; }
table.m { border-collapse: separate; border-spacing: 1px; font-size: 11px; line-height: 12px; }
table.m td { width: 12px; height: 12px; min-width: 12px; max-width: 12px; padding: 0; }
table.m td.a { background: var(--allow); }
table.m td.d { background: var(--deny); }
table.m td.s { background: var(--some); }
table.m td:hover { outline: 2px solid #000; }
table.m.groups td { cursor: zoom-in; }
table.m .first-col { box-shadow: inset 2px 0 0 var(--ns); }
table.m tr.first-row td { box-shadow: inset 0 2px 0 var(--ns); }
table.m tr.first-row td.first-col { box-shadow: inset 2px 2px 0 var(--ns); }
table.m th { font-weight: normal; white-space: nowrap; background: #fff; padding: 0 4px; }
table.m thead th { position: sticky; z-index: 2; }
table.m thead tr.ns th { top: 0; height: 18px; padding: 0; text-align: left; }
table.m thead tr.ns th.ns div { overflow: hidden; text-overflow: ellipsis; font-weight: 600;
                                border-bottom: 2px solid var(--ns); padding: 2px 0 1px 2px; }
table.m thead tr.pods th { top: 19px; writing-mode: vertical-rl; transform: rotate(180deg); text-align: left;
                           padding: 4px 0; max-width: 12px; }
table.m tbody th { position: sticky; left: 0; z-index: 1; text-align: right; }
table.m th.corner { left: 0; z-index: 3; }
#drill-panel { display: none; }
#drill-panel table.m thead tr.pods th { top: 0; }
#drill-panel button { margin-left: 8px; }
#tip { position: fixed; pointer-events: none; background: #222; color: #fff; padding: 6px 8px; border-radius: 4px;
       white-space: pre; font: 12px/1.4 ui-monospace, monospace; display: none; z-index: 10; max-width: 90vw; }
"""

JS = r"""
(function () {
  var R = JSON.parse(document.getElementById('reasons').textContent);
  var drillData = document.getElementById('drill');
  var D = drillData ? JSON.parse(drillData.textContent) : null;
  var tip = document.getElementById('tip');
  var main = document.querySelector('table.m');
  var ports = main.getAttribute('data-mode') === 'ports';
  function key(th) { return th.getAttribute('data-pod') || th.getAttribute('data-group'); }
  function verdict(ok) { return ports ? (ok ? 'allowed on some port' : 'no port allowed') : (ok ? 'Allow' : 'Deny'); }
  function why(v) {
    var e = +v[0], i = +v[1], p = +v[v.length - 1];
    var rules = ports ? (R[e] ? '\n' + R[e] : '') : '\negress:  ' + R[e] + '\ningress: ' + R[i];
    return rules + '\n' + R[p];
  }
  function text(td) {
    var table = td.closest('table'), tr = td.parentNode;
    var col = Array.prototype.indexOf.call(tr.querySelectorAll('td'), td);
    var row = tr.querySelector('th.pod'), head = table.querySelectorAll('thead tr.pods th:not(.corner)')[col];
    var v = td.getAttribute('data-v').split(','), n = td.getAttribute('data-n');
    if (!n) {
      return key(row) + ' -> ' + key(head) + ': ' + verdict(td.classList.contains('a')) + why(v);
    }
    var counts = n.split('/');
    return key(row) + ' -> ' + key(head) + ': ' + counts[0] + ' of ' + counts[1] + ' pod pairs allowed' +
      '\nfor example ' + row.getAttribute('data-eg') + ' -> ' + head.getAttribute('data-eg') + ': ' +
      verdict(v[2] === '1') + why(v) + (D ? '\n(click to see inside)' : '');
  }
  document.addEventListener('mousemove', function (ev) {
    var td = ev.target.closest ? ev.target.closest('table.m td') : null;
    if (!td) { tip.style.display = 'none'; return; }
    tip.textContent = text(td);
    tip.style.display = 'block';
    var x = ev.clientX + 14, y = ev.clientY + 14;
    if (x + tip.offsetWidth > window.innerWidth) x = ev.clientX - tip.offsetWidth - 14;
    if (y + tip.offsetHeight > window.innerHeight) y = ev.clientY - tip.offsetHeight - 14;
    tip.style.left = x + 'px'; tip.style.top = y + 'px';
  });
  if (!D) { return; }

  // -- drill-down: the finer grid of a clicked cell, from the classes' answers ----------------
  var LIMIT = 300;
  function pair(i, j) {
    if (i === j) { return [1, D.same, D.same, D.all]; }
    var x = D.cls[i] * D.k + D.cls[j];
    return [D.ok.charCodeAt(x) === 49 ? 1 : 0, D.why[3 * x], D.why[3 * x + 1], D.why[3 * x + 2]];
  }
  function esc(s) {
    return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  }
  function units(level, within) {
    var inside = {}, found = [];
    within.forEach(function (p) { inside[p] = true; });
    if (level >= D.levels.length) {
      within.forEach(function (p) { found.push({label: D.pods[p], members: [p]}); });
      return found;
    }
    D.levels[level].units.forEach(function (u) {
      if (inside[u[1][0]]) { found.push({label: u[0], members: u[1]}); }
    });
    return found;
  }
  function cell(a, b) {
    var allowed = 0, total = a.members.length * b.members.length;
    a.members.forEach(function (i) { b.members.forEach(function (j) { allowed += pair(i, j)[0]; }); });
    var x = pair(a.members[0], b.members[0]);
    var cls = allowed === total ? 'a' : allowed === 0 ? 'd' : 's';
    if (a.members.length === 1 && b.members.length === 1) {
      return '<td class="' + cls + '" data-v="' + x[1] + ',' + x[2] + ',' + x[3] + '"></td>';
    }
    return '<td class="' + cls + '" data-v="' + x[1] + ',' + x[2] + ',' + x[0] + ',' + x[3] +
      '" data-n="' + allowed + '/' + total + '"></td>';
  }
  function head(u) {
    if (u.members.length === 1) { return 'data-pod="' + esc(D.pods[u.members[0]]) + '"'; }
    return 'data-group="' + esc(u.label) + '" data-eg="' + esc(D.pods[u.members[0]]) + '"';
  }
  function show(level, rowMembers, colMembers, title) {
    while (level < D.levels.length && D.levels[level].units.length === D.pods.length) { level += 1; }
    var rows = units(level, rowMembers), cols = units(level, colMembers);
    var cut = rows.length > LIMIT || cols.length > LIMIT;
    rows = rows.slice(0, LIMIT); cols = cols.slice(0, LIMIT);
    var name = level >= D.levels.length ? 'pods' : D.levels[level].name;
    var html = ['<table class="m' + (name === 'pods' ? '' : ' groups') + '" data-level="' + level + '"><thead>',
                '<tr class="pods"><th class="corner"></th>'];
    cols.forEach(function (u) {
      var count = u.members.length > 1 ? ' \u00d7' + u.members.length : '';
      html.push('<th ' + head(u) + ' title="' + esc(u.label) + '">' + esc(u.label.split('/').pop()) + count + '</th>');
    });
    html.push('</tr></thead><tbody>');
    rows.forEach(function (a) {
      var count = a.members.length > 1 ? ' \u00d7' + a.members.length : '';
      html.push('<tr><th class="pod" ' + head(a) + '>' + esc(a.label) + count + '</th>');
      cols.forEach(function (b) { html.push(cell(a, b)); });
      html.push('</tr>');
    });
    html.push('</tbody></table>');
    var panel = document.getElementById('drill-panel');
    panel.querySelector('h2 span').textContent = title + ': one row per ' + name.replace(/s$/, '') +
      (cut ? ' (the first ' + LIMIT + ' rows and columns)' : '');
    panel.querySelector('.wrap').innerHTML = html.join('');
    panel.querySelector('table').units = [rows, cols];
    panel.style.display = 'block';
    panel.scrollIntoView();
  }
  document.addEventListener('click', function (ev) {
    var td = ev.target.closest ? ev.target.closest('table.m.groups td') : null;
    if (!td) { return; }
    var table = td.closest('table'), tr = td.parentNode;
    var col = Array.prototype.indexOf.call(tr.querySelectorAll('td'), td);
    var row = Array.prototype.indexOf.call(table.querySelectorAll('tbody tr'), tr);
    var a, b, level;
    if (table.units) {
      a = table.units[0][row]; b = table.units[1][col]; level = +table.getAttribute('data-level') + 1;
    } else {
      a = {label: D.top[row][0], members: D.top[row][1]}; b = {label: D.top[col][0], members: D.top[col][1]}; level = 0;
    }
    show(level, a.members, b.members, a.label + ' \u2192 ' + b.label);
  });
  document.querySelector('#drill-panel button').addEventListener('click', function () {
    document.getElementById('drill-panel').style.display = 'none';
  });
})();
"""
