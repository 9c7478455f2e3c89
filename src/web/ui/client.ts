/**
 * The UI's browser script, served as /static/outpost.js (see client-script.ts for how it is built
 * and served). No dependencies; it renders every page from the public HTTP API (relative URLs, so
 * route prefixes just work) and builds the DOM with textContent only, so label values can never
 * inject markup. Type-checked against the DOM library by src/web/ui/tsconfig.json, not with the rest.
 *
 * Erasable TypeScript only, and nothing but type imports: from source, the server strips the types
 * and serves the result as it is. Non-ASCII characters are written as \u escapes so the source
 * served that way stays ASCII, like the bundle.
 */
import type {
  ApiTarget,
  BuildInfoJson,
  DroppedTargetJson,
  OtlpStatusJson,
  RemoteWriteEndpointJson,
  RuntimeInfoJson,
  TargetsJson,
  WalReplayJson,
  WalStatusJson,
} from '../api-types.ts';
import type { DurationFormats } from '../../status/format.ts';

/**
 * The dashboard's duration formatters: src/status/format.ts's factory, whose source client-script.ts
 * puts in front of this script, so both screens print durations with the same code.
 */
declare const outpostDurationFormats: () => DurationFormats;

type Child = Node | string | number | null | undefined | false | readonly Child[];
type AttrValue = string | number | boolean | null | undefined | ((ev: Event) => void);
type Header = string | { text: string; class: string };

interface PageRenderer {
  setup?: () => void;
  load: () => Promise<unknown>;
  draw?: (data: unknown) => Child;
}

const REFRESH_MS = 5000;

function byId(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (!el) throw new Error(`page element #${id} is missing`);
  return el;
}

const body = document.body;
const page = body.getAttribute('data-page') ?? '';
const live = body.getAttribute('data-live') === '1';
const content = byId('content');
const controls = byId('controls');
const errorBox = byId('error');
const updated = document.getElementById('updated');
const autoBox = document.getElementById('auto-refresh') as HTMLInputElement | null;
let timer: ReturnType<typeof setTimeout> | null = null;
const state = { collapsed: {} as Record<string, boolean>, search: '', health: 'all', sdShow: 'all', flagSearch: '' };

// ---------------------------------------------------------------- helpers
function h(tag: string, attrs?: Readonly<Record<string, AttrValue>> | null, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  if (attrs) {
    for (const k of Object.keys(attrs)) {
      const v = attrs[k];
      if (v === null || v === undefined || v === false) continue;
      if (k === 'text') el.textContent = String(v);
      else if (k === 'class') el.className = String(v);
      else if (typeof v === 'function') el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}
function append(el: Node, c: Child): void {
  if (c === null || c === undefined || c === false) return;
  if (Array.isArray(c)) {
    for (const x of c as readonly Child[]) append(el, x);
    return;
  }
  el.appendChild(typeof c === 'object' ? (c as Node) : document.createTextNode(String(c)));
}
class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}
async function api<T>(path: string): Promise<T> {
  const r = await fetch('api/v1/' + path, { headers: { Accept: 'application/json' }, cache: 'no-store' });
  const text = await r.text();
  const j = parseJson(text) as { status?: string; error?: string; data?: unknown } | null;
  if (!r.ok || !j || j.status !== 'success') throw new ApiError(r.status, j?.error || r.status + ' ' + text.trim());
  return j.data as T;
}
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
function fmtNum(n: number): string {
  if (typeof n !== 'number' || !Number.isFinite(n)) return String(n);
  return n.toLocaleString('en-US', { maximumFractionDigits: n < 10 ? 2 : n < 1000 ? 1 : 0 });
}
function fmtBytes(n: number): string {
  if (!(n > 0)) return '0 B';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) {
    n /= 1024;
    i++;
  }
  return (i === 0 ? String(n) : n.toFixed(n < 10 ? 2 : 1)) + ' ' + u[i];
}
const fmt = outpostDurationFormats();
function fmtSeconds(s: number): string {
  return fmt.seconds(s);
}
function fmtDuration(s: number): string {
  return fmt.duration(s * 1000);
}
function isZeroTime(iso: string | null): boolean {
  return !iso || iso.indexOf('0001-01-01') === 0;
}
function ago(iso: string): string {
  if (isZeroTime(iso)) return 'never';
  let d = (Date.now() - Date.parse(iso)) / 1000;
  if (d < 0) d = 0;
  return fmtDuration(d) + ' ago';
}
function timeEl(iso: string | null): HTMLElement {
  if (iso === null || isZeroTime(iso)) return h('span', { class: 'muted', text: 'never' });
  return h('time', { datetime: iso, title: iso, text: ago(iso) });
}
function badge(health: string): HTMLElement {
  const hl = health === 'up' || health === 'down' ? health : 'unknown';
  return h('span', { class: 'badge ' + hl, text: hl });
}
function okBadge(ok: boolean, yes: string, no: string): HTMLElement {
  return h('span', { class: 'badge ' + (ok ? 'up' : 'down'), text: ok ? yes : no });
}
function labelList(obj: Readonly<Record<string, string>> | undefined, label: string): HTMLElement {
  const labels = obj ?? {};
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return h('span', { class: 'muted', text: 'none' });
  return h(
    'ul',
    { class: 'labels', 'aria-label': label },
    keys.map((k) => h('li', { class: k.indexOf('__') === 0 ? 'meta' : null, text: k + '="' + labels[k] + '"' })),
  );
}
function table(
  caption: string,
  headers: readonly Header[],
  rows: Child,
  opts: { hideCaption?: boolean } = {},
): HTMLElement {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      null,
      h('caption', { class: opts.hideCaption ? 'sr-only' : null, text: caption }),
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          headers.map((x) =>
            h('th', {
              scope: 'col',
              class: typeof x === 'string' ? null : x.class,
              text: typeof x === 'string' ? x : x.text,
            }),
          ),
        ),
      ),
      h('tbody', null, rows),
    ),
  );
}
function kv(pairs: readonly (readonly [string, Child] | null)[]): HTMLElement {
  const dl = h('dl', { class: 'kv' });
  for (const p of pairs) {
    if (!p) continue;
    dl.appendChild(h('dt', { text: p[0] }));
    dl.appendChild(h('dd', null, p[1]));
  }
  return dl;
}
function panel(
  id: string,
  title: string,
  countText: string | null,
  bodyNodes: Child,
  collapsible: boolean,
): HTMLElement {
  const bodyId = 'panel-' + id.replace(/[^a-zA-Z0-9_-]/g, '_');
  const expanded = !state.collapsed[id];
  let heading: HTMLElement;
  if (collapsible) {
    const toggle = (ev: Event): void => {
      const btn = ev.currentTarget as HTMLElement;
      const open = btn.getAttribute('aria-expanded') !== 'true';
      btn.setAttribute('aria-expanded', open ? 'true' : 'false');
      const panelBody = document.getElementById(bodyId);
      if (panelBody) panelBody.hidden = !open;
      if (open) delete state.collapsed[id];
      else state.collapsed[id] = true;
    };
    heading = h(
      'h2',
      null,
      h(
        'button',
        {
          type: 'button',
          id: 'toggle-' + bodyId,
          'aria-expanded': expanded ? 'true' : 'false',
          'aria-controls': bodyId,
          onclick: toggle,
        },
        h('span', { class: 'chev', 'aria-hidden': 'true', text: '\u25BE' }),
        title,
      ),
    );
  } else {
    heading = h('h2', { text: title });
  }
  return h(
    'section',
    { class: 'panel', 'aria-label': title },
    h('div', { class: 'panel-head' }, heading, countText ? h('span', { class: 'count', text: countText }) : null),
    h('div', { class: 'panel-body', id: bodyId, hidden: collapsible && !expanded }, bodyNodes),
  );
}
function empty(text: string): HTMLElement {
  return h('p', { class: 'empty', text });
}
function field(labelText: string, input: HTMLElement): HTMLElement {
  return h('div', { class: 'field' }, h('label', { for: input.id, text: labelText }), input);
}
function syncQuery(params: Readonly<Record<string, string>>): void {
  const q = new URLSearchParams(location.search);
  for (const k of Object.keys(params)) {
    const v = params[k];
    if (v) q.set(k, v);
    else q.delete(k);
  }
  const s = q.toString();
  history.replaceState(null, '', location.pathname + (s ? '?' + s : ''));
}
function groupBy<T>(list: readonly T[], key: (x: T) => string): Record<string, T[]> {
  const m: Record<string, T[]> = {};
  for (const x of list) (m[key(x)] ??= []).push(x);
  return m;
}
function matchesSearch(text: string, search: string): boolean {
  if (!search) return true;
  const words = search.toLowerCase().split(/\s+/).filter(Boolean);
  const t = text.toLowerCase();
  return words.every((w) => t.indexOf(w) >= 0);
}
function labelsText(obj: Readonly<Record<string, string>> | undefined): string {
  const labels = obj ?? {};
  return Object.keys(labels)
    .map((k) => k + '="' + labels[k] + '"')
    .join(' ');
}
function inputValue(ev: Event): string {
  return (ev.target as HTMLInputElement | HTMLSelectElement).value;
}
// Refreshes rebuild the content; keep keyboard focus on the same control across them.
function focusKey(el: Element | null): string | null {
  if (!el || !content.contains(el)) return null;
  return el.id ? '#' + el.id : el.getAttribute('data-key');
}
function replace(node: Child): void {
  const key = focusKey(document.activeElement);
  content.textContent = '';
  append(content, node);
  content.setAttribute('aria-busy', 'false');
  if (key) {
    const target =
      key.charAt(0) === '#'
        ? document.getElementById(key.slice(1))
        : content.querySelector<HTMLElement>('[data-key="' + CSS.escape(key) + '"]');
    if (target) target.focus();
  }
}
function setError(msg: string | null): void {
  if (msg) {
    errorBox.textContent = msg;
    errorBox.hidden = false;
  } else if (!errorBox.hidden) {
    errorBox.hidden = true;
    errorBox.textContent = '';
  }
}
function sparkline(values: readonly number[], label: string): SVGSVGElement {
  const w = 280;
  const ht = 48;
  const pad = 2;
  const svgNS = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(svgNS, 'svg');
  svg.setAttribute('class', 'spark');
  svg.setAttribute('viewBox', '0 0 ' + w + ' ' + ht);
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', label);
  const t = document.createElementNS(svgNS, 'title');
  t.textContent = label;
  svg.appendChild(t);
  if (values.length < 2) return svg;
  const max = Math.max(...values, 1e-9);
  const pts = values.map((v, i) => {
    const x = pad + (i * (w - 2 * pad)) / (values.length - 1);
    const y = ht - pad - (v / max) * (ht - 2 * pad);
    return x.toFixed(1) + ',' + y.toFixed(1);
  });
  const area = document.createElementNS(svgNS, 'polygon');
  area.setAttribute('class', 'area');
  area.setAttribute('points', pad + ',' + (ht - pad) + ' ' + pts.join(' ') + ' ' + (w - pad) + ',' + (ht - pad));
  svg.appendChild(area);
  const line = document.createElementNS(svgNS, 'polyline');
  line.setAttribute('points', pts.join(' '));
  svg.appendChild(line);
  return svg;
}
function stat(value: string, key: string): HTMLElement {
  return h('div', { class: 'stat' }, h('span', { class: 'v', text: value }), h('span', { class: 'k', text: key }));
}

// ---------------------------------------------------------------- pages
async function renderReplay(): Promise<HTMLElement> {
  const [rp, wal] = await Promise.all([
    api<WalReplayJson>('status/walreplay').catch(() => null),
    api<WalStatusJson>('status/wal').catch(() => null),
  ]);
  const nodes: HTMLElement[] = [
    h('p', { text: 'The agent is starting: it replays its write-ahead log before it serves the API.' }),
  ];
  if (rp && rp.max > 0) {
    nodes.push(
      h(
        'p',
        null,
        h('label', { for: 'replay-progress', text: 'Replaying WAL segment ' + rp.current + ' of ' + rp.max + ' ' }),
        h('progress', { id: 'replay-progress', max: String(rp.max), value: String(rp.current) }),
      ),
    );
  }
  if (wal)
    nodes.push(
      kv([
        ['Phase', wal.phase],
        ['WAL size', fmtBytes(wal.bytes)],
        ['Segments', fmtNum(wal.segments)],
      ]),
    );
  return panel('starting', 'Starting up', null, nodes, false);
}

async function renderAgent(): Promise<Child> {
  const [build, rt, tgs, rws, wal, otlp] = await Promise.all([
    api<BuildInfoJson>('status/buildinfo'),
    api<RuntimeInfoJson>('status/runtimeinfo'),
    api<TargetsJson>('targets?state=active'),
    api<{ endpoints: RemoteWriteEndpointJson[] }>('status/remote_write'),
    api<WalStatusJson>('status/wal'),
    api<OtlpStatusJson>('status/otlp'),
  ]);
  const tg = tgs.activeTargets;
  const rw = rws.endpoints;
  const up = tg.filter((t) => t.health === 'up').length;
  const down = tg.filter((t) => t.health === 'down').length;
  const unknown = tg.length - up - down;
  const uptime = (Date.now() - Date.parse(rt.startTime)) / 1000;
  const intro = h(
    'p',
    null,
    'This is an agent: it scrapes targets, keeps the samples in a write-ahead log and sends them to ',
    'remote storage. It has no local query engine, rules or alerts.',
  );
  const cards = h(
    'div',
    { class: 'cards' },
    panel(
      'ov-agent',
      'Agent',
      null,
      kv([
        ['Phase', wal.phase],
        ['Version', build.version],
        ['Uptime', fmtDuration(uptime)],
        [
          'Last config reload',
          h('span', null, okBadge(rt.reloadConfigSuccess, 'ok', 'failed'), ' ', timeEl(rt.lastConfigTime)),
        ],
      ]),
      false,
    ),
    panel(
      'ov-targets',
      'Targets',
      null,
      [
        h(
          'div',
          { class: 'stat-row' },
          stat(fmtNum(up), 'up'),
          stat(fmtNum(down), 'down'),
          stat(fmtNum(unknown), 'unknown'),
        ),
        h('p', null, h('a', { href: 'targets', text: 'All targets' })),
      ],
      false,
    ),
    panel(
      'ov-wal',
      'Write-ahead log',
      null,
      [
        kv([
          ['Size on disk', fmtBytes(wal.bytes) + (wal.capBytes > 0 ? ' of ' + fmtBytes(wal.capBytes) + ' cap' : '')],
          ['Segments', fmtNum(wal.segments)],
          ['Active series', fmtNum(wal.series.active)],
        ]),
        h('p', null, h('a', { href: 'wal', text: 'WAL details' })),
      ],
      false,
    ),
    panel(
      'ov-rw',
      'Remote write',
      null,
      [
        rw.length === 0
          ? empty('No remote_write endpoints configured.')
          : h(
              'ul',
              { class: 'plain' },
              rw.map((e) =>
                h(
                  'li',
                  null,
                  badge(e.health),
                  ' ',
                  e.name || e.url,
                  h('span', {
                    class: 'muted',
                    text: ' \u00B7 lag ' + fmtSeconds(e.lagSeconds) + ', ' + fmtNum(e.pendingSamples) + ' pending',
                  }),
                ),
              ),
            ),
        h('p', null, h('a', { href: 'remote-write', text: 'Remote write details' })),
      ],
      false,
    ),
    otlp.enabled ? otlpPanel(otlp) : null,
  );
  return [intro, cards];
}

/** The OTLP receiver as a source: rate, totals, last error and the resources that push the most. */
function otlpPanel(o: OtlpStatusJson): HTMLElement {
  return panel(
    'ov-otlp',
    'OTLP receiver',
    null,
    [
      h(
        'div',
        { class: 'stat-row' },
        stat(fmtNum(Math.round(o.pointsPerSecond * 10) / 10), 'points/s'),
        stat(fmtNum(o.pointsReceived), 'received'),
        stat(fmtNum(o.pointsRejected), 'rejected'),
      ),
      kv([
        ['Requests', fmtNum(o.requests) + (o.requestsFailed > 0 ? ' (' + fmtNum(o.requestsFailed) + ' refused)' : '')],
        ['Last request', timeEl(o.lastRequestTime)],
        o.lastError
          ? [
              'Last error',
              h(
                'span',
                { class: 'error' },
                o.lastError,
                h('span', { class: 'muted' }, ' (', timeEl(o.lastErrorTime), ')'),
              ),
            ]
          : null,
      ]),
      o.topResources.length === 0
        ? empty('No OTLP data received yet.')
        : table(
            'Resources that sent the most points',
            ['Job', 'Instance', { text: 'Points', class: 'num' }],
            o.topResources.map((r) =>
              h(
                'tr',
                null,
                h('td', { text: r.job || '-' }),
                h('td', { text: r.instance || '-' }),
                h('td', { class: 'num', text: fmtNum(r.points) }),
              ),
            ),
          ),
    ],
    false,
  );
}

/** A filter box: keeps its value in the page state and the URL (?search=) and redraws on input. */
function searchInput(id: string, placeholder: string, value: string, store: (v: string) => void): HTMLElement {
  const oninput = (ev: Event): void => {
    const v = inputValue(ev);
    store(v);
    syncQuery({ search: v });
    rerender();
  };
  return h('input', { type: 'search', id, placeholder, value, oninput });
}

function targetsControls(): void {
  const search = searchInput('target-search', 'endpoint or label, e.g. job="node"', state.search, (v) => {
    state.search = v;
  });
  const options = ['all', 'up', 'down', 'unknown'].map((v) =>
    h('option', {
      value: v,
      selected: state.health === v,
      text: v === 'all' ? 'All' : v === 'up' ? 'Up' : v === 'down' ? 'Down' : 'Unknown',
    }),
  );
  const onchange = (ev: Event): void => {
    state.health = inputValue(ev);
    syncQuery({ health: state.health === 'all' ? '' : state.health });
    rerender();
  };
  const sel = h('select', { id: 'target-health', onchange }, options);
  controls.textContent = '';
  append(controls, [
    field('Filter targets', search),
    field('Health', sel),
    h('span', { id: 'target-count', class: 'muted', 'aria-live': 'polite' }),
  ]);
}

let lastData: unknown = null;
function rerender(): void {
  const draw = renderers[page]?.draw;
  if (lastData && draw) replace(draw(lastData));
}

function drawTargets(data: TargetsJson): Child {
  const all = data.activeTargets;
  const shown = all.filter((t) => {
    if (state.health !== 'all' && t.health !== state.health) return false;
    return matchesSearch(t.scrapeUrl + ' ' + labelsText(t.labels), state.search);
  });
  const countEl = document.getElementById('target-count');
  if (countEl)
    countEl.textContent =
      shown.length === all.length ? all.length + ' targets' : shown.length + ' of ' + all.length + ' targets shown';
  if (all.length === 0) return empty('No active targets.');
  if (shown.length === 0) return empty('No targets match the filter.');
  const groups = groupBy(shown, (t) => t.scrapePool);
  const totals = groupBy(all, (t) => t.scrapePool);
  return Object.keys(groups)
    .sort()
    .map((pool) => {
      const list = groups[pool] ?? [];
      const total = totals[pool] ?? [];
      const upN = total.filter((t) => t.health === 'up').length;
      const rows = list.map((t: ApiTarget) =>
        h(
          'tr',
          null,
          h(
            'td',
            null,
            h('a', { href: t.scrapeUrl, 'data-key': 'link:' + t.scrapePool + ':' + t.scrapeUrl, text: t.scrapeUrl }),
          ),
          h('td', null, badge(t.health)),
          h('td', null, labelList(t.labels, 'Target labels')),
          h('td', { class: 'nowrap' }, timeEl(t.lastScrape)),
          h(
            'td',
            { class: 'num' },
            isZeroTime(t.lastScrape) ? '\u2013' : fmt.scrapeDuration(t.lastScrapeDuration * 1000),
          ),
          h('td', { class: 'num' }, t.scrapeInterval || '\u2013'),
          h(
            'td',
            {
              class: 'num nowrap',
              title:
                'series: ' +
                fmtNum(t.lastScrapeSeries.floats) +
                ' floats, ' +
                fmtNum(t.lastScrapeSeries.histograms) +
                ' native histograms',
            },
            samplesText(t.lastScrapeSamples),
          ),
          h('td', { class: 'error' }, t.lastError || ''),
        ),
      );
      const headers: Header[] = [
        'Endpoint',
        'State',
        'Labels',
        'Last scrape',
        { text: 'Duration', class: 'num' },
        { text: 'Interval', class: 'num' },
        { text: 'Samples', class: 'num' },
        'Error',
      ];
      return panel(
        'pool:' + pool,
        pool,
        upN + ' / ' + total.length + ' up',
        table('Targets of scrape pool ' + pool, headers, rows, { hideCaption: true }),
        true,
      );
    });
}

/** A scrape's samples: floats, and native histograms apart when there are any. */
function samplesText(s: { floats: number; histograms: number }): string {
  return s.histograms > 0 ? fmtNum(s.floats) + ' + ' + fmtNum(s.histograms) + ' hist' : fmtNum(s.floats);
}

function sdControls(): void {
  const search = searchInput('sd-search', 'label, e.g. __meta_filepath', state.search, (v) => {
    state.search = v;
  });
  const choices: readonly (readonly [string, string])[] = [
    ['all', 'Active and dropped'],
    ['active', 'Active only'],
    ['dropped', 'Dropped only'],
  ];
  const onchange = (ev: Event): void => {
    state.sdShow = inputValue(ev);
    syncQuery({ show: state.sdShow === 'all' ? '' : state.sdShow });
    rerender();
  };
  const sel = h(
    'select',
    { id: 'sd-show', onchange },
    choices.map((o) => h('option', { value: o[0], selected: state.sdShow === o[0], text: o[1] })),
  );
  controls.textContent = '';
  append(controls, [field('Filter labels', search), field('Show', sel)]);
}

interface SdData {
  activeTargets: ApiTarget[];
  droppedTargets: DroppedTargetJson[];
  pools: string[];
}

function drawSD(data: SdData): Child {
  const pools: Record<string, { active: ApiTarget[]; dropped: DroppedTargetJson[] }> = {};
  const poolOf = (name: string): { active: ApiTarget[]; dropped: DroppedTargetJson[] } =>
    (pools[name] ??= { active: [], dropped: [] });
  for (const p of data.pools) pools[p] = { active: [], dropped: [] };
  for (const t of data.activeTargets) poolOf(t.scrapePool).active.push(t);
  for (const t of data.droppedTargets) poolOf(t.discoveredLabels.job ?? '').dropped.push(t);
  const names = Object.keys(pools).sort();
  if (names.length === 0) return empty('No scrape pools configured.');
  return names.map((name) => {
    const p = poolOf(name);
    const rows: HTMLElement[] = [];
    if (state.sdShow !== 'dropped') {
      for (const t of p.active) {
        if (!matchesSearch(labelsText(t.discoveredLabels) + ' ' + labelsText(t.labels), state.search)) continue;
        rows.push(
          h(
            'tr',
            null,
            h('td', null, labelList(t.discoveredLabels, 'Discovered labels')),
            h('td', null, labelList(t.labels, 'Target labels')),
          ),
        );
      }
    }
    if (state.sdShow !== 'active') {
      for (const t of p.dropped) {
        if (!matchesSearch(labelsText(t.discoveredLabels), state.search)) continue;
        rows.push(
          h(
            'tr',
            null,
            h('td', null, labelList(t.discoveredLabels, 'Discovered labels')),
            h(
              'td',
              null,
              h('span', { class: 'badge warn', text: 'dropped' }),
              t.dropReason ? h('span', { class: 'muted drop-reason', text: ' ' + t.dropReason }) : null,
            ),
          ),
        );
      }
    }
    const body = rows.length
      ? table('Service discovery for ' + name, ['Discovered labels', 'Target labels'], rows, { hideCaption: true })
      : empty('Nothing to show.');
    return panel('sd:' + name, name, p.active.length + ' active, ' + p.dropped.length + ' dropped', body, true);
  });
}

function drawRemote(data: { endpoints: RemoteWriteEndpointJson[] }): Child {
  const eps = data.endpoints;
  if (eps.length === 0) return empty('No remote_write endpoints configured.');
  return eps.map((e) => {
    const series = e.throughput.samplesPerSecond;
    const span = Math.round((series.length * e.throughput.intervalSeconds) / 60);
    const maxV = series.length ? Math.max(...series) : 0;
    const label =
      'Throughput over the last ' +
      (span || 1) +
      ' min: latest ' +
      fmtNum(e.sendRate) +
      ' samples/s, peak ' +
      fmtNum(maxV) +
      ' samples/s';
    const title = e.name || e.url;
    const lastError = e.lastError
      ? h(
          'span',
          { class: 'error' },
          e.lastError,
          e.lastErrorTime ? h('span', { class: 'muted' }, ' (', timeEl(e.lastErrorTime), ')') : null,
        )
      : h('span', { class: 'muted', text: 'none' });
    const body = [
      h('p', null, badge(e.health), ' ', h('span', { class: 'muted', text: e.url })),
      h(
        'div',
        { class: 'stat-row' },
        stat(fmtSeconds(e.lagSeconds), 'lag'),
        stat(fmtNum(e.pendingSamples), 'pending samples'),
        stat(fmtBytes(e.backlogBytes), 'WAL backlog'),
        stat(fmtNum(e.sendRate), 'samples/s'),
        stat(fmtNum(e.shards), 'shards'),
      ),
      h('h3', { text: 'Throughput' }),
      sparkline(series, label),
      h('h3', { text: 'Counters' }),
      kv([
        ['Samples sent', fmtNum(e.samplesSent)],
        ['Retried', fmtNum(e.samplesRetried)],
        ['Dropped', fmtNum(e.samplesDropped)],
        ['Failed', fmtNum(e.samplesFailed)],
        ['Last error', lastError],
      ]),
    ];
    return panel('rw:' + title, title, null, body, false);
  });
}

function drawWal(w: WalStatusJson): Child {
  const replay = w.replay.done
    ? okBadge(true, 'done', '')
    : h(
        'span',
        null,
        h('progress', {
          max: String(Math.max(w.replay.max, 1)),
          value: String(w.replay.current),
          'aria-label': 'WAL replay progress',
        }),
        ' segment ' + w.replay.current + ' of ' + w.replay.max,
      );
  const oldest = w.oldestTimestamp
    ? h('span', null, timeEl(w.oldestTimestamp))
    : h('span', { class: 'muted', text: 'unknown' });
  const used = ((100 * w.bytes) / w.capBytes).toFixed(1) + '% used';
  const cap =
    w.capBytes > 0
      ? h(
          'span',
          null,
          fmtBytes(w.capBytes) + ' ',
          h('meter', {
            min: '0',
            max: String(w.capBytes),
            high: String(w.capBytes * 0.9),
            value: String(Math.min(w.bytes, w.capBytes)),
            'aria-label': 'WAL size of cap',
            title: used,
          }),
          ' ' + used,
        )
      : 'none';
  return h(
    'div',
    { class: 'cards' },
    panel(
      'wal-disk',
      'On disk',
      null,
      kv([
        ['Directory', w.dataDir + '/wal'],
        ['Size', fmtBytes(w.bytes)],
        ['Size cap', cap],
        [
          'Segments',
          fmtNum(w.segments) + (w.segments > 0 ? ' (' + w.firstSegment + ' \u2013 ' + w.lastSegment + ')' : ''),
        ],
        ['Oldest sample', oldest],
      ]),
      false,
    ),
    panel(
      'wal-replay',
      'Replay',
      null,
      kv([
        ['Phase', w.phase],
        ['Replay', replay],
      ]),
      false,
    ),
    panel(
      'wal-series',
      'Series',
      null,
      kv([
        ['Active', fmtNum(w.series.active)],
        ['Created', fmtNum(w.series.created)],
        ['Removed', fmtNum(w.series.removed)],
        ['Samples appended', fmtNum(w.series.samplesAppended)],
        ['Of them native histograms', fmtNum(w.series.histogramsAppended)],
      ]),
      false,
    ),
  );
}

function drawStatus(d: { runtime: RuntimeInfoJson; build: BuildInfoJson }): Child {
  const rt = d.runtime;
  const b = d.build;
  const rtRows: [string, Child][] = [
    ['Start time', h('time', { datetime: rt.startTime, text: new Date(rt.startTime).toLocaleString() })],
    ['Working directory', rt.CWD],
    ['Configuration reload', rt.reloadConfigSuccess ? 'Successful' : 'Failed'],
    [
      'Last successful configuration reload',
      h('time', { datetime: rt.lastConfigTime, text: new Date(rt.lastConfigTime).toLocaleString() }),
    ],
    ['WAL corruptions', fmtNum(rt.corruptionCount)],
    ['Active handles', fmtNum(rt.goroutineCount)],
    ['CPUs', fmtNum(rt.GOMAXPROCS)],
  ];
  const bRows: [string, Child][] = [
    ['Version', b.version],
    ['Revision', b.revision],
    ['Branch', b.branch],
    ['Build user', b.buildUser],
    ['Build date', b.buildDate],
    ['Runtime', b.goVersion],
  ];
  const rows = (list: readonly [string, Child][]): HTMLElement[] =>
    list.map((p) => h('tr', null, h('th', { scope: 'row', text: p[0] }), h('td', null, p[1])));
  const infoTable = (caption: string, list: readonly [string, Child][]): HTMLElement =>
    h('table', null, h('caption', { class: 'sr-only', text: caption }), h('tbody', null, rows(list)));
  return [
    panel('rt', 'Runtime information', null, infoTable('Runtime information', rtRows), false),
    panel('build', 'Build information', null, infoTable('Build information', bRows), false),
  ];
}

function flagsControls(): void {
  const search = searchInput('flag-search', 'flag name or value', state.flagSearch, (v) => {
    state.flagSearch = v;
  });
  controls.textContent = '';
  append(controls, field('Filter flags', search));
}
function drawFlags(flags: Readonly<Record<string, string>>): Child {
  const names = Object.keys(flags)
    .sort()
    .filter((k) => matchesSearch(k + ' ' + flags[k], state.flagSearch));
  if (names.length === 0) return empty('No flags match the filter.');
  const rows = names.map((k) =>
    h(
      'tr',
      null,
      h('th', { scope: 'row' }, h('code', { text: '--' + k })),
      h('td', null, h('code', { text: flags[k] })),
    ),
  );
  return h(
    'div',
    { class: 'panel' },
    h('div', { class: 'panel-body' }, table('Command-line flags', ['Flag', 'Value'], rows, { hideCaption: true })),
  );
}
function drawConfig(cfg: { yaml: string }): Child {
  return [
    h('p', {
      class: 'muted',
      text: 'The configuration in force, with defaults filled in and secrets shown as <secret>.',
    }),
    h('pre', { class: 'code', tabindex: '0', 'aria-label': 'Configuration YAML' }, h('code', { text: cfg.yaml })),
  ];
}

/** A page's loader and drawer, typed together; the table below holds them without their data type. */
function pageOf<T>(load: () => Promise<T>, draw?: (data: T) => Child, setup?: () => void): PageRenderer {
  const r: PageRenderer = { load };
  if (draw) r.draw = (data) => draw(data as T);
  if (setup) r.setup = setup;
  return r;
}

const renderers: Readonly<Record<string, PageRenderer>> = {
  agent: pageOf(renderAgent),
  targets: pageOf(() => api<TargetsJson>('targets?state=active'), drawTargets, targetsControls),
  'service-discovery': pageOf(
    async (): Promise<SdData> => {
      const [t, p] = await Promise.all([api<TargetsJson>('targets'), api<{ scrapePools: string[] }>('scrape_pools')]);
      return { activeTargets: t.activeTargets, droppedTargets: t.droppedTargets, pools: p.scrapePools };
    },
    drawSD,
    sdControls,
  ),
  'remote-write': pageOf(() => api<{ endpoints: RemoteWriteEndpointJson[] }>('status/remote_write'), drawRemote),
  wal: pageOf(() => api<WalStatusJson>('status/wal'), drawWal),
  config: pageOf(() => api<{ yaml: string }>('status/config'), drawConfig),
  flags: pageOf(() => api<Record<string, string>>('status/flags'), drawFlags, flagsControls),
  status: pageOf(async () => {
    const [runtime, build] = await Promise.all([
      api<RuntimeInfoJson>('status/runtimeinfo'),
      api<BuildInfoJson>('status/buildinfo'),
    ]);
    return { runtime, build };
  }, drawStatus),
};

async function refresh(): Promise<void> {
  const r = renderers[page];
  if (!r) return;
  try {
    const data = await r.load();
    lastData = data;
    replace(r.draw ? r.draw(data) : (data as Child));
    setError(null);
    if (updated) updated.textContent = 'Updated ' + new Date().toLocaleTimeString();
  } catch (err) {
    if (err instanceof ApiError && err.status === 503) {
      const n = await renderReplay();
      lastData = null;
      replace(n);
      setError(null);
      return;
    }
    setError('Could not load data: ' + (err instanceof Error && err.message ? err.message : String(err)));
    content.setAttribute('aria-busy', 'false');
  }
}

function schedule(): void {
  if (timer) clearTimeout(timer);
  timer = null;
  if (!live || (autoBox && !autoBox.checked) || document.hidden) return;
  timer = setTimeout(() => void refresh().then(schedule), REFRESH_MS);
}

const q = new URLSearchParams(location.search);
state.search = q.get('search') || '';
state.flagSearch = q.get('search') || '';
state.health = q.get('health') || 'all';
state.sdShow = q.get('show') || 'all';
if (autoBox) {
  try {
    if (localStorage.getItem('outpost.autoRefresh') === '0') autoBox.checked = false;
  } catch {
    // Storage may be disabled.
  }
  autoBox.addEventListener('change', () => {
    try {
      localStorage.setItem('outpost.autoRefresh', autoBox.checked ? '1' : '0');
    } catch {
      // Storage may be disabled.
    }
    if (autoBox.checked) void refresh().then(schedule);
    else schedule();
  });
}
document.addEventListener('visibilitychange', () => {
  if (!document.hidden) void refresh().then(schedule);
  else schedule();
});
renderers[page]?.setup?.();
void refresh().then(schedule);
