import test from 'ava';
import http from 'node:http';
import https from 'node:https';
import type { LoopOptions } from '../../src/scrape/loop.ts';
import { tlsOptions } from '../../src/net/tls.ts';
import { reply, startProxy, startServer } from '../helpers/http.ts';
import { RecordingAppender } from '../helpers/recording-appender.ts';
import { newLoop } from '../helpers/scrape-loop.ts';
import { tempCert } from '../helpers/tls.ts';

const T = 1_700_000_000_000;
const TEXT = { 'Content-Type': 'text/plain' };

async function scrapeOnce(url: string, options: Partial<LoopOptions>) {
  const app = new RecordingAppender();
  const loop = newLoop(url, { options: { headers: {}, ...options }, appender: app, target: { timeoutMs: 2000 } });
  await loop.scrape(T);
  return { app, loop };
}

test('https targets: verified against the configured CA, rejected without it, reachable through a CONNECT proxy', async (t) => {
  const pem = await tempCert(t);
  const srv = await startServer(reply(200, 'tls_metric 1\n', TEXT), { tls: pem, t });
  const url = `${srv.url}/metrics`;
  const proxy = await startProxy({ t });

  const trusted = tlsOptions({ caFile: pem.certFile, insecureSkipVerify: false });
  const ok = await scrapeOnce(url, { tls: trusted, agent: new https.Agent({ keepAlive: false, ...trusted }) });
  t.is(ok.app.named('tls_metric').length, 1, ok.loop.state.lastError);

  const untrusted = await scrapeOnce(url, { agent: new https.Agent({ keepAlive: false }) });
  t.is(untrusted.app.named('tls_metric').length, 0);
  t.regex(untrusted.loop.state.lastError, /certificate/i);

  const skip = tlsOptions({ insecureSkipVerify: true });
  const insecure = await scrapeOnce(url, { tls: skip, agent: new https.Agent({ keepAlive: false, ...skip }) });
  t.is(insecure.app.named('tls_metric').length, 1, 'insecure_skip_verify accepts the self-signed cert');

  const viaProxy = await scrapeOnce(url, {
    tls: trusted,
    agent: new https.Agent({ keepAlive: false }),
    proxy: new URL(proxy.url),
  });
  t.is(viaProxy.app.named('tls_metric').length, 1, viaProxy.loop.state.lastError);
  t.deepEqual(
    proxy.connects.map((c) => c.authority),
    [`127.0.0.1:${srv.port}`],
    'the scrape went through the proxy',
  );
  t.is(proxy.forwarded.length, 0);
});

test('http targets through proxy_url use absolute-URI requests', async (t) => {
  const target = await startServer(reply(200, 'proxied_metric 1\n', TEXT), { t });
  const proxy = await startProxy({ t });
  const url = `${target.url}/metrics`;
  const { app, loop } = await scrapeOnce(url, { agent: new http.Agent(), proxy: new URL(proxy.url) });
  t.is(app.named('proxied_metric').length, 1, loop.state.lastError);
  t.deepEqual(
    proxy.forwarded.map((f) => f.url),
    [url],
  );
  t.is(target.received.length, 1);
});
