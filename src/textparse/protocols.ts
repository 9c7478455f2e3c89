/**
 * Scrape protocol negotiation as Prometheus 3 does it: the protocol table behind
 * `scrape_protocols` / `fallback_scrape_protocol`, the Accept header built from it, and the choice
 * of exposition format from a response's Content-Type.
 *
 * Facts (prometheus/prometheus v3.14.0): protocol names, media types and default orders in
 * config/config.go lines 573-608; the Accept header in scrape/scrape.go lines 702-721; the
 * Content-Type rules and their error texts in model/textparse/interface.go lines 93-123.
 */
import { ParseError } from './types.ts';

/** How a body is read once its format is known. */
export type ExpositionFormat = 'text' | 'openmetrics' | 'protobuf';

/** Name escaping asked of targets with `escaping=` (prometheus/common model.EscapingScheme names). */
export type NameEscaping = 'allow-utf-8' | 'underscores' | 'dots' | 'values';

interface ProtocolSpec {
  /** The Accept header entry, parameters included. */
  readonly header: string;
  readonly format: ExpositionFormat;
  /** Whether the format can carry UTF-8 names and so takes an `escaping=` parameter. */
  readonly escaping: boolean;
}

/**
 * Every protocol `scrape_protocols` accepts, spelled as in Prometheus' config. A new format is one
 * more row here (and a parser for its ExpositionFormat in parser.ts).
 */
export const SCRAPE_PROTOCOL_TABLE = {
  PrometheusProto: {
    header: 'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited',
    format: 'protobuf',
    escaping: false,
  },
  'PrometheusText0.0.4': { header: 'text/plain;version=0.0.4', format: 'text', escaping: false },
  'PrometheusText1.0.0': { header: 'text/plain;version=1.0.0', format: 'text', escaping: true },
  'OpenMetricsText0.0.1': {
    header: 'application/openmetrics-text;version=0.0.1',
    format: 'openmetrics',
    escaping: false,
  },
  'OpenMetricsText1.0.0': {
    header: 'application/openmetrics-text;version=1.0.0',
    format: 'openmetrics',
    escaping: true,
  },
} as const satisfies Readonly<Record<string, ProtocolSpec>>;

export type ScrapeProtocol = keyof typeof SCRAPE_PROTOCOL_TABLE;

/** Prometheus 3.x default order when a scrape config names no protocols. */
export const DEFAULT_SCRAPE_PROTOCOLS: readonly ScrapeProtocol[] = Object.freeze([
  'OpenMetricsText1.0.0',
  'OpenMetricsText0.0.1',
  'PrometheusText1.0.0',
  'PrometheusText0.0.4',
] as const);

/** Media types a response may declare, and how each is read. */
const FORMAT_BY_MEDIA_TYPE: ReadonlyMap<string, ExpositionFormat> = new Map(
  Object.values(SCRAPE_PROTOCOL_TABLE).map((p) => [bareMediaType(p.header), p.format]),
);

function bareMediaType(header: string): string {
  const semi = header.indexOf(';');
  return semi < 0 ? header : header.slice(0, semi);
}

/**
 * The Accept header: protocols in order with q weights counting down from 0.(table size + 1),
 * `escaping=` on the formats that carry UTF-8 names, then `*` + `/*` with the next weight.
 */
export function buildAcceptHeader(protocols: readonly ScrapeProtocol[], escaping: NameEscaping): string {
  let weight = Object.keys(SCRAPE_PROTOCOL_TABLE).length + 1;
  const vals: string[] = [];
  for (const p of protocols) {
    const spec: ProtocolSpec = SCRAPE_PROTOCOL_TABLE[p];
    const v = spec.escaping ? `${spec.header};escaping=${escaping}` : spec.header;
    vals.push(`${v};q=0.${weight}`);
    weight--;
  }
  vals.push(`*/*;q=0.${weight}`);
  return vals.join(',');
}

/** The Accept header of a job with default settings: Prometheus 3.x's default list, UTF-8 names allowed. */
export const SCRAPE_ACCEPT_HEADER: string = buildAcceptHeader(DEFAULT_SCRAPE_PROTOCOLS, 'allow-utf-8');

const TSPECIALS = '()<>@,;:\\"/[]?=';

function isTokenChar(c: number): boolean {
  return c > 0x20 && c < 0x7f && !TSPECIALS.includes(String.fromCharCode(c));
}

function tokenEnd(s: string, from: number): number {
  let k = from;
  while (k < s.length && isTokenChar(s.charCodeAt(k))) k++;
  return k;
}

function isToken(s: string): boolean {
  return s.length > 0 && tokenEnd(s, 0) === s.length;
}

function isQuotedString(s: string): boolean {
  if (s.length < 2 || s[0] !== '"' || s[s.length - 1] !== '"') return false;
  for (let k = 1; k < s.length - 1; k++) {
    if (s[k] === '\\') k++;
    else if (s[k] === '"') return false;
  }
  return true;
}

/**
 * Go's mime.ParseMediaType as far as Prometheus relies on it: the lower-cased `type/subtype`, or
 * the error text Go gives (`mime: ...`) when the type or its parameters are malformed (trailing
 * semicolons allowed).
 */
export function parseMediaType(contentType: string): { mediaType: string } | { error: string } {
  const parts = contentType.split(';');
  const mt = (parts[0] ?? '').trim().toLowerCase();
  const typeEnd = tokenEnd(mt, 0);
  if (typeEnd === 0) return { error: 'mime: no media type' };
  if (typeEnd < mt.length) {
    if (mt[typeEnd] !== '/') return { error: 'mime: expected slash after first token' };
    const subEnd = tokenEnd(mt, typeEnd + 1);
    if (subEnd === typeEnd + 1) return { error: 'mime: expected token after slash' };
    if (subEnd < mt.length) return { error: 'mime: unexpected content after media subtype' };
  }
  const seen = new Set<string>();
  for (let k = 1; k < parts.length; k++) {
    const p = (parts[k] ?? '').trim();
    if (p === '' && k === parts.length - 1) break;
    const eq = p.indexOf('=');
    const key = eq < 0 ? '' : p.slice(0, eq).trim().toLowerCase();
    const val = eq < 0 ? '' : p.slice(eq + 1).trim();
    if (!isToken(key) || !(isToken(val) || isQuotedString(val))) return { error: 'mime: invalid media parameter' };
    if (seen.has(key)) return { error: 'mime: duplicate parameter name' };
    seen.add(key);
  }
  return { mediaType: mt };
}

/**
 * Lower-cased `type/subtype` of a Content-Type header, or undefined when it is blank or does not
 * parse as a media type.
 */
export function mediaTypeOf(contentType: string | undefined): string | undefined {
  if (contentType === undefined || contentType === '') return undefined;
  const r = parseMediaType(contentType);
  return 'mediaType' in r ? r.mediaType : undefined;
}

/** How a response is read, and why the fallback protocol was used when it was (logged at debug level). */
export interface FormatChoice {
  readonly format: ExpositionFormat;
  readonly fallbackReason?: string | undefined;
}

/**
 * The format of a response from its Content-Type (`undefined` = header absent, which Go reads as
 * blank). A blank, malformed or unknown type uses `fallback`; without one the scrape fails with
 * Prometheus 3's error text (2.42 read such bodies as text).
 */
export function chooseFormat(contentType: string | undefined, fallback?: ScrapeProtocol): FormatChoice {
  const fb = fallback === undefined ? undefined : SCRAPE_PROTOCOL_TABLE[fallback];
  const fbName = fb === undefined ? '' : JSON.stringify(bareMediaType(fb.header));
  const ct = contentType ?? '';
  if (ct === '') {
    if (fb === undefined)
      throw new ParseError(
        0,
        'non-compliant scrape target sending blank Content-Type and no fallback_scrape_protocol specified for target',
      );
    return {
      format: fb.format,
      fallbackReason:
        'non-compliant scrape target sending blank Content-Type, using fallback_scrape_protocol ' + fbName,
    };
  }
  const parsed = parseMediaType(ct);
  if ('error' in parsed) {
    // Go joins the two errors with a newline (errors.Join).
    if (fb === undefined)
      throw new ParseError(
        0,
        `cannot parse Content-Type ${JSON.stringify(ct)} and no fallback_scrape_protocol for target\n${parsed.error}`,
      );
    return {
      format: fb.format,
      fallbackReason:
        `could not parse received Content-Type ${JSON.stringify(ct)}, using fallback_scrape_protocol ${fbName}\n` +
        parsed.error,
    };
  }
  const known = FORMAT_BY_MEDIA_TYPE.get(parsed.mediaType);
  if (known !== undefined) return { format: known };
  if (fb === undefined)
    throw new ParseError(
      0,
      `received unsupported Content-Type ${JSON.stringify(ct)} and no fallback_scrape_protocol specified for target`,
    );
  return {
    format: fb.format,
    fallbackReason: `received unsupported Content-Type ${JSON.stringify(ct)}, using fallback_scrape_protocol ${fbName}`,
  };
}
