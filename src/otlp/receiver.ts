/**
 * The OTLP receiver: translated samples go through the same appender as scraped ones (the WAL, its
 * disk cap, every endpoint's resume position). Requests are applied one at a time, so the newest
 * timestamp per series is known: a sample that is not newer than what its series already holds is
 * refused, counted and reported in the partial-success answer, never dropped silently.
 */
import type { ExemplarAppender } from '../storage/appender.ts';
import type { MetadataMetricType, MetricMetadataEntry } from '../storage/metadata.ts';
import { labelsToString, type Labels } from '../util/labels.ts';
import { InvalidHistogramError, isCustomBucketsSchema, staleHistogram, type Histogram } from '../storage/histogram.ts';
import type { DeltaToCumulative } from './delta.ts';
import { OtlpUnavailableError } from './errors.ts';
import type { OtlpRequest } from './model.ts';
import { translate, type OtlpSettings, type TranslatedExemplar, type WarningCategory } from './translate.ts';

/** Prometheus' maxAheadTime for remote-written samples: later timestamps are refused as out of bounds. */
const MAX_AHEAD_MS = 10 * 60_000;
/** Metric families whose metadata is kept for remote write (the oldest is forgotten past it). */
const MAX_METADATA = 10_000;
/** Resources (job, instance) tracked for the status page. */
const MAX_RESOURCES = 1000;
const TOP_RESOURCES = 10;
/** Window of the points-per-second figure, in seconds. */
const RATE_WINDOW_S = 10;

export type RejectReason =
  | 'out_of_order'
  | 'duplicate'
  | 'too_far_in_future'
  | 'invalid_histogram'
  | 'sample_limit'
  | 'translation';

const REASON_TEXT: Readonly<Record<RejectReason, string>> = {
  out_of_order: 'out of order (older than the newest sample of their series)',
  duplicate: 'duplicate (same series and timestamp as a sample already stored)',
  too_far_in_future: 'too far in the future (more than 10m ahead of the agent clock)',
  invalid_histogram: 'invalid native histograms',
  sample_limit: 'over the per-request sample limit',
  translation: 'not translatable',
};

/** What the storage side gives the receiver. */
interface OtlpStorage {
  appender(): ExemplarAppender;
  /** Newest committed timestamp of a series (ms), to tell duplicates from older samples. */
  lastTimestamp(ref: number): number;
  /** False while the WAL cannot be written: the request is refused as retryable instead of dropped. */
  writable(): boolean;
}

export interface OtlpReceiverOptions {
  readonly storage: OtlpStorage;
  readonly settings: () => OtlpSettings;
  readonly now: () => number;
  /** `otlp-deltatocumulative`: delta points made cumulative before translation. */
  readonly deltaToCumulative?: DeltaToCumulative | undefined;
  /** Samples one request may produce (histogram buckets count one each). */
  readonly maxSamplesPerRequest?: number | undefined;
}

export interface IngestResult {
  readonly acceptedPoints: number;
  readonly rejectedPoints: number;
  /** '' when everything was stored; else the partial-success error_message. */
  readonly message: string;
  readonly samplesAppended: number;
}

export interface OtlpResourceStatusEntry {
  readonly job: string;
  readonly instance: string;
  readonly points: number;
  readonly lastSeen: number;
}

/** Counters the receiver keeps; metrics and the status page read them. */
export interface OtlpCounters {
  requests: number;
  requestsFailed: number;
  pointsReceived: number;
  pointsRejected: number;
  samplesAppended: number;
  histogramsAppended: number;
  exemplarsAppended: number;
  exemplarsRejected: number;
  readonly rejected: Record<RejectReason, number>;
  readonly warnings: Record<WarningCategory, number>;
}

export class OtlpReceiver {
  private readonly o: OtlpReceiverOptions;
  private queue: Promise<unknown> = Promise.resolve();
  readonly counters: OtlpCounters = {
    requests: 0,
    requestsFailed: 0,
    pointsReceived: 0,
    pointsRejected: 0,
    samplesAppended: 0,
    histogramsAppended: 0,
    exemplarsAppended: 0,
    exemplarsRejected: 0,
    rejected: noReasons(),
    warnings: { empty_data_points: 0, label_name_collision: 0, histogram_zero_count_non_zero_sum: 0, other: 0 },
  };
  lastError = '';
  lastErrorAt = 0;
  lastRequestAt = 0;
  private readonly meta = new Map<string, MetricMetadataEntry>();
  private readonly resources = new Map<string, { job: string; instance: string; points: number; lastSeen: number }>();
  /** [second, points received in it] for the last RATE_WINDOW_S seconds that saw requests. */
  private readonly rate: [number, number][] = [];
  /** Called for translation warnings and rejections worth a log line. */
  onProblem: (message: string, fields: Record<string, unknown>) => void = () => {};

  constructor(o: OtlpReceiverOptions) {
    this.o = o;
  }

  /** Appends one decoded request; requests run one after another. */
  ingest(req: OtlpRequest): Promise<IngestResult> {
    const run = this.queue.then(() => this.apply(req));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Records a request refused before it could be applied (decode errors, limits), for the status page. */
  refused(message: string): void {
    this.counters.requests++;
    this.counters.requestsFailed++;
    this.lastError = message;
    this.lastErrorAt = this.o.now();
  }

  private async apply(req: OtlpRequest): Promise<IngestResult> {
    const { storage } = this.o;
    if (!storage.writable())
      throw new OtlpUnavailableError('the WAL cannot be written right now (see the agent log); retry later');
    const now = this.o.now();
    let deltaDropped = 0;
    let deltaMessages: readonly string[] = [];
    if (this.o.deltaToCumulative) {
      const d = this.o.deltaToCumulative.convert(req, now);
      req = d.req;
      deltaDropped = d.dropped;
      deltaMessages = d.messages;
    }
    const maxT = now + MAX_AHEAD_MS;
    const maxSamples = this.o.maxSamplesPerRequest ?? 1_000_000;
    const app = storage.appender();
    const pointRejected = new Uint8Array(req.points);
    const tally = noReasons();
    let firstRefused = '';
    const pending = new Map<number, number>();
    let samples = 0;
    let histograms = 0;
    let exemplarsOk = 0;
    let exemplarsBad = 0;
    let invalidHistogram = '';
    const c = this.counters;

    const refuse = (reason: RejectReason, point: number, labels: Labels, t: number) => {
      // target_info (point -1) is made up from the resource: a sample of it that is already stored (two
      // requests of one resource at one timestamp) is nothing the client sent, so it is not reported.
      if (point < 0) return;
      tally[reason]++;
      pointRejected[point] = 1;
      if (firstRefused === '') firstRefused = `${labelsToString(labels)} @${t}`;
    };
    /** Admits a sample of series `ref` at t, or returns why not. */
    const admit = (ref: number, t: number): RejectReason | null => {
      if (t > maxT) return 'too_far_in_future';
      const p = pending.get(ref);
      const last = p ?? storage.lastTimestamp(ref);
      if (t > last) return null;
      return t === last ? 'duplicate' : 'out_of_order';
    };
    const exemplars = (ref: number, t: number, ex: readonly TranslatedExemplar[]) => {
      for (const e of ex) {
        const st = app.appendExemplar(ref, e.timeMs !== 0 ? e.timeMs : t, e.value, e.timeMs !== 0, e.labels);
        if (st === 0) exemplarsOk++;
        else if (st > 1) exemplarsBad++;
      }
    };
    const overLimit = (point: number, labels: Labels, t: number) => {
      if (samples < maxSamples) return false;
      refuse('sample_limit', point, labels, t);
      return true;
    };

    const translateAll = () =>
      translate(req, this.o.settings(), {
        sample: (labels, t, v, stale, point, ex) => {
          if (overLimit(point, labels, t)) return;
          const ref = app.ref(labels);
          const why = admit(ref, t);
          if (why) return refuse(why, point, labels, t);
          if (!(stale ? app.appendStale(ref, t) : app.append(ref, t, v)))
            return refuse(t === storage.lastTimestamp(ref) ? 'duplicate' : 'out_of_order', point, labels, t);
          pending.set(ref, t);
          samples++;
          if (ex.length > 0) exemplars(ref, t, ex);
        },
        histogram: (labels, t, h, stale, point, ex) => {
          if (overLimit(point, labels, t)) return;
          const ref = app.ref(labels);
          const why = admit(ref, t);
          if (why) return refuse(why, point, labels, t);
          let ok: boolean;
          try {
            // OTLP histograms are integer histograms; a point without a recorded value is the series' staleness
            // marker, a histogram with the stale NaN as its sum (of the point's kind of schema).
            ok = app.appendHistogram(ref, t, stale ? staleLike(h) : h, false);
          } catch (err) {
            if (!(err instanceof InvalidHistogramError)) throw err;
            if (invalidHistogram === '') invalidHistogram = `${err.message} (${labelsToString(labels)})`;
            return refuse('invalid_histogram', point, labels, t);
          }
          if (!ok) return refuse('out_of_order', point, labels, t);
          pending.set(ref, t);
          samples++;
          histograms++;
          if (ex.length > 0) exemplars(ref, t, ex);
        },
        metadata: (family, type, help, unit) => this.metadata(family, type, help, unit),
      });
    let result: ReturnType<typeof translate>;
    try {
      result = translateAll();
    } catch (err) {
      // Series created so far still get their records, as after a failed scrape.
      app.rollback();
      throw err;
    }
    await app.commit();
    // A WAL that failed while this request was written dropped it (counted by the storage): the client retries.
    if (!storage.writable())
      throw new OtlpUnavailableError('the WAL could not be written (see the agent log); retry later');

    let rejected = result.rejectedPoints + deltaDropped;
    for (const r of pointRejected) rejected += r;
    rejected = Math.min(rejected, req.points);
    tally.translation = result.rejectedPoints + deltaDropped;

    c.requests++;
    c.pointsReceived += req.points;
    c.pointsRejected += rejected;
    c.samplesAppended += samples;
    c.histogramsAppended += histograms;
    c.exemplarsAppended += exemplarsOk;
    c.exemplarsRejected += exemplarsBad;
    for (const k of Object.keys(tally) as RejectReason[]) c.rejected[k] += tally[k];
    for (const w of result.warnings) c.warnings[w.category]++;
    this.lastRequestAt = now;
    this.track(req, now);

    const parts: string[] = [];
    const sampleReasons = (Object.keys(tally) as RejectReason[]).filter((k) => k !== 'translation' && tally[k] > 0);
    if (sampleReasons.length > 0)
      parts.push(
        `samples refused: ${sampleReasons.map((k) => `${tally[k]} ${REASON_TEXT[k]}`).join(', ')}; ` +
          `first: ${firstRefused}`,
      );
    if (invalidHistogram !== '') parts.push(invalidHistogram);
    if (result.errors.length > 0) parts.push(...dedupe(result.errors));
    parts.push(...deltaMessages);
    const message =
      rejected > 0 || parts.length > 0 ? `${rejected} of ${req.points} data points rejected: ${parts.join('; ')}` : '';
    if (message !== '') {
      this.lastError = message;
      this.lastErrorAt = now;
      this.onProblem('OTLP data points rejected', { rejected, points: req.points, err: message });
    }
    if (result.warnings.length > 0)
      this.onProblem('Warnings translating OTLP metrics to Prometheus write request', {
        warnings: dedupe(result.warnings.map((w) => w.message)).join('; '),
      });
    return { acceptedPoints: req.points - rejected, rejectedPoints: rejected, message, samplesAppended: samples };
  }

  private metadata(metric: string, type: MetadataMetricType, help: string, unit: string): void {
    const prev = this.meta.get(metric);
    if (prev && prev.type === type && prev.help === help && prev.unit === unit) return;
    if (!prev && this.meta.size >= MAX_METADATA) {
      const oldest = this.meta.keys().next();
      if (!oldest.done) this.meta.delete(oldest.value);
    }
    this.meta.set(metric, { metric, type, help, unit });
  }

  /** The metric families received with their TYPE/HELP/UNIT, for remote-write metadata. */
  metadataEntries(): Iterable<MetricMetadataEntry> {
    return this.meta.values();
  }

  private track(req: OtlpRequest, now: number): void {
    for (const rm of req.resources) {
      let points = 0;
      for (const sc of rm.scopes) for (const m of sc.metrics) points += m.data?.points.length ?? 0;
      const a = rm.attributes;
      const name = attrValue(a, 'service.name');
      const ns = attrValue(a, 'service.namespace');
      const job = name === undefined ? '' : ns === undefined ? name : `${ns}/${name}`;
      const instance = attrValue(a, 'service.instance.id') ?? '';
      const key = `${job}\xff${instance}`;
      let r = this.resources.get(key);
      if (!r) {
        if (this.resources.size >= MAX_RESOURCES) this.evictResource();
        r = { job, instance, points: 0, lastSeen: now };
        this.resources.set(key, r);
      }
      r.points += points;
      r.lastSeen = now;
    }
    const second = Math.floor(now / 1000);
    const bucket = this.rate[this.rate.length - 1];
    if (bucket && bucket[0] === second) bucket[1] += req.points;
    else {
      this.rate.push([second, req.points]);
      if (this.rate.length > RATE_WINDOW_S) this.rate.shift();
    }
  }

  private evictResource(): void {
    let oldestKey = '';
    let oldest = Infinity;
    for (const [k, r] of this.resources)
      if (r.lastSeen < oldest) {
        oldest = r.lastSeen;
        oldestKey = k;
      }
    this.resources.delete(oldestKey);
  }

  /** Points received per second over the last ten seconds. */
  pointsPerSecond(now: number): number {
    const from = Math.floor(now / 1000) - RATE_WINDOW_S;
    let n = 0;
    for (const [second, points] of this.rate) if (second > from) n += points;
    return n / RATE_WINDOW_S;
  }

  topResources(): OtlpResourceStatusEntry[] {
    return [...this.resources.values()]
      .sort((a, b) => b.points - a.points || b.lastSeen - a.lastSeen)
      .slice(0, TOP_RESOURCES)
      .map((r) => ({ ...r }));
  }
}

function noReasons(): Record<RejectReason, number> {
  return {
    out_of_order: 0,
    duplicate: 0,
    too_far_in_future: 0,
    invalid_histogram: 0,
    sample_limit: 0,
    translation: 0,
  };
}

function staleLike(h: Histogram): Histogram {
  const m = staleHistogram();
  return isCustomBucketsSchema(h.schema) ? { ...m, schema: h.schema, customValues: h.customValues ?? [] } : m;
}

function attrValue(a: readonly string[], key: string): string | undefined {
  for (let i = 0; i + 1 < a.length; i += 2) if (a[i] === key) return a[i + 1];
  return undefined;
}

function dedupe(list: readonly string[]): string[] {
  const counts = new Map<string, number>();
  for (const s of list) counts.set(s, (counts.get(s) ?? 0) + 1);
  return [...counts].slice(0, 10).map(([s, n]) => (n > 1 ? `${s} (×${n})` : s));
}
