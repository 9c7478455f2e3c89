import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Teardown } from './procs.ts';

export interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
}

export interface TestServer {
  url: string;
  port: number;
  /** Requests in arrival order (body fully read). */
  received: Received[];
  /** TCP connections accepted. */
  connections(): number;
  close(): Promise<void>;
}

export type Handler = (req: Received, res: http.ServerResponse) => void;

export interface ServerOptions {
  /** Serve HTTPS with this certificate (a `Cert` from tls.ts fits). */
  tls?: { cert: Buffer; key: Buffer } | undefined;
  /** Close the server when this test ends. */
  t?: Teardown;
}

/** A handler answering every request with `status`, `body` and `headers`. */
export function reply(status: number, body = '', headers?: http.OutgoingHttpHeaders): Handler {
  return (_req, res) => {
    res.writeHead(status, headers);
    res.end(body);
  };
}

function listen(srv: http.Server): Promise<number> {
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve((srv.address() as AddressInfo).port)));
}

/** A loopback HTTP(S) server that reads each body and hands it to `handler`. */
export async function startServer(handler: Handler, o: ServerOptions = {}): Promise<TestServer> {
  const received: Received[] = [];
  let conns = 0;
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body: Buffer.concat(chunks),
      };
      received.push(r);
      handler(r, res);
    });
  };
  const srv = o.tls ? https.createServer(o.tls, onRequest) : http.createServer(onRequest);
  srv.on(o.tls ? 'secureConnection' : 'connection', () => conns++);
  const port = await listen(srv);
  const server: TestServer = {
    url: `${o.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    received,
    connections: () => conns,
    close: () =>
      new Promise<void>((r) => {
        srv.closeAllConnections();
        srv.close(() => r());
      }),
  };
  o.t?.teardown(() => server.close());
  return server;
}

export interface TestProxy {
  url: string;
  /** Absolute-URI requests seen (refused ones included). */
  forwarded: { url: string; headers: http.IncomingHttpHeaders }[];
  /** CONNECT requests seen (refused ones included). */
  connects: { authority: string; headers: http.IncomingHttpHeaders }[];
  close(): Promise<void>;
}

export interface ProxyOptions {
  /** Answer every CONNECT with this status instead of tunnelling. */
  refuseConnect?: number;
  /** `user:password` the proxy demands as Basic Proxy-Authorization; requests without it get 407. */
  credentials?: string;
  /** Close the proxy when this test ends. */
  t?: Teardown;
}

const PROXY_AUTH_REQUIRED =
  'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n';

/**
 * A minimal forward proxy on loopback: forwards absolute-URI requests (without the proxy's own
 * credentials) and tunnels CONNECT, recording both.
 */
export async function startProxy(o: ProxyOptions = {}): Promise<TestProxy> {
  const forwarded: TestProxy['forwarded'] = [];
  const connects: TestProxy['connects'] = [];
  const sockets = new Set<net.Socket>();
  const wanted = o.credentials === undefined ? undefined : 'Basic ' + Buffer.from(o.credentials).toString('base64');
  const authorized = (h: http.IncomingHttpHeaders): boolean =>
    wanted === undefined || h['proxy-authorization'] === wanted;
  const srv = http.createServer((req, res) => {
    forwarded.push({ url: req.url ?? '', headers: req.headers });
    if (!authorized(req.headers)) {
      res.writeHead(407, { 'Proxy-Authenticate': 'Basic realm="test"' });
      res.end();
      return;
    }
    const target = new URL(req.url ?? '');
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    const up = http.request(
      { host: target.hostname, port: target.port, path: target.pathname + target.search, method: req.method, headers },
      (ur) => {
        res.writeHead(ur.statusCode ?? 502, ur.headers);
        ur.pipe(res);
      },
    );
    up.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(up);
  });
  srv.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  srv.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    connects.push({ authority: req.url ?? '', headers: req.headers });
    if (!authorized(req.headers)) {
      client.end(PROXY_AUTH_REQUIRED);
      return;
    }
    if (o.refuseConnect) {
      client.end(`HTTP/1.1 ${o.refuseConnect} Refused\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    const [host, port] = (req.url ?? '').split(':');
    const upstream = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  const port = await listen(srv);
  const proxy: TestProxy = {
    url: `http://127.0.0.1:${port}`,
    forwarded,
    connects,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  };
  o.t?.teardown(() => proxy.close());
  return proxy;
}
