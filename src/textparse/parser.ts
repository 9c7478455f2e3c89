import { OpenMetricsParser } from './openmetrics.ts';
import { PromTextParser } from './prom-text.ts';
import { NhcbTextParser } from './nhcb-text.ts';
import { ProtobufParser, type ProtobufParserOptions } from './protobuf.ts';
import type { TextParser } from './types.ts';

export { Entry, MetricType, ParseError } from './types.ts';
export type { TextParser } from './types.ts';
export { PromTextParser } from './prom-text.ts';
export { OpenMetricsParser } from './openmetrics.ts';
export { ProtobufParser, type ProtobufParserOptions } from './protobuf.ts';

export type TextFormat = 'text' | 'openmetrics' | 'protobuf';

/** Protocol names exactly as written in `scrape_protocols`, mapped to the media type each asks for. */
export const SCRAPE_PROTOCOL_MEDIA_TYPES = {
  PrometheusProto: 'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited',
  'PrometheusText0.0.4': 'text/plain;version=0.0.4',
  'PrometheusText1.0.0': 'text/plain;version=1.0.0',
  'OpenMetricsText0.0.1': 'application/openmetrics-text;version=0.0.1',
  'OpenMetricsText1.0.0': 'application/openmetrics-text;version=1.0.0',
} as const;
export type ScrapeProtocol = keyof typeof SCRAPE_PROTOCOL_MEDIA_TYPES;

/** Prometheus 3.x default order when a scrape config names no protocols. */
export const DEFAULT_SCRAPE_PROTOCOLS: readonly ScrapeProtocol[] = [
  'OpenMetricsText1.0.0',
  'OpenMetricsText0.0.1',
  'PrometheusText1.0.0',
  'PrometheusText0.0.4',
];

/** Name escaping offered to targets: `allow-utf-8` under UTF-8 name validation, `underscores` under legacy. */
export type NameEscaping = 'allow-utf-8' | 'underscores' | 'dots' | 'values';

/**
 * Builds the Accept header as Prometheus 3.x does: protocols in order with q weights counting
 * down from 0.6, `escaping=` on the 1.0.0 text formats, then `*` + `/*` with the next weight.
 */
export function buildAcceptHeader(protocols: readonly ScrapeProtocol[], escaping: NameEscaping): string {
  let weight = Object.keys(SCRAPE_PROTOCOL_MEDIA_TYPES).length + 1;
  const vals: string[] = [];
  for (const p of protocols) {
    let v: string = SCRAPE_PROTOCOL_MEDIA_TYPES[p];
    if (p === 'PrometheusText1.0.0' || p === 'OpenMetricsText1.0.0') v += `;escaping=${escaping}`;
    vals.push(`${v};q=0.${weight}`);
    weight--;
  }
  vals.push(`*/*;q=0.${weight}`);
  return vals.join(',');
}

/**
 * The Accept header sent with every scrape: Prometheus 3.x's default list with UTF-8 names
 * allowed, which is exactly what our parsers accept (quoted names included). Prometheus 2.42 sent
 * `application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,
 * text/plain;version=0.0.4;q=0.5,*` + `/*;q=0.1`; either makes targets answer in a format we parse.
 */
export const SCRAPE_ACCEPT_HEADER: string = buildAcceptHeader(DEFAULT_SCRAPE_PROTOCOLS, 'allow-utf-8');

const TSPECIALS = '()<>@,;:\\"/[]?=';

function isTokenChar(c: number): boolean {
  return c > 0x20 && c < 0x7f && !TSPECIALS.includes(String.fromCharCode(c));
}

function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let k = 0; k < s.length; k++) if (!isTokenChar(s.charCodeAt(k))) return false;
  return true;
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
 * Lower-cased `type/subtype` of a Content-Type header, or undefined when it is blank or does not
 * parse as a media type with well-formed parameters (Go's mime.ParseMediaType rules, trailing
 * semicolons allowed).
 */
export function mediaTypeOf(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  const parts = contentType.split(';');
  const mt = parts[0].trim().toLowerCase();
  const slash = mt.indexOf('/');
  if (slash < 0 ? !isToken(mt) : !isToken(mt.slice(0, slash)) || !isToken(mt.slice(slash + 1))) return undefined;
  const seen = new Set<string>();
  for (let k = 1; k < parts.length; k++) {
    const p = parts[k].trim();
    if (p === '' && k === parts.length - 1) break;
    const eq = p.indexOf('=');
    if (eq < 0) return undefined;
    const key = p.slice(0, eq).trim().toLowerCase();
    const val = p.slice(eq + 1).trim();
    if (!isToken(key) || seen.has(key) || !(isToken(val) || isQuotedString(val))) return undefined;
    seen.add(key);
  }
  return mt;
}

/**
 * Which parser a response needs, from its Content-Type. OpenMetrics, `text/plain` and protobuf
 * (`application/vnd.google.protobuf`) are taken as given; anything else (blank, unparsable, unknown)
 * uses `fallback`, or the Prometheus text format when there is none, as Prometheus 2.42 did.
 */
export function selectFormat(contentType: string | undefined, fallback?: TextFormat): TextFormat {
  const mt = mediaTypeOf(contentType);
  if (mt === 'application/openmetrics-text') return 'openmetrics';
  if (mt === 'text/plain') return 'text';
  if (mt === 'application/vnd.google.protobuf') return 'protobuf';
  return fallback ?? 'text';
}

export interface CreateParserOptions {
  /** Enforce the full OpenMetrics 1.0 specification instead of Prometheus' acceptance rules. */
  strictOpenMetrics?: boolean;
  /** How protobuf bodies treat histograms; by default native parts are ignored, as with native histograms off. */
  histograms?: ProtobufParserOptions | undefined;
}

/** Native histograms off, classic histograms as they are: Prometheus' defaults. */
const CLASSIC_ONLY: ProtobufParserOptions = Object.freeze({
  ignoreNativeHistograms: true,
  keepClassicHistograms: false,
  convertClassicToNhcb: false,
});

/** A parser for a response with this Content-Type; reusable across scrapes via reset(). */
export function createParser(
  contentType: string | undefined,
  fallback?: TextFormat,
  options: CreateParserOptions = {},
): TextParser {
  const format = selectFormat(contentType, fallback);
  const histograms = options.histograms ?? CLASSIC_ONLY;
  if (format === 'protobuf') return new ProtobufParser(histograms);
  const p =
    format === 'openmetrics'
      ? new OpenMetricsParser({ strict: options.strictOpenMetrics === true })
      : new PromTextParser();
  return histograms.convertClassicToNhcb ? new NhcbTextParser(p, histograms.keepClassicHistograms) : p;
}
