import type { Registry } from 'prom-client';

/**
 * The registry's families in the Prometheus text format, byte for byte what prom-client's
 * Registry.metrics() writes for a text-format registry (test/metrics/render checks both on the same
 * registry), with a fraction of its garbage: prom-client builds label arrays, entry arrays, escaped
 * copies and a joined array per family, about 0.45 MB per render of the agent's ~250 series, which
 * was half of what an idle agent allocated per self-scrape and the young-generation collections it
 * paid for. Here each line is appended to one string and escaping runs only where a character needs it.
 */
export async function renderText(registry: Registry): Promise<string> {
  // getMetricsAsArray() is typed as plain descriptions, but holds the metric objects themselves.
  const metrics = registry.getMetricsAsArray() as unknown as readonly Renderable[];
  // All collect() callbacks start together, as prom-client's Promise.all does.
  const families = await Promise.all(metrics.map((m) => (m.getForPromString ? m.getForPromString() : m.get())));
  let out = '';
  for (const f of families) {
    const name = escapeString(f.name);
    if (out !== '') out += '\n\n';
    out += `# HELP ${name} ${escapeString(f.help)}\n# TYPE ${name} ${f.type}`;
    for (const v of f.values) out += `\n${v.metricName ?? name}${labelsText(v)} ${valueText(v.value)}`;
  }
  return `${out}\n`;
}

type LabelSet = Readonly<Record<string, string | number | undefined>>;

interface FamilyValue {
  readonly value: number;
  readonly labels?: LabelSet | undefined;
  /** Histogram buckets: labels every line of the series has, written after the line's own. */
  readonly sharedLabels?: LabelSet | undefined;
  readonly metricName?: string | undefined;
}

interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: string;
  readonly values: readonly FamilyValue[];
}

interface Renderable {
  get(): Promise<Family>;
  getForPromString?: () => Promise<Family>;
}

function labelsText(v: FamilyValue): string {
  let s = '';
  const shared = v.sharedLabels;
  if (v.labels !== undefined) {
    for (const name in v.labels) {
      if (!Object.hasOwn(v.labels, name) || (shared !== undefined && Object.hasOwn(shared, name))) continue;
      s += `${s === '' ? '' : ','}${name}="${labelValue(v.labels[name])}"`;
    }
  }
  if (shared !== undefined) {
    for (const name in shared) {
      if (Object.hasOwn(shared, name)) s += `${s === '' ? '' : ','}${name}="${labelValue(shared[name])}"`;
    }
  }
  return s === '' ? '' : `{${s}}`;
}

function labelValue(v: string | number | undefined): string {
  if (typeof v !== 'string') return String(v);
  const e = escapeString(v);
  return e.includes('"') ? e.replaceAll('"', '\\"') : e;
}

function escapeString(s: string): string {
  if (!s.includes('\\') && !s.includes('\n')) return s;
  return s.replaceAll('\\', '\\\\').replaceAll('\n', '\\n');
}

/** prom-client's spelling, kept so the text does not change: `Nan` (parsers read it as NaN), `+Inf`, `-Inf`. */
function valueText(v: number): string {
  if (Number.isNaN(v)) return 'Nan';
  if (!Number.isFinite(v)) return v < 0 ? '-Inf' : '+Inf';
  return `${v}`;
}
