import test from 'ava';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { memoryLogger } from '../../src/log/logger.ts';
import { BufferPool } from '../../src/scrape/buffer-pool.ts';
import { AuthSource, tlsOptions } from '../../src/scrape/http-client.ts';
import { ScrapeLoop, type LoopOptions } from '../../src/scrape/loop.ts';
import { FakeClock } from '../../src/util/clock.ts';
import { RecordingAppender } from '../helpers/recording-appender.ts';
import { tmpDir } from '../helpers/procs.ts';

const T = 1_700_000_000_000;

async function selfSigned(dir: string): Promise<{ cert: string; key: string } | null> {
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=outpost-test', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:outpost-test'], { stdio: 'ignore' });
    return { cert, key };
  } catch {
    return null;
  }
}

function loopOpts(o: Partial<LoopOptions>): LoopOptions {
  return {
    honorLabels: false, honorTimestamps: true, trackTimestampsStaleness: false, metricRelabel: [],
    sampleLimit: 0, labelLimit: 0, labelNameLengthLimit: 0, labelValueLengthLimit: 0, bodySizeLimit: 0,
    headers: {}, agent: new https.Agent({ keepAlive: false }),
    auth: new AuthSource({ tlsConfig: { insecureSkipVerify: false }, followRedirects: true, enableHttp2: false, proxyFromEnvironment: false }),
    followRedirects: true, buffers: new BufferPool(), nameValidation: 'legacy',
    ...o,
  };
}

async function scrapeOnce(url: string, o: Partial<LoopOptions>): Promise<{ app: RecordingAppender; loop: ScrapeLoop }> {
  const app = new RecordingAppender();
  const loop = new ScrapeLoop({ pool: 'p', url, labels: ['instance', 'x', 'job', 'p'], discovered: [], intervalMs: 1000, timeoutMs: 2000 }, loopOpts(o), app, new FakeClock(), memoryLogger(), { scrapes: 0, failed: 0, duplicates: 0, outOfOrder: 0, outOfBounds: 0, sampleLimitHit: 0, bodyLimitHit: 0 });
  await loop.scrape(T);
  return { app, loop };
}

test('https targets: verified against the configured CA, rejected without it, reachable through a CONNECT proxy', async (t) => {
  const dir = await tmpDir();
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  const pem = await selfSigned(dir);
  if (!pem) {
    t.log('openssl not available: skipped');
    t.pass();
    return;
  }
  const srv = https.createServer({ cert: await fs.readFile(pem.cert), key: await fs.readFile(pem.key) }, (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end('tls_metric 1\n');
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const url = `https://127.0.0.1:${(srv.address() as AddressInfo).port}/metrics`;
  // A minimal forward proxy that only tunnels (CONNECT).
  let connects = 0;
  const proxy = http.createServer((_req, res) => {
    res.writeHead(405);
    res.end();
  });
  proxy.on('connect', (req, client, head) => {
    connects++;
    const [host, port] = (req.url ?? '').split(':');
    const upstream = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    srv.close();
    proxy.close();
  });

  const trusted = tlsOptions({ caFile: pem.cert, insecureSkipVerify: false });
  const ok = await scrapeOnce(url, { tls: trusted, agent: new https.Agent({ keepAlive: false, ...trusted }) });
  t.is(ok.app.named('tls_metric').length, 1, ok.loop.state.lastError);

  const untrusted = await scrapeOnce(url, {});
  t.is(untrusted.app.named('tls_metric').length, 0);
  t.regex(untrusted.loop.state.lastError, /certificate/i);

  const skip = tlsOptions({ insecureSkipVerify: true });
  const insecure = await scrapeOnce(url, { tls: skip, agent: new https.Agent({ keepAlive: false, ...skip }) });
  t.is(insecure.app.named('tls_metric').length, 1, 'insecure_skip_verify accepts the self-signed cert');

  const viaProxy = await scrapeOnce(url, { tls: trusted, proxy: new URL(`http://127.0.0.1:${(proxy.address() as AddressInfo).port}`) });
  t.is(viaProxy.app.named('tls_metric').length, 1, viaProxy.loop.state.lastError);
  t.is(connects, 1, 'the scrape went through the proxy');
});

test('http targets through proxy_url use absolute-URI requests', async (t) => {
  let seen = '';
  const proxy = http.createServer((req, res) => {
    seen = req.url ?? '';
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end('proxied_metric 1\n');
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  t.teardown(() => proxy.close());
  const { app, loop } = await scrapeOnce('http://127.0.0.1:9/metrics', { agent: new http.Agent(), proxy: new URL(`http://127.0.0.1:${(proxy.address() as AddressInfo).port}`) });
  t.is(app.named('proxied_metric').length, 1, loop.state.lastError);
  t.is(seen, 'http://127.0.0.1:9/metrics');
});
