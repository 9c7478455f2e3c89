import type http from 'node:http';
import type https from 'node:https';
import { ExemplarStatus, type Appender } from '../storage/appender.ts';
import { debugEnabled, logDuration, type Logger } from '../log/logger.ts';
import { relabel, type CompiledRelabel } from '../relabel/relabel.ts';
import { loadParser, parserFor } from '../textparse/parser-choice.ts';
import { chooseFormat, type ExpositionFormat, type ScrapeProtocol } from '../textparse/protocols.ts';
import type { ProtobufParserOptions } from '../textparse/protobuf.ts';
import { Entry, type TextParser } from '../textparse/types.ts';
import { limitHistogramBuckets } from './histogram-limits.ts';
import type { Clock } from '../util/clock.ts';
import { errorMessage } from '../util/errors.ts';
import { LabelsBuilder, METRIC_NAME, labelPairs, labelsToString, type Labels } from '../util/labels.ts';
import { isValidLabelNameIn, isValidMetricNameIn, type NameValidationScheme } from '../relabel/names.ts';
import { fetchBody, ScrapeError } from './fetch-body.ts';
import type { Http1Pool } from '../net/http1-client.ts';
import type { ProxySelector } from '../net/proxy.ts';
import type { AuthSource } from '../net/auth.ts';
import type { TlsClientOptions } from '../net/tls.ts';
import type { BufferPool } from './buffer-pool.ts';
import { DROPPED_REF, SeriesCache } from './series-cache.ts';
import { MetadataCache } from './metadata.ts';
import type { FailureLogFile } from './failure-log.ts';
import type { MetricMetadataEntry } from '../storage/metadata.ts';

/** Everything a loop needs to know about its target, fixed for the loop's life. */
export interface ScrapeTarget {
  readonly pool: string;
  readonly url: string;
  /** Public target labels (job, instance, ...), sorted. */
  readonly labels: Labels;
  /** Labels before relabeling, for the API and UI. */
  readonly discovered: Labels;
  readonly intervalMs: number;
  readonly timeoutMs: number;
}

export interface LoopOptions {
  readonly honorLabels: boolean;
  readonly honorTimestamps: boolean;
  readonly trackTimestampsStaleness: boolean;
  readonly metricRelabel: readonly CompiledRelabel[];
  readonly sampleLimit: number;
  readonly labelLimit: number;
  readonly labelNameLengthLimit: number;
  readonly labelValueLengthLimit: number;
  readonly bodySizeLimit: number;
  /** bodySizeLimit is Outpost's default, not the config's (said in the error). */
  readonly defaultBodyLimit?: boolean;
  readonly headers: Readonly<Record<string, string>>;
  /** `fallback_scrape_protocol`: how to read a body whose Content-Type is blank, malformed or unknown. */
  readonly fallbackProtocol?: ScrapeProtocol | undefined;
  /** scrape_native_histograms, always_scrape_classic_histograms, convert_classic_histograms_to_nhcb. */
  readonly histograms?: ProtobufParserOptions | undefined;
  /** native_histogram_bucket_limit (0: none). */
  readonly nativeHistogramBucketLimit?: number | undefined;
  /** The highest schema native_histogram_min_bucket_factor allows (8: any). */
  readonly nativeHistogramMaxSchema?: number | undefined;
  readonly agent: http.Agent | https.Agent;
  /** The lean client for plain-http targets without a proxy (fetch-body.ts decides which path a request takes). */
  readonly http1?: Http1Pool | undefined;
  readonly tls?: TlsClientOptions | undefined;
  readonly auth: AuthSource;
  readonly followRedirects: boolean;
  /** A bare proxy URL, or the selector for the pool's whole proxy config (fetch-body.ts takes either). */
  readonly proxy?: URL | ProxySelector | undefined;
  readonly buffers: BufferPool;
  /**
   * Names after relabeling must be valid under this scheme, else the scrape fails ('legacy': the
   * classic charset; 'utf8': non-empty UTF-8).
   */
  readonly nameValidation: NameValidationScheme;
  /** scrape_failure_log_file: where failed fetches are recorded. */
  readonly failureLog?: FailureLogFile | undefined;
}

/** Samples ahead of now by more than this are rejected, as Prometheus' appender does. */
const MAX_FUTURE_MS = 10 * 60 * 1000;

export interface LoopState {
  health: 'up' | 'down' | 'unknown';
  lastScrape: number;
  lastDurationMs: number;
  lastError: string;
  samples: number;
  series: number;
  /** Of samples: native histograms (NHCB included); samples − histograms are floats. */
  histograms: number;
  /** Of series: those that held a native histogram. */
  histogramSeries: number;
}

/** Scrape outcome counters, summed over all loops into Prometheus' target metrics. */
export interface LoopCounters {
  scrapes: number;
  failed: number;
  duplicates: number;
  outOfOrder: number;
  outOfBounds: number;
  sampleLimitHit: number;
  bodyLimitHit: number;
  /** Scrapes failed by native_histogram_bucket_limit. */
  bucketLimitHit: number;
}

/** Counters all at zero. */
export function newLoopCounters(): LoopCounters {
  return {
    scrapes: 0,
    failed: 0,
    duplicates: 0,
    outOfOrder: 0,
    outOfBounds: 0,
    sampleLimitHit: 0,
    bodyLimitHit: 0,
    bucketLimitHit: 0,
  };
}

class SampleLimitError extends ScrapeError {}
class BucketLimitError extends ScrapeError {}

const EMPTY = Buffer.alloc(0);

const REPORT_NAMES = [
  'up',
  'scrape_duration_seconds',
  'scrape_samples_scraped',
  'scrape_samples_post_metric_relabeling',
  'scrape_series_added',
] as const;

/**
 * One target's scrape loop: fetch, parse, map raw series text to a ref through the cache (so relabeling
 * and label parsing happen once per new series), append, report, stale markers, commit.
 */
export class ScrapeLoop {
  readonly target: ScrapeTarget;
  private readonly opts: LoopOptions;
  private readonly app: Appender;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly counters: LoopCounters;
  /**
   * The scrape cache and the metadata cache are created with the first body: a target that never
   * answers (one of thousands of dead ones) keeps neither, and its loop stays a few hundred bytes.
   */
  private seriesCache: SeriesCache | null = null;
  private metadataCache: MetadataCache | null = null;
  /** Whether the appender stores exemplars; decided once so samples without one pay nothing. */
  private readonly exemplars: boolean;
  private readonly reportRefs = new Float64Array(REPORT_NAMES.length);
  private readonly parserCache = new Map<string, TextParser>();
  /** Body of the scrape being processed (from the shared pool, only while a scrape runs). */
  private buf: Buffer = EMPTY;
  /** Size of the last body, so the next scrape asks the pool for a buffer that fits. */
  private lastBodySize = 0;
  private iter = 0;
  /** Set once stop() handed the loop's pinned refs back to the storage. */
  private released = false;
  /** Iteration whose series are currently "exposed" (-1: none, e.g. after a failed scrape). */
  private exposedIter = -1;
  private timer: object | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  /** Set when the pool exceeds target_limit: scrapes fail without an HTTP request. */
  private forcedError: string | null = null;
  private readonly headers: Record<string, string>;
  private readonly url: URL;
  readonly state: LoopState = {
    health: 'unknown',
    lastScrape: 0,
    lastDurationMs: 0,
    lastError: '',
    samples: 0,
    series: 0,
    histograms: 0,
    histogramSeries: 0,
  };

  constructor(
    target: ScrapeTarget,
    opts: LoopOptions,
    app: Appender,
    clock: Clock,
    log: Logger,
    counters: LoopCounters,
  ) {
    this.target = target;
    this.opts = opts;
    this.app = app;
    this.clock = clock;
    this.log = log;
    this.counters = counters;
    this.url = new URL(target.url);
    this.headers = { ...opts.headers, 'X-Prometheus-Scrape-Timeout-Seconds': String(target.timeoutMs / 1000) };
    this.exemplars = typeof app.appendExemplar === 'function';
  }

  /** The target's metric metadata, in the order the families first appeared. */
  listMetadata(): MetricMetadataEntry[] {
    return this.metadataCache?.list() ?? [];
  }

  private get cache(): SeriesCache {
    return (this.seriesCache ??= new SeriesCache());
  }

  /** TYPE/HELP/UNIT seen in this target's scrapes, for the metadata API and remote write. */
  private get metadata(): MetadataCache {
    return (this.metadataCache ??= new MetadataCache());
  }

  /** Starts scraping at the target's stable offset within the interval. */
  start(offsetMs: number): void {
    const interval = this.target.intervalMs;
    const now = this.clock.now();
    let wait = interval - (now % interval) + offsetMs;
    if (wait > interval) wait -= interval;
    let next = now + wait;
    const tick = () => {
      if (this.stopped) return;
      const due = next;
      next += interval;
      const now2 = this.clock.now();
      // Skip ticks we are late for (a stalled event loop) rather than scraping in a burst.
      while (next <= now2) next += interval;
      this.timer = this.clock.setTimeout(tick, next - now2);
      // Align the timestamp to the ideal tick when within tolerance, as Prometheus does, so
      // downstream rate() sees exactly periodic samples.
      const ts = Math.abs(now2 - due) <= Math.min(2, interval / 100) ? due : now2;
      if (this.running) return; // previous scrape still running: skip this tick
      this.running = this.scrape(ts).finally(() => {
        this.running = null;
      });
    };
    this.timer = this.clock.setTimeout(tick, wait);
  }

  /** Stops the loop; waits for a running scrape. With stale=true writes stale markers for everything it exposed. */
  async stop(opts: { stale: boolean }): Promise<void> {
    this.stopped = true;
    if (this.timer) this.clock.clearTimeout(this.timer);
    if (this.running) await this.running;
    if (opts.stale) {
      const t = this.clock.now();
      this.appendStaleForExposed(t);
      for (const ref of this.reportRefs) if (ref > 0) this.app.appendStale(ref, t);
      await this.app.commit();
    }
    this.release();
  }

  /** The loop is done with its refs: the storage's series GC may take them from now on. */
  private release(): void {
    if (this.released) return;
    this.released = true;
    const app = this.app;
    this.seriesCache?.forEachRef((ref) => app.unpin?.(ref));
    for (const ref of this.reportRefs) if (ref > 0) app.unpin?.(ref);
  }

  /** Makes every scrape fail with this error (null clears it), as Prometheus does past target_limit. */
  forceError(message: string | null): void {
    this.forcedError = message;
  }

  /** One scrape at timestamp ts (ms). Public for tests. */
  async scrape(ts: number): Promise<void> {
    const start = performance.now();
    this.state.lastScrape = ts;
    let bodyError: Error | null = null;
    let length = 0;
    let contentType: string | undefined;
    this.buf = EMPTY;
    try {
      if (this.forcedError) throw new ScrapeError(this.forcedError);
      const auth = this.opts.auth.none ? undefined : await this.opts.auth.header();
      if (auth) this.headers.Authorization = auth;
      const res = await fetchBody(
        {
          url: this.url,
          headers: this.headers,
          timeoutMs: this.target.timeoutMs,
          bodySizeLimit: this.opts.bodySizeLimit,
          defaultLimit: this.opts.defaultBodyLimit,
          takeBuffer: this.takeBuffer,
          agent: this.opts.agent,
          http1: this.opts.http1,
          tls: this.opts.tls,
          maxRedirects: this.opts.followRedirects ? 10 : 0,
          proxy: this.opts.proxy,
        },
        this.buf,
      );
      this.buf = res.buf;
      length = res.length;
      contentType = res.contentType;
      if (length > 0 && !this.parserCache.has(contentType ?? '')) await this.loadParser(contentType);
    } catch (err) {
      bodyError = err instanceof Error ? err : new Error(String(err));
      if (err instanceof ScrapeError && err.bodyLimit) this.counters.bodyLimitHit++;
    }
    if (this.stopped && bodyError) {
      this.releaseBuffer();
      return;
    }
    if (bodyError && this.forcedError === null)
      this.opts.failureLog?.write(this.target.pool, this.target.url, errorMessage(bodyError));
    this.iter++;
    let scraped = 0;
    let post = 0;
    let added = 0;
    let err = bodyError;
    if (!err) {
      try {
        const r = this.ingest(ts, length, contentType);
        scraped = r.scraped;
        post = r.post;
        this.state.histogramSeries = r.postHistograms;
        added = r.added;
      } catch (e) {
        err = e instanceof Error ? e : new Error(String(e));
        scraped = this.lastScraped;
        post = 0;
        this.state.histogramSeries = 0;
        added = 0;
      }
      this.lastBodySize = length;
    }
    this.releaseBuffer();
    // As Prometheus: only a successful, non-empty scrape advances the metadata iteration.
    // (A cache not created yet has nothing to flush: only a success creates it.)
    if (this.metadataCache !== null || (err === null && length > 0)) this.metadata.iterDone(err === null && length > 0);
    if (err) {
      this.app.rollback();
      this.appendStaleForExposed(ts);
      this.exposedIter = -1;
      this.counters.failed++;
      this.state.health = 'down';
      this.state.lastError = errorMessage(err);
      if (debugEnabled(this.log))
        this.log.debug('Scrape failed', {
          scrape_pool: this.target.pool,
          target: this.target.url,
          duration: logDuration(performance.now() - start),
          err: this.state.lastError,
        });
    } else {
      this.appendStaleForGone(ts);
      this.exposedIter = this.iter;
      this.state.health = 'up';
      this.state.lastError = '';
    }
    this.counters.scrapes++;
    const duration = (performance.now() - start) / 1000;
    this.appendReport(ts, err === null, duration, scraped, post, added);
    this.state.lastDurationMs = duration * 1000;
    if (err === null && debugEnabled(this.log))
      this.log.debug('Scrape succeeded', {
        scrape_pool: this.target.pool,
        target: this.target.url,
        duration: logDuration(duration * 1000),
        bytes: length,
        samples: scraped,
        series_added: added,
      });
    this.state.samples = scraped;
    this.state.series = post;
    this.state.histograms = bodyError === null ? this.lastScrapedHistograms : 0;
    try {
      await this.app.commit();
    } catch (e) {
      this.state.health = 'down';
      this.state.lastError = `append failed: ${errorMessage(e)}`;
      this.log.error('Appending scrape results failed', { target: this.target.url, err: errorMessage(e) });
    }
  }

  private lastScraped = 0;
  private lastScrapedHistograms = 0;

  /** The body buffer, taken from the shared pool only once a target answers (see FetchOptions.takeBuffer). */
  private readonly takeBuffer = (): Buffer => {
    this.buf = this.opts.buffers.get(this.lastBodySize + (this.lastBodySize >> 3));
    return this.buf;
  };

  private releaseBuffer(): void {
    if (this.buf !== EMPTY) this.opts.buffers.put(this.buf);
    this.buf = EMPTY;
  }

  /** Parses the body and appends its samples. Throws (failing the whole scrape) on any parse or limit error. */
  private ingest(
    ts: number,
    length: number,
    contentType: string | undefined,
  ): { scraped: number; post: number; postHistograms: number; added: number } {
    // An empty body is an empty scrape whatever its Content-Type (3.x decides the format only for a
    // non-empty body: scrape/scrape.go v3.14.0 lines 1589-1594).
    if (length === 0) return { scraped: 0, post: 0, postHistograms: 0, added: 0 };
    const p = this.parser(contentType);
    const buf = this.buf;
    p.reset(buf, length);
    const iter = this.iter;
    const app = this.app;
    const cache = this.cache;
    const meta = this.metadata;
    const exemplars = this.exemplars;
    const honorTs = this.opts.honorTimestamps;
    const limit = this.opts.sampleLimit;
    const maxT = this.clock.now() + MAX_FUTURE_MS;
    let scraped = 0;
    let post = 0;
    let added = 0;
    let appended = 0;
    let scrapedHistograms = 0;
    let postHistograms = 0;
    let limitErr: SampleLimitError | null = null;
    let bucketErr: BucketLimitError | null = null;
    const bucketLimit = this.opts.nativeHistogramBucketLimit ?? 0;
    const maxSchema = this.opts.nativeHistogramMaxSchema ?? 8;
    try {
      for (;;) {
        // Known series come in the same order every scrape: hand the parser the one expected next.
        p.expect(cache.keyBytes, cache.expectedOff, cache.expectedLen);
        const kind = p.next();
        if (kind === Entry.EOF) break;
        if (kind !== Entry.Series && kind !== Entry.Histogram) {
          if (kind !== Entry.Comment) meta.observe(kind, p, buf);
          continue;
        }
        scraped++;
        const start = p.seriesStart;
        const end = p.seriesEnd;
        const key = p.seriesBuf;
        const h = kind === Entry.Histogram ? p.histogram : null;
        if (h !== null) scrapedHistograms++;
        let e = p.expectedHit ? cache.takeExpected() : cache.find(key, start, end);
        if (e < 0) {
          const labels = this.seriesLabels(p.labels());
          if (labels !== null && limit > 0 && appended >= limit) {
            // Past the limit the scrape has failed: a new series is neither created nor cached (as
            // Prometheus' limitAppender refuses before its storage), so a refused body costs only parsing.
            limitErr ??= new SampleLimitError(`sample limit exceeded (limit: ${limit})`);
            continue;
          }
          const ref = labels === null ? DROPPED_REF : app.ref(labels);
          e = cache.insert(key, start, end, ref);
          if (ref !== DROPPED_REF) {
            // Kept from scrape to scrape: the series GC must leave it to this cache (see Appender.pin).
            app.pin?.(ref);
            added++;
          }
        }
        const ref = cache.ref(e);
        if (ref === DROPPED_REF) {
          cache.markSeen(e, iter, false);
          continue;
        }
        post++;
        if (h !== null) postHistograms++;
        let t = ts;
        if (p.hasTimestamp && honorTs) t = p.timestamp;
        if (cache.seen(e) === iter) {
          this.counters.duplicates++;
        } else if (h !== null && !limitHistogramBuckets(h, p.histogramFloat, bucketLimit, maxSchema)) {
          // Prometheus' bucket-limit appender: past the limit at the lowest schema the scrape fails.
          bucketErr ??= new BucketLimitError('histogram bucket limit exceeded');
        } else {
          cache.markSeen(e, iter, p.hasTimestamp);
          if (t > maxT) {
            this.counters.outOfBounds++;
          } else if (limit > 0 && appended >= limit) {
            // Keep parsing so scrape_samples_scraped stays right, but the scrape has failed.
            limitErr ??= new SampleLimitError(`sample limit exceeded (limit: ${limit})`);
          } else if (h !== null ? app.appendHistogram(ref, t, h, p.histogramFloat) : app.append(ref, t, p.value)) {
            appended++;
          } else {
            this.counters.outOfOrder++;
          }
        }
        // Prometheus appends the exemplars whatever happened to their sample (a failed scrape rolls both back).
        if (exemplars && p.hasExemplar)
          do this.appendExemplar(p, ref, t);
          while (p.nextExemplar());
      }
    } finally {
      this.lastScraped = scraped;
      this.lastScrapedHistograms = scrapedHistograms;
    }
    if (limitErr) this.counters.sampleLimitHit++;
    if (bucketErr) this.counters.bucketLimitHit++;
    // The sample limit's error wins when both were hit, as in Prometheus.
    if (limitErr ?? bucketErr) throw limitErr ?? bucketErr;
    return { scraped, post, postHistograms, added };
  }

  /** An exemplar without its own timestamp takes its sample's, as in Prometheus 2.42. */
  private appendExemplar(p: TextParser, ref: number, t: number): void {
    const app = this.app;
    if (app.appendExemplar === undefined) return;
    const hasTs = p.exemplarHasTimestamp;
    const st = app.appendExemplar(ref, hasTs ? p.exemplarTimestamp : t, p.exemplarValue, hasTs, p.exemplarLabels());
    // Exemplars never fail a scrape; Prometheus only logs the rejects at debug level.
    if (st > ExemplarStatus.duplicate)
      this.log.debug('Error while adding exemplar', {
        target: this.target.url,
        series: Buffer.from(p.seriesBuf.subarray(p.seriesStart, p.seriesEnd)).toString('utf8'),
        err: exemplarError(st),
      });
  }

  /** Loads the protobuf parser or the NHCB converter the first time a scrape needs one (parser-choice.ts). */
  private async loadParser(contentType: string | undefined): Promise<void> {
    let format: ExpositionFormat;
    try {
      format = chooseFormat(contentType, this.opts.fallbackProtocol).format;
    } catch {
      return; // parser() reports it
    }
    await loadParser(format, { histograms: this.opts.histograms });
  }

  private parser(contentType: string | undefined): TextParser {
    const key = contentType ?? '';
    let p = this.parserCache.get(key);
    if (!p) {
      let choice: ReturnType<typeof chooseFormat>;
      try {
        choice = chooseFormat(contentType, this.opts.fallbackProtocol);
      } catch (err) {
        // A blank or unknown Content-Type without a fallback protocol fails the scrape; 3.x logs it at
        // error level every time (scrape/scrape.go v3.14.0 line 1608).
        this.log.error('Failed to determine correct type of scrape target.', {
          target: this.target.url,
          content_type: key,
          err: errorMessage(err),
        });
        throw err;
      }
      if (choice.fallbackReason !== undefined)
        this.log.debug('Invalid content type on scrape, using fallback setting.', {
          target: this.target.url,
          content_type: key,
          fallback_media_type: this.opts.fallbackProtocol,
          err: choice.fallbackReason,
        });
      p = parserFor(choice.format, { histograms: this.opts.histograms });
      this.parserCache.set(key, p);
    }
    return p;
  }

  /** Labels of a new series: target labels merged, metric relabeling, label limits. Null if relabeling drops it. */
  private seriesLabels(scraped: string[]): Labels | null {
    const lb = new LabelsBuilder();
    for (const [name, value] of labelPairs(scraped)) lb.set(name, value);
    const tl = this.target.labels;
    if (this.opts.honorLabels) {
      for (const [name, value] of labelPairs(tl)) if (!lb.has(name)) lb.set(name, value);
    } else {
      // Target labels win; clashing scraped values move to exported_<name>, shortest names first,
      // with the prefix repeated until the name is free (Prometheus' resolution order).
      let conflicts: [string, string][] | null = null;
      for (const [name, value] of labelPairs(tl)) {
        const clash = lb.get(name);
        if (clash !== '') (conflicts ??= []).push([name, clash]);
        lb.set(name, value);
      }
      if (conflicts) {
        conflicts.sort((a, b) => a[0].length - b[0].length);
        for (const [name, value] of conflicts) {
          let exported = 'exported_' + name;
          while (lb.has(exported)) exported = 'exported_' + exported;
          lb.set(exported, value);
        }
      }
    }
    if (this.opts.metricRelabel.length > 0 && !relabel(this.opts.metricRelabel, lb)) return null;
    if (lb.size === 0) return null;
    const labels = lb.labels();
    const name = lb.get(METRIC_NAME);
    // Prometheus' errNameLabelMandatory (scrape/scrape.go v3.14.0 line 71, the same in 2.42).
    if (name === '') throw new ScrapeError('missing metric name (__name__ label)');
    // A target may serve UTF-8 names to a legacy job (despite escaping=underscores in Accept), and
    // relabeling can produce names the parser never would: 3.x fails the whole scrape then
    // (scrape/scrape.go v3.14.0 line 1730, lset.IsValid(sl.validationScheme)).
    const scheme = this.opts.nameValidation;
    if (!isValidMetricNameIn(name, scheme))
      throw new ScrapeError(`invalid metric name or label names: ${labelsToString(labels)}`);
    for (const [ln] of labelPairs(labels)) {
      if (!isValidLabelNameIn(ln, scheme))
        throw new ScrapeError(`invalid metric name or label names: ${labelsToString(labels)}`);
    }
    const o = this.opts;
    if (o.labelLimit > 0 && labels.length / 2 > o.labelLimit)
      throw new ScrapeError(
        `label_limit exceeded (metric: ${lb.get(METRIC_NAME)}, number of labels: ${labels.length / 2}, limit: ${o.labelLimit})`,
      );
    if (o.labelNameLengthLimit > 0 || o.labelValueLengthLimit > 0) {
      for (const [ln, lv] of labelPairs(labels)) {
        if (o.labelNameLengthLimit > 0 && Buffer.byteLength(ln) > o.labelNameLengthLimit)
          throw new ScrapeError(
            `label_name_length_limit exceeded (metric: ${lb.get(METRIC_NAME)}, label name: ${ln}, limit: ${o.labelNameLengthLimit})`,
          );
        if (o.labelValueLengthLimit > 0 && Buffer.byteLength(lv) > o.labelValueLengthLimit)
          throw new ScrapeError(
            `label_value_length_limit exceeded (metric: ${lb.get(METRIC_NAME)}, label name: ${ln}, value: ${JSON.stringify(lv)}, limit: ${o.labelValueLengthLimit})`,
          );
      }
    }
    return labels;
  }

  private appendStaleForGone(ts: number): void {
    // Series of the previous successful scrape that did not come back get a stale marker; then the
    // cache forgets them.
    if (this.exposedIter >= 0)
      this.cache.forEachSeenIn(this.exposedIter, this.opts.trackTimestampsStaleness, (ref) =>
        this.app.appendStale(ref, ts),
      );
    this.cache.sweep(this.iter, this.unpinRef);
  }

  private readonly unpinRef = (ref: number): void => this.app.unpin?.(ref);

  private appendStaleForExposed(ts: number): void {
    if (this.exposedIter < 0) return;
    this.cache.forEachSeenIn(this.exposedIter, this.opts.trackTimestampsStaleness, (ref) =>
      this.app.appendStale(ref, ts),
    );
  }

  private appendReport(ts: number, ok: boolean, duration: number, scraped: number, post: number, added: number): void {
    const values: Record<(typeof REPORT_NAMES)[number], number> = {
      up: ok ? 1 : 0,
      scrape_duration_seconds: duration,
      scrape_samples_scraped: scraped,
      scrape_samples_post_metric_relabeling: post,
      scrape_series_added: added,
    };
    for (const [i, name] of REPORT_NAMES.entries()) {
      // reportRefs has one slot per name; 0 = no series yet.
      let ref = this.reportRefs[i] ?? 0;
      if (ref === 0) {
        const lb = new LabelsBuilder(this.target.labels);
        lb.set(METRIC_NAME, name);
        ref = this.app.ref(lb.labels());
        this.app.pin?.(ref);
        this.reportRefs[i] = ref;
      }
      this.app.append(ref, ts, values[name]);
    }
  }
}

function exemplarError(st: number): string {
  if (st === ExemplarStatus.unknownSeries) return 'unknown series ref when trying to add exemplar';
  if (st === ExemplarStatus.duplicateLabel) return 'invalid exemplar: duplicate label name';
  if (st === ExemplarStatus.outOfOrder) return 'out of order exemplar';
  return 'label length for exemplar exceeds maximum of 128 UTF-8 characters';
}
