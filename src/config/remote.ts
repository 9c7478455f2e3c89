/**
 * remote_write entries: DefaultRemoteWriteConfig / DefaultQueueConfig / DefaultMetadataConfig of
 * Prometheus head, reserved-header and auth-exclusivity checks, and the queue sanity checks
 * Prometheus leaves to run time (Outpost refuses them up front).
 */
import { HTTP_CLIENT_KEYS, readHttpClientConfig, readUrlString } from './http.ts';
import type { Mutable } from './http.ts';
import {
  fieldAt,
  joinPath,
  keyError,
  readBool,
  readDuration,
  readInt,
  readMap,
  readString,
  readStringMap,
} from './reader.ts';
import type { Ctx, Field, MapView } from './reader.ts';
import type { Node } from 'yaml';
import { readRelabelConfigs } from './relabel.ts';
import type { MetadataConfig, QueueConfig, RemoteWriteConfig, RemoteWriteProtobufMessage } from './types.ts';
import type { NameValidationScheme } from './types.ts';

/** Head defaults; 2.42 used capacity 2500, max_shards 200, max_samples_per_send 500 (changed in 2.44). */
const DEFAULT_QUEUE_CONFIG: QueueConfig = Object.freeze({
  capacity: 10000,
  maxShards: 50,
  minShards: 1,
  maxSamplesPerSend: 2000,
  batchSendDeadline: 5000,
  minBackoff: 30,
  maxBackoff: 5000,
  retryOnHttp429: false,
  sampleAgeLimit: 0,
});

/** Head defaults; 2.42 sent at most 500 metadata entries per request. */
const DEFAULT_METADATA_CONFIG: MetadataConfig = Object.freeze({
  send: true,
  sendInterval: 60_000,
  maxSamplesPerSend: 2000,
});

const DEFAULT_REMOTE_TIMEOUT = 30_000;

const PROTOBUF_MESSAGES: readonly RemoteWriteProtobufMessage[] = [
  'prometheus.WriteRequest',
  'io.prometheus.write.v2.Request',
];

/** Headers a user may not set (Prometheus' reservedHeaders); `authorization` has its own message. */
const RESERVED_HEADERS = new Set([
  'host',
  'content-encoding',
  'content-length',
  'content-type',
  'user-agent',
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'www-authenticate',
  'accept-encoding',
  'x-prometheus-remote-write-version',
  'x-prometheus-remote-read-version',
  'x-amz-date',
  'x-amz-security-token',
  'x-amz-content-sha256',
]);

const UNSUPPORTED_AUTH = ['sigv4', 'azuread', 'google_iam'];

const REMOTE_WRITE_KEYS = [
  'url',
  'remote_timeout',
  'headers',
  'write_relabel_configs',
  'name',
  'send_exemplars',
  'send_native_histograms',
  'round_robin_dns',
  'protobuf_message',
  'queue_config',
  'metadata_config',
  ...UNSUPPORTED_AUTH,
  ...HTTP_CLIENT_KEYS,
];
const QUEUE_KEYS = [
  'capacity',
  'max_shards',
  'min_shards',
  'max_samples_per_send',
  'batch_send_deadline',
  'min_backoff',
  'max_backoff',
  'retry_on_http_429',
  'sample_age_limit',
];
const METADATA_KEYS = ['send', 'send_interval', 'max_samples_per_send'];

function readQueueConfig(ctx: Ctx, f: Field | undefined, p: string): QueueConfig {
  const q: Mutable<QueueConfig> = { ...DEFAULT_QUEUE_CONFIG };
  if (!f) return q;
  const m = readMap(ctx, f, { known: QUEUE_KEYS });
  if (!m) return q;
  const int = (k: string, d: number): number => readInt(ctx, m.get(k), { min: Number.MIN_SAFE_INTEGER }) ?? d;
  const dur = (k: string, d: number): number => readDuration(ctx, m.get(k)) ?? d;
  q.capacity = int('capacity', q.capacity);
  q.maxShards = int('max_shards', q.maxShards);
  q.minShards = int('min_shards', q.minShards);
  q.maxSamplesPerSend = int('max_samples_per_send', q.maxSamplesPerSend);
  q.batchSendDeadline = dur('batch_send_deadline', q.batchSendDeadline);
  q.minBackoff = dur('min_backoff', q.minBackoff);
  q.maxBackoff = dur('max_backoff', q.maxBackoff);
  q.retryOnHttp429 = readBool(ctx, m.get('retry_on_http_429')) ?? false;
  q.sampleAgeLimit = dur('sample_age_limit', 0);

  const bad = (k: string, msg: string): void => ctx.error(fieldAt(m, k), joinPath(p, k), msg);
  if (q.capacity <= 0) bad('capacity', `capacity must be greater than 0, got ${q.capacity}`);
  if (q.maxShards <= 0) bad('max_shards', `max_shards must be greater than 0, got ${q.maxShards}`);
  if (q.minShards <= 0) bad('min_shards', `min_shards must be greater than 0, got ${q.minShards}`);
  else if (q.maxShards > 0 && q.minShards > q.maxShards) {
    bad('min_shards', `min_shards (${q.minShards}) must not be greater than max_shards (${q.maxShards})`);
  }
  if (q.maxSamplesPerSend <= 0)
    bad('max_samples_per_send', `max_samples_per_send must be greater than 0, got ${q.maxSamplesPerSend}`);
  if (q.batchSendDeadline <= 0 && m.has('batch_send_deadline'))
    bad('batch_send_deadline', 'batch_send_deadline must be greater than 0');
  if (q.maxBackoff < q.minBackoff) bad('max_backoff', 'max_backoff must be greater than or equal to min_backoff');
  return q;
}

function readMetadataConfig(ctx: Ctx, f: Field | undefined, p: string): MetadataConfig {
  const md: Mutable<MetadataConfig> = { ...DEFAULT_METADATA_CONFIG };
  if (!f) return md;
  const m = readMap(ctx, f, { known: METADATA_KEYS });
  if (!m) return md;
  md.send = readBool(ctx, m.get('send')) ?? md.send;
  md.sendInterval = readDuration(ctx, m.get('send_interval')) ?? md.sendInterval;
  md.maxSamplesPerSend =
    readInt(ctx, m.get('max_samples_per_send'), { min: Number.MIN_SAFE_INTEGER }) ?? md.maxSamplesPerSend;
  if (md.send && md.sendInterval <= 0) {
    ctx.error(
      fieldAt(m, 'send_interval'),
      joinPath(p, 'send_interval'),
      'send_interval must be greater than 0 when metadata is sent',
    );
  }
  if (md.maxSamplesPerSend <= 0) {
    ctx.error(
      fieldAt(m, 'max_samples_per_send'),
      joinPath(p, 'max_samples_per_send'),
      `max_samples_per_send must be greater than 0, got ${md.maxSamplesPerSend}`,
    );
  }
  return md;
}

function readHeaders(ctx: Ctx, m: MapView): Record<string, string> {
  const out: Record<string, string> = {};
  const hm = readStringMap(ctx, m.get('headers'));
  if (!hm) return out;
  for (const [name, { value, field, keyNode }] of hm) {
    const lower = name.toLowerCase();
    if (lower === 'authorization') {
      ctx.error(
        keyNode,
        field.path,
        'authorization header must be changed via the basic_auth, authorization, oauth2, sigv4, azuread ' +
          'or google_iam parameter',
      );
    } else if (RESERVED_HEADERS.has(lower)) {
      ctx.error(keyNode, field.path, `${name} is a reserved header. It must not be changed`);
    } else {
      out[name] = value;
    }
  }
  return out;
}

/** Name and hash are filled in by the loader once the whole entry is known. */
export type ParsedRemoteWrite = Omit<Mutable<RemoteWriteConfig>, 'name' | 'hash'> & { name: string };

export function readRemoteWrite(
  ctx: Ctx,
  f: Field,
  nameValidation: NameValidationScheme,
): { rw: ParsedRemoteWrite; nameAt: Node | null } | undefined {
  const m = readMap(ctx, f, { known: REMOTE_WRITE_KEYS });
  if (!m) return undefined;
  const before = ctx.issues.length;
  for (const k of UNSUPPORTED_AUTH) {
    if (m.has(k)) ctx.error(m.keyNode(k), joinPath(f.path, k), `${k} is not supported by Outpost`);
  }

  const uf = m.get('url');
  const rawUrl = readString(ctx, uf);
  let url: string | undefined;
  if (rawUrl === undefined || rawUrl === '') keyError(ctx, m, 'url', 'url for remote_write is empty');
  else url = readUrlString(ctx, uf, 'remote_write');

  const headers = readHeaders(ctx, m);
  const pmf = m.get('protobuf_message');
  const pm = readString(ctx, pmf) ?? 'prometheus.WriteRequest';
  if (!(PROTOBUF_MESSAGES as readonly string[]).includes(pm)) {
    ctx.error(
      pmf?.at,
      joinPath(f.path, 'protobuf_message'),
      `invalid protobuf_message value: unknown type for remote write protobuf message ${pm}, ` +
        `supported: ${PROTOBUF_MESSAGES.join(', ')}`,
    );
  }

  // Auth exclusivity (basic_auth / authorization / oauth2 / bearer_token) is HTTPClientConfig's
  // rule; the other remote-write auth methods (sigv4, azuread, google_iam) are refused above.
  const http = readHttpClientConfig(ctx, m, { enableHttp2: false });

  const rw: ParsedRemoteWrite = {
    ...http,
    url: url ?? '',
    name: readString(ctx, m.get('name')) ?? '',
    nameExplicit: false,
    remoteTimeout: readDuration(ctx, m.get('remote_timeout')) ?? DEFAULT_REMOTE_TIMEOUT,
    headers,
    writeRelabelConfigs: readRelabelConfigs(
      ctx,
      m.get('write_relabel_configs'),
      'empty or null relabeling rule in remote write config',
      // RemoteWriteConfig.Validate checks write relabeling under the global scheme (3.x config.go).
      nameValidation,
    ),
    sendExemplars: readBool(ctx, m.get('send_exemplars')) ?? false,
    sendNativeHistograms: readBool(ctx, m.get('send_native_histograms')) ?? false,
    roundRobinDns: readBool(ctx, m.get('round_robin_dns')) ?? false,
    protobufMessage: pm as RemoteWriteProtobufMessage,
    queueConfig: readQueueConfig(ctx, m.get('queue_config'), joinPath(f.path, 'queue_config')),
    metadataConfig: readMetadataConfig(ctx, m.get('metadata_config'), joinPath(f.path, 'metadata_config')),
  };
  rw.nameExplicit = rw.name !== '';
  return ctx.issues.length > before ? undefined : { rw, nameAt: fieldAt(m, 'name') };
}
