import { escapeHtml } from '../respond.ts';

/** Every UI page: its path under the route prefix, its title, and whether it auto-refreshes. */
export const PAGES = [
  { id: 'agent', title: 'Agent', live: true },
  { id: 'targets', title: 'Targets', live: true },
  { id: 'service-discovery', title: 'Service discovery', live: true },
  { id: 'remote-write', title: 'Remote write', live: true },
  { id: 'wal', title: 'WAL', live: true },
  { id: 'config', title: 'Configuration', live: false },
  { id: 'flags', title: 'Command-line flags', live: false },
  { id: 'status', title: 'Runtime & build information', live: true },
] as const;

export type PageId = (typeof PAGES)[number]['id'];

/** Short labels for the navigation bar. */
const NAV_LABEL: Record<PageId, string> = {
  agent: 'Agent',
  targets: 'Targets',
  'service-discovery': 'Service discovery',
  'remote-write': 'Remote write',
  wal: 'WAL',
  config: 'Config',
  flags: 'Flags',
  status: 'Status',
};

const ASSET_VERSION_PARAM = 'v';

const FAVICON =
  "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E" +
  "%3Cpath d='M8 1 15 15H1z' fill='%23d9480f'/%3E%3C/svg%3E";

/**
 * The HTML shell of one page. Links and API calls are relative, so the same bytes work at the root,
 * under `--web.route-prefix`, and behind a proxy that maps `--web.external-url` to either.
 */
export function renderPage(id: PageId, opts: { pageTitle: string; version: string }): string {
  const page = PAGES.find((p) => p.id === id) ?? PAGES[0];
  const v = encodeURIComponent(opts.version);
  const nav = PAGES.map(
    (p) => `<li><a href="${p.id}"${p.id === id ? ' aria-current="page"' : ''}>${escapeHtml(NAV_LABEL[p.id])}</a></li>`,
  ).join('');
  const refresh = page.live
    ? '<div class="refresh"><input type="checkbox" id="auto-refresh" checked>' +
      '<label for="auto-refresh">Auto-refresh</label><span id="updated" class="muted"></span></div>'
    : '<div class="refresh"><span id="updated" class="muted"></span></div>';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex,nofollow">
<meta name="color-scheme" content="light dark">
<title>${escapeHtml(page.title)} · ${escapeHtml(opts.pageTitle)}</title>
<link rel="icon" href="${FAVICON}">
<link rel="stylesheet" href="static/outpost.css?${ASSET_VERSION_PARAM}=${v}">
<script src="static/outpost.js?${ASSET_VERSION_PARAM}=${v}" defer></script>
</head>
<body data-page="${id}" data-live="${page.live ? '1' : '0'}">
<a class="skip" href="#main">Skip to content</a>
<header class="top">
<div class="brand"><span class="logo" aria-hidden="true">▲</span> ${escapeHtml(opts.pageTitle)}
<span class="muted">agent · v${escapeHtml(opts.version)}</span></div>
<nav aria-label="Main"><ul>${nav}</ul></nav>
</header>
<main id="main" tabindex="-1">
<div class="page-head"><h1>${escapeHtml(page.title)}</h1>${refresh}</div>
<div id="error" role="alert" hidden></div>
<div id="controls"></div>
<div id="content" aria-busy="true"><p class="muted">Loading…</p></div>
<noscript><p>This page needs JavaScript to load data from the
<a href="api/v1/status/buildinfo">HTTP API</a>.</p></noscript>
</main>
</body>
</html>
`;
}
