import { OpenMetricsParser } from './openmetrics.ts';
import { PromTextParser } from './prom-text.ts';
import { ParseError, type TextParser } from './types.ts';
import { chooseFormat, type ExpositionFormat, type ScrapeProtocol } from './protocols.ts';

export { Entry, MetricType, ParseError } from './types.ts';
export type { TextParser } from './types.ts';
export { PromTextParser } from './prom-text.ts';
export { OpenMetricsParser } from './openmetrics.ts';

export { buildAcceptHeader, chooseFormat } from './protocols.ts';
export type { ExpositionFormat, ScrapeProtocol } from './protocols.ts';

export interface CreateParserOptions {
  /** Enforce the full OpenMetrics 1.0 specification instead of Prometheus' acceptance rules. */
  strictOpenMetrics?: boolean;
}

/**
 * A parser for a response with this Content-Type (see chooseFormat for blank and unknown types);
 * reusable across scrapes via reset().
 */
export function createParser(
  contentType: string | undefined,
  fallback?: ScrapeProtocol,
  options: CreateParserOptions = {},
): TextParser {
  return parserFor(chooseFormat(contentType, fallback).format, contentType, options);
}

/** A parser for a known format. */
export function parserFor(
  format: ExpositionFormat,
  contentType: string | undefined,
  options: CreateParserOptions = {},
): TextParser {
  if (format === 'openmetrics') return new OpenMetricsParser({ strict: options.strictOpenMetrics === true });
  if (format === 'text') return new PromTextParser();
  throw new ParseError(
    0,
    `unsupported Content-Type ${JSON.stringify(contentType ?? '')}: protobuf exposition is not supported`,
  );
}
