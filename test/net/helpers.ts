import { execFileSync } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import fs from 'node:fs/promises';
import { parseConfig } from '../../src/config/load.ts';
import type { RemoteWriteConfig } from '../../src/config/types.ts';

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

/** A loopback HTTP(S) server that reads each body and hands it to `handler`. */
export async function startServer(handler: Handler, tlsOpts?: { cert: Buffer; key: Buffer }): Promise<TestServer> {
  const received: Received[] = [];
  let conns = 0;
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders, body: Buffer.concat(chunks) };
      received.push(r);
      handler(r, res);
    });
  };
  const srv = tlsOpts ? https.createServer(tlsOpts, onRequest) : http.createServer(onRequest);
  srv.on(tlsOpts ? 'secureConnection' : 'connection', () => conns++);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  return {
    url: `${tlsOpts ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    received,
    connections: () => conns,
    close: () => new Promise<void>((r) => {
      srv.closeAllConnections();
      srv.close(() => r());
    }),
  };
}

export interface TestProxy {
  url: string;
  /** Absolute-URI requests seen (method, url, headers). */
  forwarded: { url: string; headers: http.IncomingHttpHeaders }[];
  /** CONNECT requests seen. */
  connects: { authority: string; headers: http.IncomingHttpHeaders }[];
  close(): Promise<void>;
}

/**
 * A minimal forward proxy on loopback: forwards absolute-URI requests, tunnels CONNECT (or refuses
 * it with `refuseConnect`).
 */
export async function startProxy(opts: { refuseConnect?: number } = {}): Promise<TestProxy> {
  const forwarded: TestProxy['forwarded'] = [];
  const connects: TestProxy['connects'] = [];
  const sockets = new Set<net.Socket>();
  const srv = http.createServer((req, res) => {
    forwarded.push({ url: req.url ?? '', headers: req.headers });
    const target = new URL(req.url ?? '');
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    const up = http.request({ host: target.hostname, port: target.port, path: target.pathname + target.search, method: req.method, headers }, (ur) => {
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      ur.pipe(res);
    });
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
    if (opts.refuseConnect) {
      client.end(`HTTP/1.1 ${opts.refuseConnect} Refused\r\nContent-Length: 0\r\n\r\n`);
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
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`,
    forwarded,
    connects,
    close: () => new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      srv.close(() => r());
    }),
  };
}

/** A self-signed certificate for 127.0.0.1 (null when openssl is missing). */
export async function selfSigned(dir: string): Promise<{ certFile: string; keyFile: string; cert: Buffer; key: Buffer } | null> {
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=outpost-test', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:outpost-test'], { stdio: 'ignore' });
  } catch {
    return null;
  }
  return { certFile, keyFile, cert: await fs.readFile(certFile), key: await fs.readFile(keyFile) };
}

/** The first remote_write entry of a config made of `entry` (YAML lines of one remote_write item, indented by 4). */
export function rwConfig(entry: string): RemoteWriteConfig {
  return parseConfig(`remote_write:\n  - ${entry.trimStart()}\n`, 'test.yml').remoteWrite[0];
}
