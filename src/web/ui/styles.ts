/** The UI's stylesheet, served as /static/outpost.css. No external fonts or CDNs. */
export const STYLES = `
:root {
  --bg: #f6f7f9; --panel: #ffffff; --fg: #1c2330; --muted: #5b6472; --border: #d7dce3;
  --accent: #b23c05; --accent-fg: #ffffff; --link: #0b57d0; --focus: #0b57d0;
  --up: #137333; --up-bg: #e6f4ea; --down: #b3261e; --down-bg: #fce8e6; --unknown: #5b6472; --unknown-bg: #eceff3;
  --warn: #8a5300; --warn-bg: #fef3d6; --code-bg: #f0f2f5; --spark: #0b57d0;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  font-size: 15px; line-height: 1.45; color: var(--fg); background: var(--bg);
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #111418; --panel: #1a1f26; --fg: #e5e9ef; --muted: #a2abb8; --border: #313946;
    --accent: #ff8a4c; --accent-fg: #111418; --link: #8ab4f8; --focus: #8ab4f8;
    --up: #81c995; --up-bg: #15301f; --down: #f28b82; --down-bg: #3b1a18; --unknown: #a2abb8; --unknown-bg: #262c35;
    --warn: #fdd663; --warn-bg: #3a2f10; --code-bg: #151a20; --spark: #8ab4f8;
  }
}
* { box-sizing: border-box; }
body { margin: 0; }
a { color: var(--link); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.skip { position: absolute; left: -9999px; top: 0; background: var(--panel); padding: .5rem 1rem; z-index: 10; }
.skip:focus { left: .5rem; top: .5rem; }
.sr-only {
  position: absolute;
  width: 1px;
  height: 1px;
  padding: 0;
  margin: -1px;
  overflow: hidden;
  clip: rect(0 0 0 0);
  white-space: nowrap;
  border: 0;
}
.muted { color: var(--muted); }
header.top {
  display: flex;
  flex-wrap: wrap;
  align-items: center;
  gap: .5rem 1.5rem;
  padding: .5rem 1.25rem;
  background: var(--panel);
  border-bottom: 1px solid var(--border);
}
.brand { font-weight: 650; white-space: nowrap; }
.brand .logo { color: var(--accent); }
.brand .muted { font-weight: 400; font-size: .85rem; margin-left: .25rem; }
nav ul { list-style: none; display: flex; flex-wrap: wrap; gap: .25rem; margin: 0; padding: 0; }
nav a { display: block; padding: .35rem .65rem; border-radius: 6px; text-decoration: none; color: var(--fg); }
nav a:hover { background: var(--bg); }
nav a[aria-current="page"] { background: var(--accent); color: var(--accent-fg); }
main { padding: 1rem 1.25rem 3rem; max-width: 1400px; }
main:focus { outline: none; }
.page-head { display: flex; flex-wrap: wrap; align-items: baseline; justify-content: space-between; gap: .5rem 1rem; }
h1 { font-size: 1.5rem; margin: .25rem 0 .75rem; }
h2 { font-size: 1.15rem; margin: 0; }
h3 { font-size: 1rem; margin: .75rem 0 .35rem; }
.refresh { display: flex; align-items: center; gap: .4rem; font-size: .9rem; }
.refresh #updated { margin-left: .5rem; }
#error {
  background: var(--down-bg);
  color: var(--down);
  border: 1px solid var(--down);
  border-radius: 6px;
  padding: .6rem .8rem;
  margin-bottom: .75rem;
}
#controls:not(:empty) { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: end; margin-bottom: .75rem; }
.field { display: flex; flex-direction: column; gap: .15rem; font-size: .85rem; }
input[type="search"], select {
  font: inherit;
  padding: .35rem .5rem;
  border: 1px solid var(--border);
  border-radius: 6px;
  background: var(--panel);
  color: var(--fg);
  min-width: 20rem;
}
select { min-width: 9rem; }
button { font: inherit; cursor: pointer; }
.panel {
  background: var(--panel);
  border: 1px solid var(--border);
  border-radius: 8px;
  margin-bottom: 1rem;
  overflow: hidden;
}
.panel > .panel-head {
  display: flex;
  flex-wrap: wrap;
  align-items: center;
  gap: .5rem 1rem;
  padding: .6rem .9rem;
  border-bottom: 1px solid var(--border);
}
.panel > .panel-body { padding: .75rem .9rem; }
.panel-head h2 button {
  all: unset;
  cursor: pointer;
  display: inline-flex;
  align-items: center;
  gap: .4rem;
  font-weight: 650;
}
.panel-head h2 button:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; border-radius: 4px; }
.panel-head h2 button .chev { display: inline-block; transition: transform .15s; }
.panel-head h2 button[aria-expanded="false"] .chev { transform: rotate(-90deg); }
.count { font-size: .9rem; color: var(--muted); }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
caption { text-align: left; padding: 0 0 .35rem; color: var(--muted); font-size: .85rem; }
th, td { text-align: left; vertical-align: top; padding: .45rem .6rem; border-top: 1px solid var(--border); }
thead th {
  border-top: 0;
  font-weight: 600;
  color: var(--muted);
  font-size: .8rem;
  text-transform: uppercase;
  letter-spacing: .03em;
  white-space: nowrap;
}
tbody tr:hover { background: color-mix(in srgb, var(--bg) 60%, transparent); }
tbody th[scope="row"] { width: 1%; white-space: nowrap; padding-right: 2rem; font-weight: 600; }
tbody tr:first-child > * { border-top: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.nowrap { white-space: nowrap; }
td.error { color: var(--down); max-width: 32rem; overflow-wrap: anywhere; }
.badge {
  display: inline-block;
  font-size: .75rem;
  font-weight: 700;
  letter-spacing: .04em;
  padding: .1rem .45rem;
  border-radius: 999px;
  text-transform: uppercase;
  white-space: nowrap;
}
.badge.up { color: var(--up); background: var(--up-bg); }
.badge.down { color: var(--down); background: var(--down-bg); }
.badge.unknown { color: var(--unknown); background: var(--unknown-bg); }
.badge.warn { color: var(--warn); background: var(--warn-bg); }
.labels { display: flex; flex-wrap: wrap; gap: .25rem; list-style: none; margin: 0; padding: 0; }
.labels li {
  font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  font-size: .78rem;
  background: var(--code-bg);
  border: 1px solid var(--border);
  border-radius: 4px;
  padding: 0 .3rem;
  overflow-wrap: anywhere;
}
.labels li.meta { opacity: .85; }
pre.code {
  background: var(--code-bg);
  border: 1px solid var(--border);
  border-radius: 6px;
  padding: .75rem 1rem;
  overflow: auto;
  font-size: .85rem;
  line-height: 1.4;
  margin: 0;
  max-height: 75vh;
}
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; margin: 0; }
dl.kv dt { color: var(--muted); }
dl.kv dd { margin: 0; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(18rem, 1fr)); gap: 1rem; }
.cards .panel { margin: 0; }
.stat-row { display: flex; flex-wrap: wrap; gap: 1.25rem; }
.stat { display: flex; flex-direction: column; }
.stat .v { font-size: 1.35rem; font-weight: 650; font-variant-numeric: tabular-nums; }
.stat .k { font-size: .8rem; color: var(--muted); }
.spark { display: block; width: 100%; max-width: 28rem; height: 48px; }
.spark polyline { fill: none; stroke: var(--spark); stroke-width: 1.5; }
.spark .area { fill: color-mix(in srgb, var(--spark) 15%, transparent); stroke: none; }
progress { width: 16rem; max-width: 100%; }
meter { width: 8rem; vertical-align: middle; }
ul.plain { list-style: none; margin: 0 0 .5rem; padding: 0; display: grid; gap: .35rem; }
.empty { color: var(--muted); font-style: italic; padding: .5rem 0; }
.arrow { color: var(--muted); text-align: center; }
`;
