import { OpenMetricsParser } from './openmetrics.ts';
import { PromTextParser } from './prom-text.ts';
import { NhcbTextParser } from './nhcb-text.ts';
import { ProtobufParser, type ProtobufParserOptions } from './protobuf.ts';
import type { TextParser } from './types.ts';
import { chooseFormat, type ExpositionFormat, type ScrapeProtocol } from './protocols.ts';

export { Entry, MetricType, ParseError } from './types.ts';
export type { TextParser } from './types.ts';
export { PromTextParser } from './prom-text.ts';
export { OpenMetricsParser } from './openmetrics.ts';
export { ProtobufParser, type ProtobufParserOptions } from './protobuf.ts';

export { buildAcceptHeader, chooseFormat } from './protocols.ts';
export type { ExpositionFormat, ScrapeProtocol } from './protocols.ts';

export interface CreateParserOptions {
  /** Enforce the full OpenMetrics 1.0 specification instead of Prometheus' acceptance rules. */
  strictOpenMetrics?: boolean;
  /** How histograms are read (scrape_native_histograms and friends); by default as with native histograms off. */
  histograms?: ProtobufParserOptions | undefined;
}

/** Native histograms off, classic histograms as they are: Prometheus' defaults. */
const CLASSIC_ONLY: ProtobufParserOptions = Object.freeze({
  ignoreNativeHistograms: true,
  keepClassicHistograms: false,
  convertClassicToNhcb: false,
});

/**
 * A parser for a response with this Content-Type (see chooseFormat for blank and unknown types);
 * reusable across scrapes via reset().
 */
export function createParser(
  contentType: string | undefined,
  fallback?: ScrapeProtocol,
  options: CreateParserOptions = {},
): TextParser {
  return parserFor(chooseFormat(contentType, fallback).format, options);
}

/**
 * A parser for a known format: protobuf reads histograms as the options say; the text formats are
 * wrapped in the NHCB converter when classic histograms are to become custom-bucket ones.
 */
export function parserFor(format: ExpositionFormat, options: CreateParserOptions = {}): TextParser {
  const histograms = options.histograms ?? CLASSIC_ONLY;
  if (format === 'protobuf') return new ProtobufParser(histograms);
  const p =
    format === 'openmetrics'
      ? new OpenMetricsParser({ strict: options.strictOpenMetrics === true })
      : new PromTextParser();
  return histograms.convertClassicToNhcb ? new NhcbTextParser(p, histograms.keepClassicHistograms) : p;
}
