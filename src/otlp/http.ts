/**
 * POST /api/v1/otlp/v1/metrics as OTLP/HTTP specifies it: protobuf or JSON bodies, gzip or not; the
 * answer is an ExportMetricsServiceResponse in the request's encoding (partial_success when data points
 * were refused), or a google.rpc.Status with 400 (malformed), 413 (too large), 415 (other media types or
 * encodings) or 503 (the WAL cannot take data; retryable).
 */
import type http from 'node:http';
import { ByteWriter } from '../util/bytes.ts';
import { errorMessage } from '../util/errors.ts';
import { lazyZlib } from '../util/lazy-builtin.ts';
import { decodeJsonRequest } from './decode-json.ts';
import { decodeProtoRequest } from './decode-proto.ts';
import { OtlpRequestError, OtlpUnavailableError } from './errors.ts';
import { DEFAULT_DECODE_LIMITS, type DecodeLimits, type OtlpRequest } from './model.ts';
import type { IngestResult, OtlpReceiver } from './receiver.ts';

/** Prometheus' decodeReadLimit for OTLP bodies (after gunzip). */
const DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024;
/**
 * OTLP/JSON is parsed into a whole object tree before any limit can look at it, about ten times its size
 * (measured: 100k points, 9 MB of JSON, +105 MiB RSS); so JSON bodies get a quarter of the protobuf limit.
 */
const JSON_BODY_DIVISOR = 4;

const PROTOBUF = 'application/x-protobuf';
const JSON_TYPE = 'application/json';

type Encoding = 'proto' | 'json';

/** google.rpc.Code for each refusal. */
const GRPC_CODE: Readonly<Record<number, number>> = { 400: 3, 413: 8, 415: 3, 503: 14, 500: 13 };

export interface OtlpHttpOptions {
  readonly maxBodyBytes?: number | undefined;
  readonly limits?: DecodeLimits | undefined;
}

function mediaType(req: http.IncomingMessage): Encoding | null {
  const t = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (t === PROTOBUF || t === 'application/protobuf') return 'proto';
  if (t === JSON_TYPE) return 'json';
  return null;
}

/** Reads the (possibly gzipped) body, refusing it with 413 once it passes `max` bytes either way. */
async function readBody(req: http.IncomingMessage, max: number): Promise<Buffer> {
  const enc = (req.headers['content-encoding'] ?? '').trim().toLowerCase();
  if (enc !== '' && enc !== 'identity' && enc !== 'gzip')
    throw new OtlpRequestError(415, `unsupported Content-Encoding "${enc}": send gzip or no compression`);
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) throw tooLarge(max);
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    n += chunk.length;
    if (n > max) throw tooLarge(max);
    chunks.push(chunk);
  }
  const raw = Buffer.concat(chunks, n);
  if (enc !== 'gzip') return raw;
  const zlib = lazyZlib();
  return new Promise((resolve, reject) =>
    zlib.gunzip(raw, { maxOutputLength: max }, (err, out) => {
      if (!err) return resolve(out);
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') reject(tooLarge(max, 'after gunzip'));
      else reject(new OtlpRequestError(400, `invalid gzip body: ${err.message}`));
    }),
  );
}

function tooLarge(max: number, when = ''): OtlpRequestError {
  return new OtlpRequestError(
    413,
    `request body is larger than ${max} bytes${when ? ' ' + when : ''}; send smaller batches ` +
      '(OTLP/JSON bodies may hold a quarter of what protobuf bodies may)',
  );
}

/** ExportMetricsServiceResponse { partial_success = 1 { rejected_data_points = 1; error_message = 2 } }. */
function encodeResponse(r: IngestResult, enc: Encoding): Buffer | string {
  const partial = r.rejectedPoints > 0 || r.message !== '';
  if (enc === 'json')
    return JSON.stringify(
      partial ? { partialSuccess: { rejectedDataPoints: String(r.rejectedPoints), errorMessage: r.message } } : {},
    );
  if (!partial) return Buffer.alloc(0);
  const inner = new ByteWriter(64 + r.message.length * 3);
  if (r.rejectedPoints > 0) {
    inner.u8(0x08);
    inner.uvarint(r.rejectedPoints);
  }
  if (r.message !== '') {
    const m = Buffer.from(r.message);
    inner.u8(0x12);
    inner.uvarint(m.length);
    inner.bytes(m);
  }
  const body = inner.view();
  const w = new ByteWriter(body.length + 8);
  w.u8(0x0a);
  w.uvarint(body.length);
  w.bytes(body);
  return w.copy();
}

/** google.rpc.Status { code = 1; message = 2 }. */
function encodeStatus(status: number, message: string, enc: Encoding): Buffer | string {
  const code = GRPC_CODE[status] ?? 2;
  if (enc === 'json') return JSON.stringify({ code, message });
  const m = Buffer.from(message);
  const w = new ByteWriter(m.length + 16);
  w.u8(0x08);
  w.uvarint(code);
  w.u8(0x12);
  w.uvarint(m.length);
  w.bytes(m);
  return w.copy();
}

function send(
  res: http.ServerResponse,
  status: number,
  enc: Encoding | null,
  body: Buffer | string,
  extra: Record<string, string> = {},
): void {
  const type = enc === 'proto' ? PROTOBUF : enc === 'json' ? JSON_TYPE : 'text/plain; charset=utf-8';
  const buf = typeof body === 'string' ? Buffer.from(body) : body;
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': buf.length, ...extra });
  res.end(buf);
}

/** Serves one OTLP export request. */
export async function serveOtlp(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  receiver: OtlpReceiver,
  opts: OtlpHttpOptions = {},
): Promise<void> {
  const protoMax = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const limits = opts.limits ?? DEFAULT_DECODE_LIMITS;
  const enc = mediaType(req);
  if (enc === null) {
    const msg = `unsupported Content-Type "${req.headers['content-type'] ?? ''}": send ${PROTOBUF} or ${JSON_TYPE}`;
    receiver.refused(msg);
    // The body is not read: the connection cannot be reused safely.
    res.setHeader('Connection', 'close');
    return send(res, 415, null, msg + '\n');
  }
  const max = enc === 'json' ? Math.floor(protoMax / JSON_BODY_DIVISOR) : protoMax;
  let decoded: OtlpRequest;
  try {
    const body = await readBody(req, max);
    decoded = enc === 'proto' ? decodeProtoRequest(body, limits) : decodeJsonRequest(body.toString('utf8'), limits);
  } catch (err) {
    if (!(err instanceof OtlpRequestError)) throw err;
    receiver.refused(err.message);
    if (err.status === 413 || err.status === 415) res.setHeader('Connection', 'close');
    return send(res, err.status, enc, encodeStatus(err.status, err.message, enc));
  }
  let result: IngestResult;
  try {
    result = await receiver.ingest(decoded);
  } catch (err) {
    const unavailable = err instanceof OtlpUnavailableError;
    const status = unavailable ? 503 : 500;
    const msg = unavailable ? err.message : `appending OTLP samples failed: ${errorMessage(err)}`;
    receiver.refused(msg);
    return send(res, status, enc, encodeStatus(status, msg, enc), unavailable ? { 'Retry-After': '5' } : {});
  }
  send(res, 200, enc, encodeResponse(result, enc));
}
