import type http from 'node:http';
import { lazyZlib } from '../util/lazy-builtin.ts';

/**
 * Response writers that reproduce the bytes Prometheus' Go handlers send: `http.Error` appends a
 * newline and sets nosniff, plain `w.Write` does neither, API JSON goes out as `application/json`.
 */

/** API error types and the HTTP status Prometheus maps each to. */
const API_ERROR_STATUS = {
  bad_data: 400,
  execution: 422,
  canceled: 503,
  timeout: 503,
  internal: 500,
  unavailable: 503,
  not_found: 404,
} as const;
export type ApiErrorType = keyof typeof API_ERROR_STATUS;

/** Body written with Go's `w.Write` / `fmt.Fprint`: no trailing newline, no nosniff. */
export function sendPlain(res: http.ServerResponse, status: number, body: string): void {
  const buf = Buffer.from(body);
  // Go sniffs the type from the first write; a handler that writes nothing sends none.
  res.writeHead(
    status,
    buf.length > 0
      ? { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': buf.length }
      : { 'Content-Length': 0 },
  );
  res.end(res.req.method === 'HEAD' ? undefined : buf);
}

/** Body written with Go's `http.Error`: newline appended, nosniff header. */
export function sendHttpError(
  res: http.ServerResponse,
  status: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  const buf = Buffer.from(message + '\n');
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'text/plain; charset=utf-8',
    'X-Content-Type-Options': 'nosniff',
    'Content-Length': buf.length,
  });
  res.end(res.req.method === 'HEAD' ? undefined : buf);
}

export function notFound(res: http.ServerResponse): void {
  sendHttpError(res, 404, '404 page not found');
}

export function methodNotAllowed(res: http.ServerResponse, allowed: readonly string[]): void {
  sendHttpError(res, 405, 'Method Not Allowed', { Allow: allowHeader(allowed) });
}

/** httprouter lists the path's methods plus OPTIONS, sorted. */
export function allowHeader(methods: readonly string[]): string {
  return [...new Set([...methods, 'OPTIONS'])].sort().join(', ');
}

/** Go's http.Redirect for GET: an HTML body naming the target. */
export function redirect(res: http.ServerResponse, status: 301 | 302, location: string): void {
  const body =
    res.req.method === 'GET'
      ? `<a href="${escapeHtml(location)}">${status === 302 ? 'Found' : 'Moved Permanently'}</a>.\n\n`
      : '';
  const buf = Buffer.from(body);
  res.writeHead(status, {
    Location: location,
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': buf.length,
  });
  res.end(buf);
}

const GZIP_MIN_BYTES = 1024;

/** JSON (or other) body, gzip-compressed when the client accepts it, like Prometheus' CompressionHandler. */
export async function sendBody(
  res: http.ServerResponse,
  status: number,
  contentType: string,
  body: string,
  extra: Record<string, string> = {},
): Promise<void> {
  let buf: Buffer = Buffer.from(body);
  const headers: Record<string, string | number> = { ...extra, 'Content-Type': contentType };
  const accept = String(res.req.headers['accept-encoding'] ?? '');
  if (buf.length >= GZIP_MIN_BYTES && /\bgzip\b/.test(accept)) {
    buf = await new Promise<Buffer>((resolve, reject) =>
      lazyZlib().gzip(buf, (err, out) => (err ? reject(err) : resolve(out))),
    );
    headers['Content-Encoding'] = 'gzip';
    const vary = headers.Vary ?? res.getHeader('Vary');
    headers.Vary = vary ? `${String(vary)}, Accept-Encoding` : 'Accept-Encoding';
  }
  headers['Content-Length'] = buf.length;
  res.writeHead(status, headers);
  res.end(res.req.method === 'HEAD' ? undefined : buf);
}

export function apiSuccess(res: http.ServerResponse, data: unknown): Promise<void> {
  return sendBody(res, 200, 'application/json', JSON.stringify({ status: 'success', data }));
}

export function apiError(res: http.ServerResponse, type: ApiErrorType, message: string): Promise<void> {
  return sendBody(
    res,
    API_ERROR_STATUS[type],
    'application/json',
    JSON.stringify({ status: 'error', errorType: type, error: message }),
  );
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Go's time.Time JSON for a ms timestamp; the zero time for "never". */
export function goTime(ms: number): string {
  return ms > 0 ? new Date(ms).toISOString() : '0001-01-01T00:00:00Z';
}
