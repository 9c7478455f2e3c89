import { OutpostError } from '../util/errors.ts';

/** HTTP statuses an OTLP request is refused with (OTLP/HTTP: all are final, the client must not retry). */
export type OtlpRefusal = 400 | 413 | 415;

/** A request the receiver refuses as a whole; the message names the place in the request. */
export class OtlpRequestError extends OutpostError {
  readonly status: OtlpRefusal;
  constructor(status: OtlpRefusal, message: string) {
    super('OUTPOST_OTLP_REQUEST', message);
    this.status = status;
  }
}

/** An OTLP metric, label or histogram Prometheus' translation cannot turn into a series; its points are refused. */
export class OtlpTranslationError extends OutpostError {
  constructor(message: string) {
    super('OUTPOST_OTLP_TRANSLATION', message);
  }
}

/** The WAL cannot take the request right now; the client is told to retry (503). */
export class OtlpUnavailableError extends OutpostError {
  constructor(message: string) {
    super('OUTPOST_OTLP_UNAVAILABLE', message);
  }
}

/** The refusal of a request with more than `maxPoints` data points, the same for both encodings. */
export function tooManyPoints(maxPoints: number): OtlpRequestError {
  return new OtlpRequestError(
    413,
    `the request holds more than ${maxPoints} data points; send smaller batches ` +
      '(OpenTelemetry Collector: batch processor send_batch_max_size; SDKs: export more often)',
  );
}
