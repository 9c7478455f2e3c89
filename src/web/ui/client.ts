import { durationFormats } from '../../status/format.ts';

/**
 * The UI's browser script, served as /static/outpost.js. Plain ES2020 with no dependencies; it
 * renders every page from the public HTTP API (relative URLs, so route prefixes just work) and
 * builds the DOM with textContent only, so label values can never inject markup.
 * Kept free of backticks and dollar-brace so it can live in this template literal.
 * Non-ASCII characters are written as \u escapes: esbuild cannot escape them inside String.raw,
 * and a single one makes V8 hold the whole bundle's source as a two-byte string.
 *
 * Durations are formatted by src/status/format.ts, whose source is prepended (the same code as the dashboard's).
 */
export const CLIENT_JS = 'var outpostDurationFormats = ' + durationFormats.toString() + ';\n' + String.raw`
(function () {
  'use strict';
  var REFRESH_MS = 5000;
  var body = document.body;
  var page = body.getAttribute('data-page');
  var live = body.getAttribute('data-live') === '1';
  var content = document.getElementById('content');
  var controls = document.getElementById('controls');
  var errorBox = document.getElementById('error');
  var updated = document.getElementById('updated');
  var autoBox = document.getElementById('auto-refresh');
  var timer = null;
  var state = { collapsed: {}, search: '', health: 'all', sdShow: 'all', flagSearch: '' };

  // ---------------------------------------------------------------- helpers
  function h(tag, attrs) {
    var el = document.createElement(tag);
    if (attrs) {
      for (var k in attrs) {
        if (!Object.prototype.hasOwnProperty.call(attrs, k)) continue;
        var v = attrs[k];
        if (v === null || v === undefined || v === false) continue;
        if (k === 'text') el.textContent = String(v);
        else if (k === 'class') el.className = v;
        else if (k.slice(0, 2) === 'on') el.addEventListener(k.slice(2), v);
        else el.setAttribute(k, v === true ? '' : String(v));
      }
    }
    for (var i = 2; i < arguments.length; i++) append(el, arguments[i]);
    return el;
  }
  function append(el, c) {
    if (c === null || c === undefined || c === false) return;
    if (Array.isArray(c)) { c.forEach(function (x) { append(el, x); }); return; }
    el.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
  }
  function ApiError(status, message) { this.status = status; this.message = message; }
  function api(path) {
    return fetch('api/v1/' + path, { headers: { Accept: 'application/json' }, cache: 'no-store' }).then(function (r) {
      return r.text().then(function (text) {
        var j = null;
        try { j = JSON.parse(text); } catch (e) { j = null; }
        if (!r.ok || !j || j.status !== 'success') throw new ApiError(r.status, (j && j.error) || (r.status + ' ' + text.trim()));
        return j.data;
      });
    });
  }
  function fmtNum(n) {
    if (typeof n !== 'number' || !isFinite(n)) return String(n);
    return n.toLocaleString('en-US', { maximumFractionDigits: n < 10 ? 2 : n < 1000 ? 1 : 0 });
  }
  function fmtBytes(n) {
    if (!(n > 0)) return '0 B';
    var u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    var i = 0;
    while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    return (i === 0 ? String(n) : n.toFixed(n < 10 ? 2 : 1)) + ' ' + u[i];
  }
  // The dashboard's duration style, from src/status/format.ts (prepended to this script).
  var fmt = outpostDurationFormats();
  function fmtSeconds(s) { return fmt.seconds(s); }
  function fmtDuration(s) { return fmt.duration(s * 1000); }
  function isZeroTime(iso) { return !iso || iso.indexOf('0001-01-01') === 0; }
  function ago(iso) {
    if (isZeroTime(iso)) return 'never';
    var d = (Date.now() - Date.parse(iso)) / 1000;
    if (d < 0) d = 0;
    return fmtDuration(d) + ' ago';
  }
  function timeEl(iso) {
    if (isZeroTime(iso)) return h('span', { class: 'muted', text: 'never' });
    return h('time', { datetime: iso, title: iso, text: ago(iso) });
  }
  function badge(health) {
    var hl = health === 'up' || health === 'down' ? health : 'unknown';
    return h('span', { class: 'badge ' + hl, text: hl });
  }
  function okBadge(ok, yes, no) { return h('span', { class: 'badge ' + (ok ? 'up' : 'down'), text: ok ? yes : no }); }
  function labelList(obj, label) {
    var keys = Object.keys(obj || {}).sort();
    if (keys.length === 0) return h('span', { class: 'muted', text: 'none' });
    return h('ul', { class: 'labels', 'aria-label': label },
      keys.map(function (k) { return h('li', { class: k.indexOf('__') === 0 ? 'meta' : null, text: k + '="' + obj[k] + '"' }); }));
  }
  function table(caption, headers, rows, opts) {
    opts = opts || {};
    return h('div', { class: 'table-wrap' },
      h('table', null,
        h('caption', { class: opts.hideCaption ? 'sr-only' : null, text: caption }),
        h('thead', null, h('tr', null, headers.map(function (x) {
          var txt = typeof x === 'string' ? x : x.text;
          return h('th', { scope: 'col', class: typeof x === 'string' ? null : x.class, text: txt });
        }))),
        h('tbody', null, rows)));
  }
  function kv(pairs) {
    var dl = h('dl', { class: 'kv' });
    pairs.forEach(function (p) { if (p) { dl.appendChild(h('dt', { text: p[0] })); dl.appendChild(h('dd', null, p[1])); } });
    return dl;
  }
  function panel(id, title, countText, bodyNodes, collapsible) {
    var bodyId = 'panel-' + id.replace(/[^a-zA-Z0-9_-]/g, '_');
    var expanded = !state.collapsed[id];
    var heading;
    if (collapsible) {
      heading = h('h2', null, h('button', {
        type: 'button', id: 'toggle-' + bodyId, 'aria-expanded': expanded ? 'true' : 'false', 'aria-controls': bodyId,
        onclick: function (ev) {
          var btn = ev.currentTarget;
          var open = btn.getAttribute('aria-expanded') !== 'true';
          btn.setAttribute('aria-expanded', open ? 'true' : 'false');
          document.getElementById(bodyId).hidden = !open;
          if (open) delete state.collapsed[id]; else state.collapsed[id] = true;
        },
      }, h('span', { class: 'chev', 'aria-hidden': 'true', text: '\u25BE' }), title));
    } else {
      heading = h('h2', { text: title });
    }
    return h('section', { class: 'panel', 'aria-label': title },
      h('div', { class: 'panel-head' }, heading, countText ? h('span', { class: 'count', text: countText }) : null),
      h('div', { class: 'panel-body', id: bodyId, hidden: collapsible && !expanded }, bodyNodes));
  }
  function empty(text) { return h('p', { class: 'empty', text: text }); }
  function field(labelText, input) {
    var id = input.id;
    return h('div', { class: 'field' }, h('label', { for: id, text: labelText }), input);
  }
  function syncQuery(params) {
    var q = new URLSearchParams(location.search);
    Object.keys(params).forEach(function (k) { if (params[k]) q.set(k, params[k]); else q.delete(k); });
    var s = q.toString();
    history.replaceState(null, '', location.pathname + (s ? '?' + s : ''));
  }
  function groupBy(list, key) {
    var m = {};
    list.forEach(function (x) { var k = key(x); (m[k] = m[k] || []).push(x); });
    return m;
  }
  function matchesSearch(text, search) {
    if (!search) return true;
    var words = search.toLowerCase().split(/\s+/).filter(Boolean);
    var t = text.toLowerCase();
    return words.every(function (w) { return t.indexOf(w) >= 0; });
  }
  function labelsText(obj) {
    return Object.keys(obj || {}).map(function (k) { return k + '="' + obj[k] + '"'; }).join(' ');
  }
  // Refreshes rebuild the content; keep keyboard focus on the same control across them.
  function focusKey(el) {
    if (!el || !content.contains(el)) return null;
    return el.id ? '#' + el.id : el.getAttribute('data-key');
  }
  function replace(node) {
    var key = focusKey(document.activeElement);
    content.textContent = '';
    append(content, node);
    content.setAttribute('aria-busy', 'false');
    if (key) {
      var target = key.charAt(0) === '#' ? document.getElementById(key.slice(1)) : content.querySelector('[data-key="' + (window.CSS && CSS.escape ? CSS.escape(key) : key) + '"]');
      if (target) target.focus();
    }
  }
  function setError(msg) {
    if (msg) { errorBox.textContent = msg; errorBox.hidden = false; }
    else if (!errorBox.hidden) { errorBox.hidden = true; errorBox.textContent = ''; }
  }
  function sparkline(values, label) {
    var w = 280, ht = 48, pad = 2;
    var svgNS = 'http://www.w3.org/2000/svg';
    var svg = document.createElementNS(svgNS, 'svg');
    svg.setAttribute('class', 'spark');
    svg.setAttribute('viewBox', '0 0 ' + w + ' ' + ht);
    svg.setAttribute('preserveAspectRatio', 'none');
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', label);
    var t = document.createElementNS(svgNS, 'title');
    t.textContent = label;
    svg.appendChild(t);
    if (values.length < 2) return svg;
    var max = Math.max.apply(null, values.concat([1e-9]));
    var pts = values.map(function (v, i) {
      var x = pad + (i * (w - 2 * pad)) / (values.length - 1);
      var y = ht - pad - (v / max) * (ht - 2 * pad);
      return x.toFixed(1) + ',' + y.toFixed(1);
    });
    var area = document.createElementNS(svgNS, 'polygon');
    area.setAttribute('class', 'area');
    area.setAttribute('points', pad + ',' + (ht - pad) + ' ' + pts.join(' ') + ' ' + (w - pad) + ',' + (ht - pad));
    svg.appendChild(area);
    var line = document.createElementNS(svgNS, 'polyline');
    line.setAttribute('points', pts.join(' '));
    svg.appendChild(line);
    return svg;
  }

  // ---------------------------------------------------------------- pages
  function renderReplay() {
    return Promise.all([api('status/walreplay').catch(function () { return null; }), api('status/wal').catch(function () { return null; })]).then(function (r) {
      var rp = r[0], wal = r[1];
      var nodes = [h('p', { text: 'The agent is starting: it replays its write-ahead log before it serves the API.' })];
      if (rp && rp.max > 0) {
        nodes.push(h('p', null, h('label', { for: 'replay-progress', text: 'Replaying WAL segment ' + rp.current + ' of ' + rp.max + ' ' }),
          h('progress', { id: 'replay-progress', max: String(rp.max), value: String(rp.current) })));
      }
      if (wal) nodes.push(kv([['Phase', wal.phase], ['WAL size', fmtBytes(wal.bytes)], ['Segments', fmtNum(wal.segments)]]));
      return panel('starting', 'Starting up', null, nodes, false);
    });
  }

  function renderAgent() {
    return Promise.all([api('status/buildinfo'), api('status/runtimeinfo'), api('targets?state=active'), api('status/remote_write'), api('status/wal')]).then(function (r) {
      var build = r[0], rt = r[1], tg = r[2].activeTargets, rw = r[3].endpoints, wal = r[4];
      var up = tg.filter(function (t) { return t.health === 'up'; }).length;
      var down = tg.filter(function (t) { return t.health === 'down'; }).length;
      var unknown = tg.length - up - down;
      var uptime = (Date.now() - Date.parse(rt.startTime)) / 1000;
      var intro = h('p', null, 'This is an agent: it scrapes targets, keeps the samples in a write-ahead log and sends them to ',
        'remote storage. It has no local query engine, rules or alerts.');
      var cards = h('div', { class: 'cards' },
        panel('ov-agent', 'Agent', null, kv([
          ['Phase', wal.phase],
          ['Version', build.version],
          ['Uptime', fmtDuration(uptime)],
          ['Last config reload', h('span', null, okBadge(rt.reloadConfigSuccess, 'ok', 'failed'), ' ', timeEl(rt.lastConfigTime))],
        ]), false),
        panel('ov-targets', 'Targets', null, [
          h('div', { class: 'stat-row' },
            h('div', { class: 'stat' }, h('span', { class: 'v', text: fmtNum(up) }), h('span', { class: 'k', text: 'up' })),
            h('div', { class: 'stat' }, h('span', { class: 'v', text: fmtNum(down) }), h('span', { class: 'k', text: 'down' })),
            h('div', { class: 'stat' }, h('span', { class: 'v', text: fmtNum(unknown) }), h('span', { class: 'k', text: 'unknown' }))),
          h('p', null, h('a', { href: 'targets', text: 'All targets' }))], false),
        panel('ov-wal', 'Write-ahead log', null, [kv([
          ['Size on disk', fmtBytes(wal.bytes) + (wal.capBytes > 0 ? ' of ' + fmtBytes(wal.capBytes) + ' cap' : '')],
          ['Segments', fmtNum(wal.segments)],
          ['Active series', fmtNum(wal.series.active)],
        ]), h('p', null, h('a', { href: 'wal', text: 'WAL details' }))], false),
        panel('ov-rw', 'Remote write', null, [
          rw.length === 0 ? empty('No remote_write endpoints configured.') :
            h('ul', { class: 'plain' }, rw.map(function (e) {
              return h('li', null, badge(e.health), ' ', e.name || e.url, h('span', { class: 'muted', text: ' \u00B7 lag ' + fmtSeconds(e.lagSeconds) + ', ' + fmtNum(e.pendingSamples) + ' pending' }));
            })),
          h('p', null, h('a', { href: 'remote-write', text: 'Remote write details' }))], false));
      return [intro, cards];
    });
  }

  function targetsControls() {
    var search = h('input', { type: 'search', id: 'target-search', placeholder: 'endpoint or label, e.g. job="node"', value: state.search,
      oninput: function (ev) { state.search = ev.target.value; syncQuery({ search: state.search }); rerender(); } });
    var sel = h('select', { id: 'target-health', onchange: function (ev) { state.health = ev.target.value; syncQuery({ health: state.health === 'all' ? '' : state.health }); rerender(); } },
      ['all', 'up', 'down', 'unknown'].map(function (v) { return h('option', { value: v, selected: state.health === v, text: v === 'all' ? 'All' : v === 'up' ? 'Up' : v === 'down' ? 'Down' : 'Unknown' }); }));
    controls.textContent = '';
    append(controls, [field('Filter targets', search), field('Health', sel),
      h('span', { id: 'target-count', class: 'muted', 'aria-live': 'polite' })]);
  }

  var lastData = null;
  function rerender() { if (lastData && renderers[page].draw) { replace(renderers[page].draw(lastData)); } }

  function drawTargets(data) {
    var all = data.activeTargets;
    var shown = all.filter(function (t) {
      if (state.health !== 'all' && t.health !== state.health) return false;
      return matchesSearch(t.scrapeUrl + ' ' + labelsText(t.labels), state.search);
    });
    var countEl = document.getElementById('target-count');
    if (countEl) countEl.textContent = shown.length === all.length ? all.length + ' targets' : shown.length + ' of ' + all.length + ' targets shown';
    if (all.length === 0) return empty('No active targets.');
    if (shown.length === 0) return empty('No targets match the filter.');
    var groups = groupBy(shown, function (t) { return t.scrapePool; });
    var totals = groupBy(all, function (t) { return t.scrapePool; });
    return Object.keys(groups).sort().map(function (pool) {
      var list = groups[pool];
      var upN = totals[pool].filter(function (t) { return t.health === 'up'; }).length;
      var rows = list.map(function (t) {
        return h('tr', null,
          h('td', null, h('a', { href: t.scrapeUrl, 'data-key': 'link:' + t.scrapePool + ':' + t.scrapeUrl, text: t.scrapeUrl })),
          h('td', null, badge(t.health)),
          h('td', null, labelList(t.labels, 'Target labels')),
          h('td', { class: 'nowrap' }, timeEl(t.lastScrape)),
          h('td', { class: 'num' }, isZeroTime(t.lastScrape) ? '\u2013' : fmt.scrapeDuration(t.lastScrapeDuration * 1000)),
          h('td', { class: 'num' }, t.scrapeInterval || '\u2013'),
          h('td', { class: 'error' }, t.lastError || ''));
      });
      return panel('pool:' + pool, pool, upN + ' / ' + totals[pool].length + ' up',
        table('Targets of scrape pool ' + pool, ['Endpoint', 'State', 'Labels', 'Last scrape', { text: 'Duration', class: 'num' }, { text: 'Interval', class: 'num' }, 'Error'], rows, { hideCaption: true }), true);
    });
  }

  function sdControls() {
    var search = h('input', { type: 'search', id: 'sd-search', placeholder: 'label, e.g. __meta_filepath', value: state.search,
      oninput: function (ev) { state.search = ev.target.value; syncQuery({ search: state.search }); rerender(); } });
    var sel = h('select', { id: 'sd-show', onchange: function (ev) { state.sdShow = ev.target.value; syncQuery({ show: state.sdShow === 'all' ? '' : state.sdShow }); rerender(); } },
      [['all', 'Active and dropped'], ['active', 'Active only'], ['dropped', 'Dropped only']].map(function (o) { return h('option', { value: o[0], selected: state.sdShow === o[0], text: o[1] }); }));
    controls.textContent = '';
    append(controls, [field('Filter labels', search), field('Show', sel)]);
  }

  function drawSD(data) {
    var pools = {};
    data.pools.forEach(function (p) { pools[p] = { active: [], dropped: [] }; });
    data.activeTargets.forEach(function (t) { (pools[t.scrapePool] = pools[t.scrapePool] || { active: [], dropped: [] }).active.push(t); });
    data.droppedTargets.forEach(function (t) {
      var job = (t.discoveredLabels && t.discoveredLabels.job) || '';
      (pools[job] = pools[job] || { active: [], dropped: [] }).dropped.push(t);
    });
    var names = Object.keys(pools).sort();
    if (names.length === 0) return empty('No scrape pools configured.');
    return names.map(function (name) {
      var p = pools[name];
      var rows = [];
      if (state.sdShow !== 'dropped') p.active.forEach(function (t) {
        if (!matchesSearch(labelsText(t.discoveredLabels) + ' ' + labelsText(t.labels), state.search)) return;
        rows.push(h('tr', null, h('td', null, labelList(t.discoveredLabels, 'Discovered labels')), h('td', null, labelList(t.labels, 'Target labels'))));
      });
      if (state.sdShow !== 'active') p.dropped.forEach(function (t) {
        if (!matchesSearch(labelsText(t.discoveredLabels), state.search)) return;
        rows.push(h('tr', null, h('td', null, labelList(t.discoveredLabels, 'Discovered labels')), h('td', null, h('span', { class: 'badge warn', text: 'dropped' }))));
      });
      var body = rows.length ? table('Service discovery for ' + name, ['Discovered labels', 'Target labels'], rows, { hideCaption: true }) : empty('Nothing to show.');
      return panel('sd:' + name, name, p.active.length + ' active, ' + p.dropped.length + ' dropped', body, true);
    });
  }

  function drawRemote(data) {
    var eps = data.endpoints;
    if (eps.length === 0) return empty('No remote_write endpoints configured.');
    return eps.map(function (e) {
      var series = e.throughput.samplesPerSecond;
      var span = Math.round((series.length * e.throughput.intervalSeconds) / 60);
      var maxV = series.length ? Math.max.apply(null, series) : 0;
      var label = 'Throughput over the last ' + (span || 1) + ' min: latest ' + fmtNum(e.sendRate) + ' samples/s, peak ' + fmtNum(maxV) + ' samples/s';
      var title = e.name || e.url;
      var body = [
        h('p', null, badge(e.health), ' ', h('span', { class: 'muted', text: e.url })),
        h('div', { class: 'stat-row' },
          h('div', { class: 'stat' }, h('span', { class: 'v', text: fmtSeconds(e.lagSeconds) }), h('span', { class: 'k', text: 'lag' })),
          h('div', { class: 'stat' }, h('span', { class: 'v', text: fmtNum(e.pendingSamples) }), h('span', { class: 'k', text: 'pending samples' })),
          h('div', { class: 'stat' }, h('span', { class: 'v', text: fmtBytes(e.backlogBytes) }), h('span', { class: 'k', text: 'WAL backlog' })),
          h('div', { class: 'stat' }, h('span', { class: 'v', text: fmtNum(e.sendRate) }), h('span', { class: 'k', text: 'samples/s' })),
          h('div', { class: 'stat' }, h('span', { class: 'v', text: fmtNum(e.shards) }), h('span', { class: 'k', text: 'shards' }))),
        h('h3', { text: 'Throughput' }),
        sparkline(series, label),
        h('h3', { text: 'Counters' }),
        kv([
          ['Samples sent', fmtNum(e.samplesSent)],
          ['Retried', fmtNum(e.samplesRetried)],
          ['Dropped', fmtNum(e.samplesDropped)],
          ['Failed', fmtNum(e.samplesFailed)],
          ['Last error', e.lastError ? h('span', { class: 'error' }, e.lastError, e.lastErrorTime ? h('span', { class: 'muted' }, ' (', timeEl(e.lastErrorTime), ')') : null) : h('span', { class: 'muted', text: 'none' })],
        ]),
      ];
      return panel('rw:' + title, title, null, body, false);
    });
  }

  function drawWal(w) {
    var replay = w.replay.done ? okBadge(true, 'done', '') :
      h('span', null, h('progress', { max: String(Math.max(w.replay.max, 1)), value: String(w.replay.current), 'aria-label': 'WAL replay progress' }),
        ' segment ' + w.replay.current + ' of ' + w.replay.max);
    var oldest = w.oldestTimestamp ? h('span', null, timeEl(w.oldestTimestamp)) : h('span', { class: 'muted', text: 'unknown' });
    return h('div', { class: 'cards' },
      panel('wal-disk', 'On disk', null, kv([
        ['Directory', w.dataDir + '/wal'],
        ['Size', fmtBytes(w.bytes)],
        ['Size cap', w.capBytes > 0 ? h('span', null, fmtBytes(w.capBytes) + ' ',
          h('meter', { min: '0', max: String(w.capBytes), high: String(w.capBytes * 0.9), value: String(Math.min(w.bytes, w.capBytes)), 'aria-label': 'WAL size of cap', title: (100 * w.bytes / w.capBytes).toFixed(1) + '% used' }),
          ' ' + (100 * w.bytes / w.capBytes).toFixed(1) + '% used') : 'none'],
        ['Segments', fmtNum(w.segments) + (w.segments > 0 ? ' (' + w.firstSegment + ' \u2013 ' + w.lastSegment + ')' : '')],
        ['Oldest sample', oldest],
      ]), false),
      panel('wal-replay', 'Replay', null, kv([['Phase', w.phase], ['Replay', replay]]), false),
      panel('wal-series', 'Series', null, kv([
        ['Active', fmtNum(w.series.active)],
        ['Created', fmtNum(w.series.created)],
        ['Removed', fmtNum(w.series.removed)],
        ['Samples appended', fmtNum(w.series.samplesAppended)],
      ]), false));
  }

  function drawStatus(d) {
    var rt = d.runtime, b = d.build;
    var rtRows = [
      ['Start time', h('time', { datetime: rt.startTime, text: new Date(rt.startTime).toLocaleString() })],
      ['Working directory', rt.CWD],
      ['Configuration reload', rt.reloadConfigSuccess ? 'Successful' : 'Failed'],
      ['Last successful configuration reload', h('time', { datetime: rt.lastConfigTime, text: new Date(rt.lastConfigTime).toLocaleString() })],
      ['WAL corruptions', fmtNum(rt.corruptionCount)],
      ['Active handles', fmtNum(rt.goroutineCount)],
      ['CPUs', fmtNum(rt.GOMAXPROCS)],
    ];
    var bRows = [['Version', b.version], ['Revision', b.revision], ['Branch', b.branch], ['Build user', b.buildUser], ['Build date', b.buildDate], ['Runtime', b.goVersion]];
    function rows(list) { return list.map(function (p) { return h('tr', null, h('th', { scope: 'row', text: p[0] }), h('td', null, p[1])); }); }
    return [
      panel('rt', 'Runtime information', null, h('table', null, h('caption', { class: 'sr-only', text: 'Runtime information' }), h('tbody', null, rows(rtRows))), false),
      panel('build', 'Build information', null, h('table', null, h('caption', { class: 'sr-only', text: 'Build information' }), h('tbody', null, rows(bRows))), false),
    ];
  }

  function flagsControls() {
    var search = h('input', { type: 'search', id: 'flag-search', placeholder: 'flag name or value', value: state.flagSearch,
      oninput: function (ev) { state.flagSearch = ev.target.value; syncQuery({ search: state.flagSearch }); rerender(); } });
    controls.textContent = '';
    append(controls, field('Filter flags', search));
  }
  function drawFlags(flags) {
    var names = Object.keys(flags).sort().filter(function (k) { return matchesSearch(k + ' ' + flags[k], state.flagSearch); });
    if (names.length === 0) return empty('No flags match the filter.');
    return h('div', { class: 'panel' }, h('div', { class: 'panel-body' }, table('Command-line flags', ['Flag', 'Value'], names.map(function (k) {
      return h('tr', null, h('th', { scope: 'row' }, h('code', { text: '--' + k })), h('td', null, h('code', { text: flags[k] })));
    }), { hideCaption: true })));
  }
  function drawConfig(cfg) {
    return [
      h('p', { class: 'muted', text: 'The configuration in force, with defaults filled in and secrets shown as <secret>.' }),
      h('pre', { class: 'code', tabindex: '0', 'aria-label': 'Configuration YAML' }, h('code', { text: cfg.yaml })),
    ];
  }

  var renderers = {
    agent: { load: renderAgent },
    targets: { setup: targetsControls, load: function () { return api('targets?state=active'); }, draw: drawTargets },
    'service-discovery': {
      setup: sdControls,
      load: function () {
        return Promise.all([api('targets'), api('scrape_pools')]).then(function (r) {
          return { activeTargets: r[0].activeTargets, droppedTargets: r[0].droppedTargets, pools: r[1].scrapePools };
        });
      },
      draw: drawSD,
    },
    'remote-write': { load: function () { return api('status/remote_write'); }, draw: drawRemote },
    wal: { load: function () { return api('status/wal'); }, draw: drawWal },
    config: { load: function () { return api('status/config'); }, draw: drawConfig },
    flags: { setup: flagsControls, load: function () { return api('status/flags'); }, draw: drawFlags },
    status: {
      load: function () { return Promise.all([api('status/runtimeinfo'), api('status/buildinfo')]).then(function (r) { return { runtime: r[0], build: r[1] }; }); },
      draw: drawStatus,
    },
  };

  function refresh() {
    var r = renderers[page];
    if (!r) return Promise.resolve();
    return r.load().then(function (data) {
      lastData = data;
      replace(r.draw ? r.draw(data) : data);
      setError(null);
      if (updated) updated.textContent = 'Updated ' + new Date().toLocaleTimeString();
    }).catch(function (err) {
      if (err instanceof ApiError && err.status === 503) {
        return renderReplay().then(function (n) { lastData = null; replace(n); setError(null); });
      }
      setError('Could not load data: ' + (err && err.message ? err.message : String(err)));
      content.setAttribute('aria-busy', 'false');
    });
  }

  function schedule() {
    if (timer) clearTimeout(timer);
    timer = null;
    if (!live || (autoBox && !autoBox.checked) || document.hidden) return;
    timer = setTimeout(function () { refresh().then(schedule); }, REFRESH_MS);
  }

  var q = new URLSearchParams(location.search);
  state.search = q.get('search') || '';
  state.flagSearch = q.get('search') || '';
  state.health = q.get('health') || 'all';
  state.sdShow = q.get('show') || 'all';
  if (autoBox) {
    try { if (localStorage.getItem('outpost.autoRefresh') === '0') autoBox.checked = false; } catch (e) { /* storage may be disabled */ }
    autoBox.addEventListener('change', function () {
      try { localStorage.setItem('outpost.autoRefresh', autoBox.checked ? '1' : '0'); } catch (e) { /* ignore */ }
      if (autoBox.checked) refresh().then(schedule); else schedule();
    });
  }
  document.addEventListener('visibilitychange', function () { if (!document.hidden) refresh().then(schedule); else schedule(); });
  var r0 = renderers[page];
  if (r0 && r0.setup) r0.setup();
  refresh().then(schedule);
})();
`;
