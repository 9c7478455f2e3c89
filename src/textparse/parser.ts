import { NhcbTextParser } from './nhcb-text.ts';
import { parserFor, type CreateParserOptions } from './parser-choice.ts';
import { ProtobufParser } from './protobuf.ts';
import type { TextParser } from './types.ts';
import { chooseFormat, type ScrapeProtocol } from './protocols.ts';

export { Entry, MetricType, ParseError } from './types.ts';
export type { TextParser } from './types.ts';
export { PromTextParser } from './prom-text.ts';
export { OpenMetricsParser } from './openmetrics.ts';
export { ProtobufParser } from './protobuf.ts';

export type { CreateParserOptions } from './parser-choice.ts';
export type { ScrapeProtocol } from './protocols.ts';

/**
 * A parser for a response with this Content-Type (see chooseFormat for blank and unknown types);
 * reusable across scrapes via reset(). Every parser is imported up front here (tests, benchmarks);
 * the scrape loop goes through parser-choice.ts, which loads protobuf and NHCB on demand.
 */
export function createParser(
  contentType: string | undefined,
  fallback?: ScrapeProtocol,
  options: CreateParserOptions = {},
): TextParser {
  return parserFor(chooseFormat(contentType, fallback).format, options, { ProtobufParser, NhcbTextParser });
}
