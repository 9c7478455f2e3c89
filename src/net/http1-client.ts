/**
 * A lean HTTP/1.1 GET client over kept-alive sockets, for plain-http scrapes without a proxy
 * (issue #12). Node's http client builds a ClientRequest (option parsing, header maps, agent queue,
 * nextTick chains) and an IncomingMessage Readable per request; a scrape needs none of that: one
 * fixed request head per target, a status line, a few headers and a body copied into one buffer.
 *
 * Sockets stay open between scrapes (one exchange at a time per socket). A socket that errored, was
 * closed by the server, answered with `Connection: close` or whose response was not read to its end
 * is never reused. Idle sockets are closed after `idleMs` and when the pool closes.
 */
import net from 'node:net';

/** Node's default --max-http-header-size: a longer response head fails as it does on node:http. */
const MAX_HEAD_BYTES = 16 * 1024;
/** A chunk-size line (with extensions) longer than this is not a chunk-size line. */
const MAX_CHUNK_LINE = 4096;
/** Chunk sizes above 2^52 are not exact in a double; no scrape body gets there. */
const MAX_CHUNK_HEX_DIGITS = 13;

/** An HTTP field name: a token (RFC 9110 5.1). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Why an exchange failed: malformed framing, an early close, or a socket error. */
class Http1Error extends Error {}

export interface Http1Response {
  status: number;
  statusText: string;
  /** Lower-cased header names; a repeated header keeps its first value. */
  headers: Map<string, string>;
}

/**
 * Receives one exchange's response. onHead returns false to stop reading (the socket is then
 * closed, never reused); onBody gets body bytes (still Content-Encoded) and may return false for the same.
 */
export interface Http1Sink {
  onHead(res: Http1Response): boolean;
  onBody(chunk: Buffer): boolean;
  onEnd(): void;
  onError(err: Http1Error): void;
}

/** One request and its response; follows a retry onto a fresh socket. destroy() aborts it (on timeout). */
export class Http1Exchange {
  conn: Conn | null = null;
  readonly head: Buffer;
  readonly sink: Http1Sink;
  constructor(head: Buffer, sink: Http1Sink) {
    this.head = head;
    this.sink = sink;
  }
  destroy(): void {
    this.conn?.destroy();
  }

  /** Stops reading the response (the body's consumer is behind); nothing once the exchange is over. */
  pause(): void {
    this.conn?.socket.pause();
  }

  resume(): void {
    this.conn?.socket.resume();
  }
}

/** Where the parser is in a response. */
const State = {
  Head: 0,
  Fixed: 1,
  ChunkSize: 2,
  ChunkData: 3,
  ChunkDataEnd: 4,
  Trailers: 5,
  UntilClose: 6,
  Done: 7,
} as const;
type State = (typeof State)[keyof typeof State];

/** One socket; carries one exchange at a time. */
class Conn {
  readonly socket: net.Socket;
  readonly key: string;
  idleSince = 0;
  private ex: Http1Exchange | null = null;
  private sink: Http1Sink | null = null;
  /** Set once a response byte arrived on this exchange; a reused socket closed before that may be retried. */
  received = false;
  reused = false;
  private state: State = State.Head;
  private pending: Buffer | null = null;
  private remaining = 0;
  private keepAlive = false;
  private stopped = false;
  private closed = false;
  private readonly pool: Http1Pool;

  constructor(pool: Http1Pool, key: string, socket: net.Socket) {
    this.pool = pool;
    this.key = key;
    this.socket = socket;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 1000);
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('end', () => this.onClose(null));
    socket.on('error', (e: Error) => this.onClose(e));
    socket.on('close', () => this.onClose(null));
  }

  start(ex: Http1Exchange): void {
    ex.conn = this;
    this.ex = ex;
    this.sink = ex.sink;
    this.received = false;
    this.state = State.Head;
    this.pending = null;
    this.stopped = false;
    // The previous exchange may have ended while its consumer had the socket paused.
    this.socket.resume();
    this.socket.write(ex.head);
  }

  destroy(): void {
    this.sink = null;
    this.ex = null;
    this.closed = true;
    this.socket.destroy();
    this.pool.forget(this);
  }

  get isClosed(): boolean {
    return this.closed || this.socket.destroyed;
  }

  /** Ends the exchange in flight with an error (the pool is closing) and closes the socket. */
  abort(msg: string): void {
    this.fail(msg);
  }

  private fail(msg: string): void {
    const sink = this.sink;
    this.destroy();
    sink?.onError(new Http1Error(msg));
  }

  private onClose(err: Error | null): void {
    if (this.closed) return;
    const sink = this.sink;
    const ex = this.ex;
    const state = this.state;
    this.closed = true;
    this.sink = null;
    this.ex = null;
    this.socket.destroy();
    this.pool.forget(this);
    if (!sink) return;
    if (state === State.UntilClose && !err) {
      this.state = State.Done;
      sink.onEnd();
      return;
    }
    if (this.reused && !this.received && ex && this.pool.retry(this.key, ex)) return;
    if (err) sink.onError(new Http1Error(err.message));
    else if (state === State.Head)
      sink.onError(new Http1Error(`connection to ${this.key} closed before a response (socket hang up)`));
    else sink.onError(new Http1Error(`connection to ${this.key} closed while reading body`));
  }

  private onData(d: Buffer): void {
    if (!this.sink || this.stopped) {
      // Bytes nobody asked for on an idle socket: the stream is out of step, never reuse it.
      if (!this.sink) this.destroy();
      return;
    }
    this.received = true;
    let data = d;
    if (this.pending) {
      data = Buffer.concat([this.pending, d]);
      this.pending = null;
    }
    let off = 0;
    while (off < data.length && this.sink && !this.stopped) {
      switch (this.state) {
        case State.Head:
          off = this.parseHead(data, off);
          break;
        case State.Fixed:
          off = this.frameBody(data, off);
          if (!this.stopped && this.remaining === 0) {
            // Bytes past the declared length: the server is out of step, so the socket is not reused.
            if (off < data.length) this.keepAlive = false;
            this.complete();
          }
          break;
        case State.UntilClose:
          this.body(off === 0 ? data : data.subarray(off));
          off = data.length;
          break;
        case State.ChunkSize:
          off = this.parseChunkSize(data, off);
          break;
        case State.ChunkData:
          off = this.frameBody(data, off);
          if (!this.stopped && this.remaining === 0) this.state = State.ChunkDataEnd;
          break;
        case State.ChunkDataEnd:
          off = this.parseChunkEnd(data, off);
          break;
        case State.Trailers:
          off = this.parseTrailers(data, off);
          break;
        case State.Done:
          // Bytes past the end of the response: the server is out of step.
          this.keepAlive = false;
          this.complete();
          return;
      }
    }
  }

  /** Hands over the current frame's next body bytes (up to `remaining`); returns the offset past them. */
  private frameBody(data: Buffer, off: number): number {
    const n = Math.min(this.remaining, data.length - off);
    this.remaining -= n;
    this.body(data.subarray(off, off + n));
    return off + n;
  }

  private body(chunk: Buffer): boolean {
    if (chunk.length === 0) return true;
    if (!this.sink?.onBody(chunk)) {
      this.stopped = true;
      this.destroy();
      return false;
    }
    return true;
  }

  /** Keeps an incomplete line for the next chunk, refusing it once it is longer than max. */
  private keep(data: Buffer, off: number, max: number, what: string): number {
    if (data.length - off > max) {
      const limit = what === 'trailer section' ? MAX_HEAD_BYTES : max;
      this.fail(`malformed HTTP response from ${this.key}: ${what} longer than ${limit} bytes`);
      return data.length;
    }
    this.pending = data.subarray(off);
    return data.length;
  }

  private parseHead(data: Buffer, off: number): number {
    const end = headEnd(data, off);
    if (end < 0) return this.keep(data, off, MAX_HEAD_BYTES, 'response head');
    if (end - off > MAX_HEAD_BYTES) {
      this.fail(`malformed HTTP response from ${this.key}: response head longer than ${MAX_HEAD_BYTES} bytes`);
      return data.length;
    }
    const lines = data.toString('latin1', off, end).split('\n');
    const next = data[end] === 0x0d ? end + 2 : end + 1;
    const m = /^HTTP\/1\.([01]) ([0-9]{3})(?: (.*))?$/.exec(trimCr(lines[0] ?? ''));
    if (!m) {
      this.fail(
        `malformed HTTP response from ${this.key}: invalid status line ${JSON.stringify(lines[0]?.slice(0, 64))}`,
      );
      return data.length;
    }
    const status = Number(m[2]);
    const headers = new Map<string, string>();
    for (let i = 1; i < lines.length; i++) {
      const line = trimCr(lines[i] ?? '');
      if (line === '') continue;
      const c = line.indexOf(':');
      if (c <= 0 || line.charCodeAt(0) === 0x20 || line.charCodeAt(0) === 0x09) {
        this.fail(`malformed HTTP response from ${this.key}: invalid header line ${JSON.stringify(line.slice(0, 64))}`);
        return data.length;
      }
      // A name is a token: `Content-Length : 4` is no Content-Length nor any header (node:http and Go refuse it).
      if (!HEADER_NAME.test(line.slice(0, c))) {
        this.fail(`malformed HTTP response from ${this.key}: invalid header line ${JSON.stringify(line.slice(0, 64))}`);
        return data.length;
      }
      const name = line.slice(0, c).toLowerCase();
      const value = line.slice(c + 1).trim();
      const prev = headers.get(name);
      if (prev === undefined) headers.set(name, value);
      else if (name === 'content-length' && prev !== value) {
        this.fail(`malformed HTTP response from ${this.key}: conflicting Content-Length headers`);
        return data.length;
      } else if (name === 'transfer-encoding' || name === 'connection') headers.set(name, `${prev}, ${value}`);
    }
    // 1xx answers precede the real one (100 Continue, 103 Early Hints).
    if (status >= 100 && status < 200) return next;
    const http10 = m[1] === '0';
    const conn = (headers.get('connection') ?? '').toLowerCase();
    this.keepAlive = http10 ? /\bkeep-alive\b/.test(conn) : !/\bclose\b/.test(conn);
    const te = headers.get('transfer-encoding');
    const cl = headers.get('content-length');
    if (te !== undefined && !http10) {
      if (!/(?:^|,)\s*chunked\s*$/i.test(te)) {
        this.fail(`malformed HTTP response from ${this.key}: unsupported Transfer-Encoding ${JSON.stringify(te)}`);
        return data.length;
      }
      this.state = State.ChunkSize;
      // Both framings at once: the body is read as chunked, but the connection is not trusted again (RFC 9112 6.3).
      if (cl !== undefined) this.keepAlive = false;
    } else if (status === 204 || status === 304) {
      this.state = State.Done;
    } else if (cl !== undefined) {
      if (!/^[0-9]{1,15}$/.test(cl)) {
        this.fail(
          `malformed HTTP response from ${this.key}: invalid Content-Length ${JSON.stringify(cl.slice(0, 32))}`,
        );
        return data.length;
      }
      this.remaining = Number(cl);
      this.state = this.remaining === 0 ? State.Done : State.Fixed;
    } else {
      this.keepAlive = false;
      this.state = State.UntilClose;
    }
    const sink = this.sink;
    if (!sink) return data.length;
    if (!sink.onHead({ status, statusText: m[3] ?? '', headers })) {
      this.stopped = true;
      this.destroy();
      return data.length;
    }
    if (this.state === State.Done) {
      if (next < data.length) this.keepAlive = false;
      this.complete();
      return data.length;
    }
    return next;
  }

  private parseChunkSize(data: Buffer, off: number): number {
    const nl = data.indexOf(0x0a, off);
    if (nl < 0) return this.keep(data, off, MAX_CHUNK_LINE, 'chunk-size line');
    if (nl - off > MAX_CHUNK_LINE) {
      this.fail(`malformed HTTP response from ${this.key}: chunk-size line longer than ${MAX_CHUNK_LINE} bytes`);
      return data.length;
    }
    const line = trimCr(data.toString('latin1', off, nl));
    const semi = line.indexOf(';');
    const hex = (semi < 0 ? line : line.slice(0, semi)).trim();
    if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length > MAX_CHUNK_HEX_DIGITS) {
      this.fail(`malformed HTTP response from ${this.key}: invalid chunk size ${JSON.stringify(hex.slice(0, 32))}`);
      return data.length;
    }
    const size = Number.parseInt(hex, 16);
    if (size === 0) {
      this.state = State.Trailers;
      this.remaining = 0;
    } else {
      this.remaining = size;
      this.state = State.ChunkData;
    }
    return nl + 1;
  }

  private parseChunkEnd(data: Buffer, off: number): number {
    const nl = data.indexOf(0x0a, off);
    if (nl < 0) return this.keep(data, off, 1, 'chunk terminator');
    if (nl - off > 1 || (nl - off === 1 && data[off] !== 0x0d)) {
      this.fail(`malformed HTTP response from ${this.key}: chunk data longer than its size`);
      return data.length;
    }
    this.state = State.ChunkSize;
    return nl + 1;
  }

  /** Trailer lines are read and dropped (Prometheus ignores them); `remaining` counts their bytes. */
  private parseTrailers(data: Buffer, off: number): number {
    for (;;) {
      const nl = data.indexOf(0x0a, off);
      if (nl < 0) return this.keep(data, off, MAX_HEAD_BYTES - this.remaining, 'trailer section');
      this.remaining += nl + 1 - off;
      if (this.remaining > MAX_HEAD_BYTES) {
        this.fail(`malformed HTTP response from ${this.key}: trailer section longer than ${MAX_HEAD_BYTES} bytes`);
        return data.length;
      }
      const empty = nl === off || (nl === off + 1 && data[off] === 0x0d);
      off = nl + 1;
      if (empty) {
        if (off < data.length) this.keepAlive = false;
        this.complete();
        return data.length;
      }
    }
  }

  private complete(): void {
    const sink = this.sink;
    this.state = State.Done;
    this.sink = null;
    // The exchange may still be inflating: its destroy() must not reach this socket once it is back in the pool.
    if (this.ex) this.ex.conn = null;
    this.ex = null;
    if (this.keepAlive && !this.isClosed) this.pool.release(this);
    else this.destroy();
    sink?.onEnd();
  }
}

/** Index of the blank line ending a response head (at its CR or LF), or -1. */
function headEnd(data: Buffer, off: number): number {
  let i = off;
  for (;;) {
    const nl = data.indexOf(0x0a, i);
    if (nl < 0 || nl + 1 >= data.length) return -1;
    const c = data[nl + 1];
    if (c === 0x0a) return nl + 1;
    if (c === 0x0d) {
      if (nl + 2 >= data.length) return -1;
      if (data[nl + 2] === 0x0a) return nl + 1;
    }
    i = nl + 1;
  }
}

function trimCr(s: string): string {
  return s.endsWith('\r') ? s.slice(0, -1) : s;
}

export interface Http1PoolOptions {
  /**
   * Idle sockets kept per host:port; more are closed when released. Prometheus' transport keeps up to
   * 1000 (MaxIdleConnsPerHost) and does not limit open connections per host; neither does this pool.
   */
  maxIdlePerHost?: number | undefined;
  /** An idle socket is closed after this long (Prometheus' transport: 5 minutes). */
  idleMs?: number | undefined;
}

/** Kept-alive sockets of one scrape pool, per host:port. */
export class Http1Pool {
  private readonly idle = new Map<string, Conn[]>();
  private readonly active = new Set<Conn>();
  private readonly maxIdle: number;
  private readonly idleMs: number;
  private sweeper: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(opts: Http1PoolOptions = {}) {
    this.maxIdle = opts.maxIdlePerHost ?? 1000;
    this.idleMs = opts.idleMs ?? 5 * 60_000;
  }

  /**
   * Sends `head` (a whole GET request head, see requestHead) to host:port and feeds the response to
   * sink. The caller destroys the returned exchange on timeout.
   */
  request(host: string, port: number, head: Buffer, sink: Http1Sink): Http1Exchange {
    if (this.closed) throw new Http1Error('the scrape pool is closed');
    const key = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    const ex = new Http1Exchange(head, sink);
    const conn = this.takeIdle(key) ?? this.connect(key, host, port);
    this.active.add(conn);
    conn.start(ex);
    return ex;
  }

  /** A reused socket the server closed before answering (its idle timeout raced our request): again on a new one. */
  retry(key: string, ex: Http1Exchange): boolean {
    if (this.closed) return false;
    const [host, port] = splitKey(key);
    const fresh = this.connect(key, host, port);
    this.active.add(fresh);
    fresh.start(ex);
    return true;
  }

  private connect(key: string, host: string, port: number): Conn {
    return new Conn(this, key, net.connect({ host, port }));
  }

  private takeIdle(key: string): Conn | undefined {
    const list = this.idle.get(key);
    if (!list) return undefined;
    const now = Date.now();
    for (let c = list.pop(); c; c = list.pop()) {
      if (c.isClosed) continue;
      if (now - c.idleSince > this.idleMs) {
        c.destroy();
        continue;
      }
      c.reused = true;
      c.socket.ref();
      return c;
    }
    return undefined;
  }

  release(c: Conn): void {
    this.active.delete(c);
    if (this.closed) {
      c.destroy();
      return;
    }
    let list = this.idle.get(c.key);
    if (!list) {
      list = [];
      this.idle.set(c.key, list);
    }
    if (list.length >= this.maxIdle) {
      c.destroy();
      return;
    }
    c.idleSince = Date.now();
    // Like node:http's agent: an idle kept-alive socket does not keep the process alive.
    c.socket.unref();
    list.push(c);
    this.sweeper ??= setInterval(() => this.sweep(), this.idleMs).unref();
  }

  forget(c: Conn): void {
    this.active.delete(c);
    const list = this.idle.get(c.key);
    if (!list) return;
    const i = list.indexOf(c);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.idle.delete(c.key);
  }

  private sweep(): void {
    const now = Date.now();
    for (const list of [...this.idle.values()])
      for (const c of [...list]) if (now - c.idleSince > this.idleMs) c.destroy();
    if (this.idle.size === 0 && this.sweeper) {
      clearInterval(this.sweeper);
      this.sweeper = null;
    }
  }

  /** Idle sockets open now (for tests and the status page). */
  idleCount(): number {
    let n = 0;
    for (const list of this.idle.values()) n += list.length;
    return n;
  }

  /** Closes every socket; requests after this fail. */
  close(): void {
    this.closed = true;
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
    for (const list of [...this.idle.values()]) for (const c of [...list]) c.destroy();
    for (const c of [...this.active]) c.abort(`the scrape pool for ${c.key} is closed`);
    this.idle.clear();
  }
}

function splitKey(key: string): [string, number] {
  const i = key.lastIndexOf(':');
  const host = key.slice(0, i);
  return [host.startsWith('[') ? host.slice(1, -1) : host, Number(key.slice(i + 1))];
}

/**
 * The GET request head node:http sends for these headers through a keep-alive agent: the given
 * headers in order, then Host (without the default port) and Connection: keep-alive.
 */
export function requestHead(url: URL, headers: Readonly<Record<string, string>>): Buffer {
  let s = `GET ${url.pathname}${url.search} HTTP/1.1\r\n`;
  let host = false;
  for (const [k, v] of Object.entries(headers)) {
    // node:http's checks: a token for the name, no control characters but tab (and nothing past latin1) in the value.
    if (!HEADER_NAME.test(k)) throw new Http1Error(`invalid header name ${JSON.stringify(k)}`);
    if (/[^\t\x20-\x7e\x80-\xff]/.test(v)) throw new Http1Error(`invalid character in header content ["${k}"]`);
    if (k.toLowerCase() === 'host') host = true;
    s += `${k}: ${v}\r\n`;
  }
  if (!host) s += `Host: ${url.host}\r\n`;
  s += 'Connection: keep-alive\r\n\r\n';
  return Buffer.from(s, 'latin1');
}
