/**
 * The catalogue of every error Outpost raises on purpose, in undici's manner: each stable code names
 * the class that carries it and what the user should do about it. The classes live beside the code
 * that throws them (they carry fields of their own: file and line, segment and offset, ...), but
 * they can only be built with a code from this list, and test/util/errors.test.ts checks that each
 * code belongs to exactly the class named here.
 *
 * Codes are `OUTPOST_` plus the area and what went wrong, in capitals. They are part of the
 * interface: callers and tests branch on them, never on message text. Do not rename one.
 */
export const ERROR_CATALOGUE = {
  OUTPOST_START_FAILED: {
    class: 'StartError',
    action:
      'The message names the step that failed (storage, web listener, lock): ' +
      'fix the path, permission or address it names and start again.',
  },
  OUTPOST_FLAG_INVALID: {
    class: 'FlagError',
    action: 'Fix the command-line flag named in the message; `outpost --help` lists every flag and its format.',
  },
  OUTPOST_FLAG_SERVER_ONLY: {
    class: 'AgentModeFlagError',
    action:
      'Drop the flags named: they belong to the Prometheus server (TSDB, queries, rules, alerting), which an ' +
      'agent does not run. Outpost exits 3 for them, as a Prometheus 3 agent does.',
  },
  OUTPOST_CONFIG_INVALID: {
    class: 'ConfigError',
    action:
      'Fix each field at the file:line named; `outpost check-config FILE` checks a file without starting. ' +
      'A failed reload keeps the running configuration.',
  },
  OUTPOST_CONFIG_CHECKSUM_FAILED: {
    class: 'ConfigChecksumError',
    action:
      'Make the config file (and the rule_files / scrape_config_files it names) readable YAML; ' +
      '--config.auto-reload retries at every interval meanwhile.',
  },
  OUTPOST_DURATION_INVALID: {
    class: 'DurationError',
    action:
      'Write a Prometheus duration: whole numbers with units ms, s, m, h, d, w or y, largest first, e.g. ' +
      '30s or 1h30m.',
  },
  OUTPOST_BYTE_SIZE_INVALID: {
    class: 'ByteSizeError',
    action: 'Write a Prometheus byte size: a number with B, KB, MB, GB, TB, PB or EB (powers of 1024), e.g. 512MB.',
  },
  OUTPOST_RELABEL_CONFIG_INVALID: {
    class: 'RelabelConfigError',
    action:
      'Fix the field of the relabel rule at the index named; each action requires its own fields, as in ' +
      'Prometheus.',
  },
  OUTPOST_RELABEL_REGEX_INVALID: {
    class: 'RegexTranslationError',
    action: 'Use RE2 syntax, as Prometheus does: no backreferences and no lookaround.',
  },
  OUTPOST_BAD_PATTERN: {
    class: 'GlobPatternError',
    action: "Fix the file_sd `files` pattern: `*`, `?` and `[...]` as in Go's filepath.Glob, with every `[` closed.",
  },
  OUTPOST_WEB_OPTIONS_INVALID: {
    class: 'WebOptionsError',
    action: 'Fix the --web.* flag named in the message.',
  },
  OUTPOST_WEB_CONFIG_INVALID: {
    class: 'WebConfigError',
    action:
      'Fix the file given to --web.config.file (Prometheus exporter-toolkit format: tls_server_config, ' +
      'basic_auth_users with bcrypt hashes, http_server_config).',
  },
  OUTPOST_SELECTOR_INVALID: {
    class: 'SelectorError',
    action: 'Fix the series selector of the API request, e.g. {job="node",instance=~"host.*"}.',
  },
  OUTPOST_SD_FAILED: {
    class: 'DiscoveryError',
    action:
      'Make the discovery source reachable and valid (file, URL or DNS name in the message); its last good ' +
      'targets are kept meanwhile.',
  },
  OUTPOST_KUBE_API: {
    class: 'KubeApiError',
    action:
      'The Kubernetes API server refused a list or watch (status and reason in the message): give the service ' +
      'account list and watch on the resource (403), fix the credentials (401) or the selector (400); ' +
      'discovery retries with backoff and keeps its last targets meanwhile.',
  },
  OUTPOST_SCRAPE_FAILED: {
    class: 'ScrapeError',
    action:
      'Check that the target answers on the scrape URL within scrape_timeout, and body_size_limit when the ' +
      'body was too large; the target shows up=0 until it does.',
  },
  OUTPOST_TEXTPARSE_INVALID: {
    class: 'ParseError',
    action:
      'Fix the exporter: its exposition is invalid at the line named. The whole scrape is dropped, as in ' +
      'Prometheus.',
  },
  OUTPOST_PARSER_NOT_LOADED: {
    class: 'ParserNotLoadedError',
    action: 'None: a bug in Outpost (a parser was used before loadParser() loaded its code). Please report it.',
  },
  OUTPOST_PROXY: {
    class: 'ProxyError',
    action: 'Check proxy_url / proxy_from_environment and that the proxy accepts CONNECT to the target.',
  },
  OUTPOST_OAUTH2: {
    class: 'OAuth2Error',
    action:
      'Check the oauth2 token_url, client_id and client secret (or its file); requests fail until a token ' + 'is had.',
  },
  OUTPOST_SERIES_INVALID: {
    class: 'InvalidSeriesError',
    action:
      'A series needs labels with unique names; relabeling produced one without: fix the relabel rules of ' +
      'the job.',
  },
  OUTPOST_HISTOGRAM_INVALID: {
    class: 'InvalidHistogramError',
    action:
      'Fix the exporter: a native histogram it exposes is inconsistent (spans and buckets, counts, schema or ' +
      'custom bounds, as the message says). The whole scrape is dropped, as in Prometheus.',
  },
  OUTPOST_STORAGE_CLOSED: {
    class: 'StorageClosedError',
    action: 'None: a bug in Outpost (the storage was used before open() or after close()). Please report it.',
  },
  OUTPOST_LOCKED: {
    class: 'LockError',
    action:
      'Another Outpost uses this data directory: stop it, or give this one its own --storage.agent.path. A ' +
      'lock left by a killed process is taken over.',
  },
  OUTPOST_WAL_WRITE: {
    class: 'WalWriteError',
    action:
      'Free disk space or fix permissions of the WAL directory; samples are dropped (and counted) until a ' +
      'new segment can be written, retried every 5 s.',
  },
  OUTPOST_WAL_CORRUPTION: {
    class: 'CorruptionError',
    action:
      'None at start: the WAL is cut at the last good record and everything before it is kept. If it ' +
      'recurs, check the disk.',
  },
  OUTPOST_WAL_INVALID_RECORD: {
    class: 'InvalidRecordError',
    action: 'As for OUTPOST_WAL_CORRUPTION: a record does not follow its layout, so the WAL is cut before it.',
  },
  OUTPOST_WAL_SEGMENTS: {
    class: 'SegmentsError',
    action:
      'The WAL directory lacks numbered segment files (removed by hand?): restore them, or move the ' +
      'directory aside and lose its data.',
  },
  OUTPOST_BYTES_INVALID: {
    class: 'ByteReaderError',
    action:
      'None: bytes ended early or a varint overflowed; callers turn this into a WAL or protocol error ' +
      'naming the place.',
  },
  OUTPOST_SNAPPY_INVALID: {
    class: 'SnappyError',
    action:
      'The compressed block is corrupt or larger than allowed: in the WAL it is handled as corruption; ' +
      'from a client, fix the sender.',
  },
  OUTPOST_OTLP_REQUEST: {
    class: 'OtlpRequestError',
    action:
      'Fix the OTLP request as the message says (its place in the request, e.g. ' +
      'resource_metrics[0].scope_metrics[1].metrics[2]): a valid ExportMetricsServiceRequest in protobuf or ' +
      'OTLP/JSON, optionally gzip, within the size, point and attribute limits; split large batches.',
  },
  OUTPOST_OTLP_TRANSLATION: {
    class: 'OtlpTranslationError',
    action:
      'The partial-success message names the metric or attribute: give metrics a name and attributes a key that ' +
      'is not only underscores, keep exponential histogram scales at -4 or above.',
  },
  OUTPOST_OTLP_UNAVAILABLE: {
    class: 'OtlpUnavailableError',
    action:
      'The WAL cannot be written (disk full, I/O error; see the agent log). OTLP clients retry the 503; free ' +
      'space or fix the data directory.',
  },
  OUTPOST_ENCODER_STATE: {
    class: 'EncoderStateError',
    action: 'None: a bug in Outpost (a request builder was used after finish()). Please report it.',
  },
} as const satisfies Readonly<Record<`OUTPOST_${string}`, { readonly class: string; readonly action: string }>>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** Base of every error in the catalogue. */
export class OutpostError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }

  /** What the user should do about it. */
  get action(): string {
    return ERROR_CATALOGUE[this.code].action;
  }
}

/**
 * The base of an error class that carries nothing but a message (and maybe a cause) under its code,
 * declared as `class WalWriteError extends codedError('OUTPOST_WAL_WRITE') {}`.
 */
export function codedError(code: ErrorCode) {
  return class extends OutpostError {
    constructor(message: string, options?: { cause?: unknown }) {
      super(code, message, options);
    }
  };
}

/** Message of any thrown value, for logs. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** A failure while starting the agent, worded in the agent's terms ("opening storage failed: ..."). */
export class StartError extends OutpostError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('OUTPOST_START_FAILED', message, options);
  }
}

/** What the C library says for the codes an operator meets at start-up (Node's own text adds the code and call). */
const PLAIN: Readonly<Record<string, string>> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'no such file or directory',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EMFILE: 'too many open files',
  ELOOP: 'too many levels of symbolic links',
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'cannot assign requested address',
  ENOTFOUND: 'no such host',
};

interface SystemError {
  code?: unknown;
  syscall?: unknown;
  path?: unknown;
  address?: unknown;
  port?: unknown;
  hostname?: unknown;
}

/**
 * A system error as Go programs such as Prometheus word it ("mkdir /data: not a directory"), instead
 * of Node's "EEXIST: file already exists, mkdir '/data'"; other errors keep their message.
 */
export function systemErrorText(err: unknown): string {
  if (!(err instanceof Error) || err instanceof OutpostError) return errorMessage(err);
  const e = err as Error & SystemError;
  const code = typeof e.code === 'string' ? e.code : '';
  const syscall = typeof e.syscall === 'string' ? e.syscall : '';
  if (!code || !syscall) return err.message;
  const p = typeof e.path === 'string' ? e.path : '';
  // mkdir -p over a file: the data path itself (EEXIST) or one of its parents (ENOTDIR) is a file.
  if (syscall === 'mkdir' && code === 'EEXIST') return `${p} is not a directory`;
  let where = p;
  if (!where && typeof e.address === 'string')
    where =
      typeof e.port === 'number' ? `${e.address.includes(':') ? `[${e.address}]` : e.address}:${e.port}` : e.address;
  if (!where && typeof e.hostname === 'string') where = e.hostname;
  let text = `${syscall}${where ? ' ' + where : ''}: ${PLAIN[code] ?? code.toLowerCase()}`;
  if (syscall === 'listen' && code === 'EACCES') text += ' (ports below 1024 need CAP_NET_BIND_SERVICE)';
  return text;
}
