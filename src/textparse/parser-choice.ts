/**
 * Which parser reads a format, with the protobuf parser and the NHCB converter (and the histogram
 * model under both) loaded only when a target first needs them: an agent that scrapes text and
 * converts no classic histogram never evaluates that code (issue 12, start-up weight). The scrape
 * loop calls loadParser before parserFor for a Content-Type it has not met; parser.ts gives the same
 * choice with everything imported up front (tests, benchmarks).
 */
import { OutpostError } from '../util/errors.ts';
import { OpenMetricsParser } from './openmetrics.ts';
import { PromTextParser } from './prom-text.ts';
import type { NhcbTextParser } from './nhcb-text.ts';
import type { ProtobufParser, ProtobufParserOptions } from './protobuf.ts';
import type { ExpositionFormat } from './protocols.ts';
import type { TextParser } from './types.ts';

export interface CreateParserOptions {
  /** Enforce the full OpenMetrics 1.0 specification instead of Prometheus' acceptance rules. */
  strictOpenMetrics?: boolean;
  /** How histograms are read (scrape_native_histograms and friends); by default as with native histograms off. */
  histograms?: ProtobufParserOptions | undefined;
}

/** The parsers that are loaded on demand. */
export interface OptionalParsers {
  readonly ProtobufParser: typeof ProtobufParser;
  readonly NhcbTextParser: typeof NhcbTextParser;
}

/** Native histograms off, classic histograms as they are: Prometheus' defaults. */
const CLASSIC_ONLY: ProtobufParserOptions = Object.freeze({
  ignoreNativeHistograms: true,
  keepClassicHistograms: false,
  convertClassicToNhcb: false,
});

let protobufParser: typeof ProtobufParser | undefined;
let nhcbTextParser: typeof NhcbTextParser | undefined;

/** Loads what parserFor needs for this format and these options (once per process). */
export async function loadParser(format: ExpositionFormat, options: CreateParserOptions = {}): Promise<void> {
  if (format === 'protobuf') protobufParser ??= (await import('./protobuf.ts')).ProtobufParser;
  else if ((options.histograms ?? CLASSIC_ONLY).convertClassicToNhcb)
    nhcbTextParser ??= (await import('./nhcb-text.ts')).NhcbTextParser;
}

/** Thrown by parserFor when loadParser was not awaited first: a programming error. */
class ParserNotLoadedError extends OutpostError {
  constructor(what: string) {
    super('OUTPOST_PARSER_NOT_LOADED', `${what} used before loadParser loaded it`);
  }
}

/**
 * A parser for a known format: protobuf reads histograms as the options say; the text formats are
 * wrapped in the NHCB converter when classic histograms are to become custom-bucket ones. `loaded`
 * names the on-demand parsers when the caller imported them itself.
 */
export function parserFor(
  format: ExpositionFormat,
  options: CreateParserOptions = {},
  loaded: Partial<OptionalParsers> = {},
): TextParser {
  const histograms = options.histograms ?? CLASSIC_ONLY;
  if (format === 'protobuf') {
    const Protobuf = loaded.ProtobufParser ?? protobufParser;
    if (!Protobuf) throw new ParserNotLoadedError('the protobuf parser');
    return new Protobuf(histograms);
  }
  const p =
    format === 'openmetrics'
      ? new OpenMetricsParser({ strict: options.strictOpenMetrics === true })
      : new PromTextParser();
  if (!histograms.convertClassicToNhcb) return p;
  const Nhcb = loaded.NhcbTextParser ?? nhcbTextParser;
  if (!Nhcb) throw new ParserNotLoadedError('the NHCB converter');
  return new Nhcb(p, histograms.keepClassicHistograms);
}
