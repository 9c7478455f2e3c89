import path from 'node:path';
import { ByteWriter } from '../util/bytes.ts';
import { OutpostError, errorMessage } from '../util/errors.ts';
import { labelPairs, type Labels } from '../util/labels.ts';
import { f64At } from '../util/columns.ts';
import { logDuration, type Logger } from '../log/logger.ts';
import { WalWriter, type WalWriterOptions, type WalWriterStats } from '../wal/segment-writer.ts';
import { replayWal } from '../wal/reader.ts';
import {
  RecordType,
  SampleBatch,
  decodeFloatHistogramSamples,
  decodeHistogramSamples,
  decodeSamples,
  decodeSeries,
  encodeCustomBucketsFloatHistogramSamples,
  encodeCustomBucketsHistogramSamples,
  encodeExemplars,
  encodeFloatHistogramSamples,
  encodeHistogramSamples,
  encodeSamples,
  encodeSeries,
  recordType,
  type RefExemplar,
  type RefHistogramSample,
} from '../wal/records.ts';
import { codePointCount } from '../textparse/scan.ts';
import { compareStrings } from '../util/labels.ts';
import type { AgentMetrics } from './metrics.ts';
import { SampleKind, SeriesTable } from './series-table.ts';
import { RecordTail } from '../wal/tail.ts';
import { ExemplarStatus, type ExemplarAppender, type ExemplarStatusCode } from '../storage/appender.ts';
import { staleHistogram, validateHistogram, type Histogram } from '../storage/histogram.ts';

/** How often a failed WAL is retried (a new segment is opened). */
const RECOVER_MS = 5000;

class InvalidSeriesError extends OutpostError {
  constructor(message: string) {
    super('OUTPOST_SERIES_INVALID', message);
  }
}

class StorageClosedError extends OutpostError {
  constructor() {
    super('OUTPOST_STORAGE_CLOSED', 'storage is not open');
  }
}

/** OpenMetrics caps an exemplar's label names and values at 128 code points together. */
const EXEMPLAR_MAX_LABEL_RUNES = 128;

/** The latest exemplar accepted for a series, for de-duplication. */
interface LatestExemplar {
  readonly labels: Labels;
  readonly t: number;
  readonly v: number;
  readonly hasTs: boolean;
}

export interface StorageOptions {
  dataDir: string;
  wal?: WalWriterOptions;
  log: Logger;
  metrics: AgentMetrics;
  now?: () => number;
  /** Byte budget of the in-memory tail remote write reads from while it keeps up; 0 turns it off. */
  tailBytes?: number | undefined;
}

export interface SegmentInfo {
  samples: number;
  minTs: number;
  maxTs: number;
}

export interface ReplayProgress {
  done: boolean;
  current: number;
  max: number;
}

/** The agent storage: series table + WAL writer. Appenders are the only write path. */
export class AgentStorage {
  readonly series = new SeriesTable();
  readonly walDir: string;
  private wal: WalWriter | null = null;
  private readonly enc = new ByteWriter(1 << 16);
  private readonly opts: StorageOptions;
  readonly metrics: AgentMetrics;
  readonly replay: ReplayProgress = { done: false, current: 0, max: 0 };
  /** Newest sample timestamp committed (ms), for remote-write lag. */
  highestTimestamp = 0;
  samplesAppended = 0;
  /** Native histograms appended (also counted in samplesAppended). */
  histogramsAppended = 0;
  seriesCreated = 0;
  seriesRemoved = 0;
  /** Set while the WAL cannot be written (e.g. the disk is full): commits drop their samples. */
  walError = '';
  /** Samples dropped because the WAL could not be written. */
  samplesDroppedWalFailure = 0;
  walWriteFailures = 0;
  private recoverTimer: NodeJS.Timeout | null = null;
  private readonly flushListeners = new Set<(segment: number, size: number) => void>();
  /** What the writers wrote last, for remote-write watchers that keep up; outlives a failed writer. */
  readonly tail: RecordTail | null;
  /** Last known writer position, kept while the writer is down. */
  private lastHead = { segment: 0, offset: 0 };
  /** Per WAL segment: samples written and their time range, for truncation, caps and status. */
  readonly segments = new Map<number, SegmentInfo>();
  /** Latest exemplar per series ref (not restored by replay, as in Prometheus). */
  readonly latestExemplars = new Map<number, LatestExemplar>();
  exemplarsAppended = 0;

  constructor(opts: StorageOptions) {
    this.opts = opts;
    this.metrics = opts.metrics;
    this.walDir = path.join(opts.dataDir, 'wal');
    this.tail = opts.tailBytes === 0 ? null : new RecordTail(opts.tailBytes);
  }

  /** Replays the WAL into the series table, then opens a new segment for writing. */
  async open(): Promise<void> {
    const started = performance.now();
    const batch = new SampleBatch();
    const dupRefs = new Map<number, number>();
    const hists: RefHistogramSample[] = [];
    let unknownRefs = 0;
    const res = await replayWal(
      this.walDir,
      (rec, segment) => {
        this.replay.current = segment;
        const type = recordType(rec);
        if (type === RecordType.Series) {
          decodeSeries(rec, (ref, labels) => {
            const canonical = this.series.insertReplayed(ref, labels);
            if (canonical !== ref) dupRefs.set(ref, canonical);
          });
        } else if (isHistogramRecord(type)) {
          hists.length = 0;
          const float =
            type === RecordType.FloatHistogramSamples || type === RecordType.CustomBucketsFloatHistogramSamples;
          if (float) decodeFloatHistogramSamples(rec, hists);
          else decodeHistogramSamples(rec, hists);
          const info = this.segmentInfo(segment);
          info.samples += hists.length;
          const kind = float ? SampleKind.floatHistogram : SampleKind.histogram;
          for (const s of hists) {
            const ref = dupRefs.get(s.ref) ?? s.ref;
            if (!this.series.has(ref)) {
              unknownRefs++;
              continue;
            }
            this.replayed(ref, s.t, kind, info);
          }
        } else if (type === RecordType.Samples) {
          batch.reset();
          decodeSamples(rec, batch);
          const info = this.segmentInfo(segment);
          info.samples += batch.n;
          for (let i = 0; i < batch.n; i++) {
            let ref = f64At(batch.refs, i);
            const d = dupRefs.get(ref);
            if (d !== undefined) ref = d;
            if (!this.series.has(ref)) {
              unknownRefs++;
              continue;
            }
            this.replayed(ref, f64At(batch.ts, i), SampleKind.float, info);
          }
        }
      },
      {
        repair: true,
        keepLaterSegments: true,
        log: (msg, fields) => this.opts.log.warn(msg, fields),
        onRange: (first: number, last: number) => {
          this.replay.current = first;
          this.replay.max = last;
        },
      },
    );
    if (unknownRefs > 0) this.opts.log.warn('Found sample referencing non-existing series', { count: unknownRefs });
    if (res.repaired) this.opts.metrics.corruptions.inc();
    this.replay.done = true;
    this.opts.metrics.replayDuration.set((performance.now() - started) / 1000);
    this.opts.metrics.activeSeries.set(this.series.size);
    this.opts.log.info('WAL replay completed', {
      series: this.series.size,
      segments: res.last === -1 ? 0 : res.last - res.first + 1,
      duration: logDuration(performance.now() - started),
    });
    this.attach(await WalWriter.open(this.walDir, { ...this.opts.wal, tail: this.tail, log: this.opts.log }));
    // Refs replay left out (duplicates, series a checkpoint dropped) have records only in what was replayed.
    this.series.setRemovedBefore(this.head());
  }

  /** Replay of one sample or histogram of series ref at t: its latest timestamp and kind, the segment's range. */
  private replayed(ref: number, t: number, kind: number, info: SegmentInfo): void {
    const series = this.series;
    if (t > (series.lastTs[ref] ?? Infinity)) {
      series.lastTs[ref] = t;
      series.kind[ref] = kind;
    }
    if (t > this.highestTimestamp) this.highestTimestamp = t;
    if (t < info.minTs) info.minTs = t;
    if (t > info.maxTs) info.maxTs = t;
  }

  private attach(w: WalWriter): void {
    this.wal = w;
    w.onFlush((segment, size) => {
      for (const fn of this.flushListeners) fn(segment, size);
    });
  }

  /** Subscribes to WAL flushes; survives the writer being replaced after a write failure. */
  onFlush(fn: (segment: number, size: number) => void): () => void {
    this.flushListeners.add(fn);
    return () => {
      this.flushListeners.delete(fn);
    };
  }

  /** Where new data goes: the writer's segment and logical offset. */
  head(): { segment: number; offset: number } {
    if (this.wal && !this.walError) this.lastHead = { segment: this.wal.segment, offset: this.wal.offset };
    return this.lastHead;
  }

  /** True while commits can reach the WAL. */
  get writable(): boolean {
    return this.wal !== null && this.walError === '';
  }

  /** Flushes the WAL; a failure (disk full, I/O error) switches to dropping until a new writer works. */
  async flushWal(): Promise<void> {
    const w = this.wal;
    if (!w || this.walError) return;
    try {
      await w.flush();
    } catch (err) {
      this.writeFailed(err);
    }
  }

  private writeFailed(err: unknown): void {
    if (this.walError) return;
    this.walWriteFailures++;
    this.walError = errorMessage(err);
    this.head();
    this.opts.log.error('WAL write failed: samples are dropped until the WAL is writable again', {
      err: this.walError,
    });
    this.scheduleRecovery();
  }

  private scheduleRecovery(): void {
    if (this.recoverTimer) return;
    this.recoverTimer = setTimeout(() => {
      this.recoverTimer = null;
      void this.recover();
    }, RECOVER_MS);
    this.recoverTimer.unref();
  }

  /**
   * Opens a fresh segment and re-logs every live series (records written while the WAL was down are
   * lost, and readers need a series record before its samples). Retries until it works.
   */
  private async recover(): Promise<void> {
    let w: WalWriter | null = null;
    try {
      w = await WalWriter.open(this.walDir, { ...this.opts.wal, tail: this.tail, log: this.opts.log });
      const refs: number[] = [];
      const labels: Labels[] = [];
      const flushBatch = () => {
        if (refs.length === 0) return;
        this.enc.reset();
        encodeSeries(this.enc, refs, labels, refs.length);
        (w as WalWriter).append(this.enc.view());
        refs.length = 0;
        labels.length = 0;
      };
      this.series.forEach((ref, ls) => {
        refs.push(ref);
        labels.push(ls);
        if (refs.length === 10_000) flushBatch();
      });
      flushBatch();
      await w.flush();
    } catch (err) {
      if (w) await w.close().catch(() => undefined);
      this.opts.log.warn('WAL still not writable', { err: errorMessage(err) });
      this.scheduleRecovery();
      return;
    }
    const old = this.wal;
    this.attach(w);
    this.walError = '';
    this.head();
    if (old) await old.close().catch(() => undefined);
    this.opts.log.warn('WAL writes resumed', { segment: w.segment, samples_dropped: this.samplesDroppedWalFailure });
  }

  get writer(): WalWriter {
    if (!this.wal) throw new StorageClosedError();
    return this.wal;
  }

  segmentInfo(segment: number): SegmentInfo {
    let info = this.segments.get(segment);
    if (!info) {
      info = { samples: 0, minTs: Infinity, maxTs: -Infinity };
      this.segments.set(segment, info);
    }
    return info;
  }

  /** Samples written to segments [from, below). */
  samplesInSegments(from: number, below: number): number {
    let n = 0;
    for (const [s, info] of this.segments) if (s >= from && s < below) n += info.samples;
    return n;
  }

  /** Oldest sample timestamp still in the WAL (ms), 0 when unknown. */
  oldestTimestamp(): number {
    let min = Infinity;
    for (const info of this.segments.values()) if (info.minTs < min) min = info.minTs;
    return min === Infinity ? 0 : min;
  }

  /** The writer's counters, or null while the WAL is not open. */
  writerStats(): WalWriterStats | null {
    return this.wal ? this.wal.stats : null;
  }

  appender(): ExemplarAppender {
    return new AgentAppender(this);
  }

  /** Removes series whose last sample is older than cutoff (ms); returns their refs. */
  gcSeries(cutoff: number): number[] {
    // No record of a removed series follows this position: refs are never handed out again, OTLP
    // resolves its refs per request with no await before the commit, and the scrape caches, which
    // keep refs from one commit to the next, pin them (Appender.pin), so gc() leaves those alone.
    this.series.setRemovedBefore(this.head());
    const removed = this.series.gc(cutoff);
    this.seriesRemoved += removed.length;
    if (this.latestExemplars.size > 0) for (const ref of removed) this.latestExemplars.delete(ref);
    this.metrics.activeSeries.set(this.series.size);
    return removed;
  }

  /**
   * Writes one record built by fn into the WAL (synchronously framed; flushed by the caller); nothing when fn
   * leaves the writer empty. False while the WAL is down.
   */
  logRecord(fn: (w: ByteWriter) => void): boolean {
    if (!this.writable) return false;
    this.enc.reset();
    fn(this.enc);
    // An encoder may find nothing to log (a histogram batch of custom-bucket ones only).
    if (this.enc.pos === 0) return true;
    try {
      this.writer.append(this.enc.view());
    } catch (err) {
      this.writeFailed(err);
      return false;
    }
    return true;
  }

  async close(): Promise<void> {
    if (this.recoverTimer) clearTimeout(this.recoverTimer);
    this.recoverTimer = null;
    if (this.wal) await (this.walError ? this.wal.close().catch(() => undefined) : this.wal.close());
    this.wal = null;
  }
}

class AgentAppender implements ExemplarAppender {
  private readonly st: AgentStorage;
  // Small at first: thousands of dead targets each hold an appender for five report samples.
  private readonly samples = new SampleBatch(16);
  private newRefs: number[] = [];
  private newLabels: Labels[] = [];
  private readonly exemplars: RefExemplar[] = [];
  /** Pending integer and float histograms, each in its own WAL record(s) as Prometheus writes them. */
  private readonly hists: RefHistogramSample[] = [];
  private readonly floatHists: RefHistogramSample[] = [];

  constructor(st: AgentStorage) {
    this.st = st;
  }

  get length(): number {
    return this.samples.n + this.hists.length + this.floatHists.length;
  }

  ref(labels: Labels): number {
    if (labels.length === 0) throw new InvalidSeriesError('empty labelset');
    for (let i = 2; i < labels.length; i += 2) {
      if (labels[i] === labels[i - 2]) throw new InvalidSeriesError(`label name "${labels[i]}" is not unique`);
    }
    const { ref, created } = this.st.series.getOrCreate(labels);
    if (created) {
      this.newRefs.push(ref);
      this.newLabels.push(labels);
    }
    return ref;
  }

  pin(ref: number): void {
    this.st.series.pin(ref);
  }

  unpin(ref: number): void {
    this.st.series.unpin(ref);
  }

  append(ref: number, t: number, v: number): boolean {
    return this.push(ref, t, v, 0);
  }

  appendStale(ref: number, t: number): boolean {
    const kind = this.st.series.kind[ref];
    if (kind !== SampleKind.float)
      return this.pushHistogram(ref, t, staleHistogram(), kind === SampleKind.floatHistogram);
    return this.push(ref, t, NaN, 1);
  }

  appendHistogram(ref: number, t: number, h: Histogram, float: boolean): boolean {
    validateHistogram(h, float);
    return this.pushHistogram(ref, t, h, float);
  }

  private pushHistogram(ref: number, t: number, h: Histogram, float: boolean): boolean {
    if (t <= (this.st.series.lastTs[ref] ?? -Infinity)) {
      this.st.metrics.outOfOrder.inc();
      return false;
    }
    (float ? this.floatHists : this.hists).push({ ref, t, h });
    return true;
  }

  appendExemplar(ref: number, t: number, v: number, hasTs: boolean, flat: readonly string[]): ExemplarStatusCode {
    const st = this.st;
    if (!st.series.has(ref)) return ExemplarStatus.unknownSeries;
    const labels = exemplarLabels(flat);
    for (let i = 2; i < labels.length; i += 2) if (labels[i] === labels[i - 2]) return ExemplarStatus.duplicateLabel;
    let runes = 0;
    for (const s of labels) runes += codePointCount(s);
    if (runes > EXEMPLAR_MAX_LABEL_RUNES) return ExemplarStatus.labelLength;
    const prev = st.latestExemplars.get(ref);
    if (prev !== undefined && sameExemplar(prev, labels, t, v, hasTs)) return ExemplarStatus.duplicate;
    // The head's exemplar storage rule (tsdb/exemplar.go), which Prometheus' agent lacks: a native histogram
    // carries several exemplars and targets repeat them scrape after scrape; without it every scrape would
    // store all but the newest again.
    if (prev?.hasTs && hasTs && (t < prev.t || (t === prev.t && v < prev.v))) return ExemplarStatus.outOfOrder;
    // Recorded as latest right away, even if the scrape is rolled back (as Prometheus 2.42 does).
    st.latestExemplars.set(ref, { labels, t, v, hasTs });
    this.exemplars.push({ ref, t, v, labels });
    st.exemplarsAppended++;
    st.metrics.exemplarsAppended.inc();
    return ExemplarStatus.appended;
  }

  private push(ref: number, t: number, v: number, stale: number): boolean {
    // lastTs has no slot for a ref the table never gave out: no sample yet, as -Infinity says.
    if (t <= (this.st.series.lastTs[ref] ?? -Infinity)) {
      this.st.metrics.outOfOrder.inc();
      return false;
    }
    this.samples.push(ref, t, v, stale);
    return true;
  }

  async commit(): Promise<void> {
    const st = this.st;
    const nNew = this.newRefs.length;
    if (nNew > 0) {
      st.logRecord((w) => encodeSeries(w, this.newRefs, this.newLabels, nNew));
      st.seriesCreated += nNew;
    }
    const samples = this.samples;
    const n = samples.n;
    const nH = this.hists.length + this.floatHists.length;
    if (
      (n > 0 && !st.logRecord((w) => encodeSamples(w, samples.refs, samples.ts, samples.values, samples.stale, n))) ||
      !this.logHistograms(this.hists, false) ||
      !this.logHistograms(this.floatHists, true)
    ) {
      st.samplesDroppedWalFailure += n + nH;
      this.reset();
      return;
    }
    const nEx = this.exemplars.length;
    if (nEx > 0) {
      st.logRecord((w) => encodeExemplars(w, this.exemplars));
      st.metrics.exemplarsIn.inc(nEx);
    }
    if (n > 0) {
      const last = st.series.lastTs;
      const kinds = st.series.kind;
      let hi = st.highestTimestamp;
      const info = st.segmentInfo(st.writer.segment);
      info.samples += n;
      for (let i = 0; i < n; i++) {
        const ref = f64At(samples.refs, i);
        const t = f64At(samples.ts, i);
        // A ref without a lastTs slot (never handed out) has nothing to update.
        if (t > (last[ref] ?? Infinity)) {
          last[ref] = t;
          kinds[ref] = SampleKind.float;
        }
        if (t > hi) hi = t;
        if (t < info.minTs) info.minTs = t;
        if (t > info.maxTs) info.maxTs = t;
      }
      st.highestTimestamp = hi;
      st.samplesAppended += n;
      const m = st.metrics;
      m.samplesAppended.inc({ type: 'float' }, n);
      m.samplesIn.inc(n);
      m.highestTimestampIn.set(Math.floor(hi / 1000));
    }
    if (nH > 0) this.committedHistograms();
    if (nNew > 0) st.metrics.activeSeries.set(st.series.size);
    this.reset();
    if (nNew > 0 || n > 0 || nH > 0 || nEx > 0) await st.flushWal();
  }

  /**
   * Logs pending histograms as Prometheus' agent does: one record of the exponential ones, then one of
   * the custom-bucket ones (types 9/10, which only newer readers know). False when the WAL is down.
   */
  private logHistograms(hs: RefHistogramSample[], float: boolean): boolean {
    if (hs.length === 0) return true;
    const st = this.st;
    let custom: RefHistogramSample[] = [];
    let ok = st.logRecord((w) => {
      custom = float ? encodeFloatHistogramSamples(w, hs) : encodeHistogramSamples(w, hs);
    });
    if (ok && custom.length > 0) {
      const cb = custom;
      ok = st.logRecord((w) =>
        float ? encodeCustomBucketsFloatHistogramSamples(w, cb) : encodeCustomBucketsHistogramSamples(w, cb),
      );
    }
    return ok;
  }

  /** Bookkeeping after the histograms reached the WAL: latest timestamp and kind per series, metrics. */
  private committedHistograms(): void {
    const st = this.st;
    const series = st.series;
    const info = st.segmentInfo(st.writer.segment);
    let hi = st.highestTimestamp;
    let n = 0;
    for (const [hs, kind] of [
      [this.hists, SampleKind.histogram],
      [this.floatHists, SampleKind.floatHistogram],
    ] as const) {
      for (const { ref, t } of hs) {
        // A ref without a lastTs slot (never handed out) has nothing to update.
        if (t > (series.lastTs[ref] ?? Infinity)) {
          series.lastTs[ref] = t;
          series.kind[ref] = kind;
        }
        if (t > hi) hi = t;
        if (t < info.minTs) info.minTs = t;
        if (t > info.maxTs) info.maxTs = t;
      }
      n += hs.length;
    }
    info.samples += n;
    st.highestTimestamp = hi;
    st.samplesAppended += n;
    st.histogramsAppended += n;
    const m = st.metrics;
    m.samplesAppended.inc({ type: 'histogram' }, n);
    m.histogramsIn.inc(n);
    m.highestTimestampIn.set(Math.floor(hi / 1000));
  }

  rollback(): void {
    // Series exist in memory regardless of the outcome, so their records are still written
    // (current Prometheus does the same; 2.42 lost them).
    const nNew = this.newRefs.length;
    if (nNew > 0) {
      this.st.logRecord((w) => encodeSeries(w, this.newRefs, this.newLabels, nNew));
      this.st.seriesCreated += nNew;
      void this.st.flushWal();
    }
    this.reset();
  }

  private reset(): void {
    this.samples.reset();
    if (this.hists.length > 0) this.hists.length = 0;
    if (this.floatHists.length > 0) this.floatHists.length = 0;
    this.newRefs.length = 0;
    this.newLabels.length = 0;
    if (this.exemplars.length > 0) this.exemplars.length = 0;
  }
}

function isHistogramRecord(type: number): boolean {
  return (
    type === RecordType.HistogramSamples ||
    type === RecordType.FloatHistogramSamples ||
    type === RecordType.CustomBucketsHistogramSamples ||
    type === RecordType.CustomBucketsFloatHistogramSamples
  );
}

/** Exemplar labels as stored: empty values dropped, sorted by name (a stable sort keeps duplicates adjacent). */
function exemplarLabels(flat: readonly string[]): Labels {
  const pairs: [string, string][] = [];
  for (const [name, value] of labelPairs(flat)) if (value !== '') pairs.push([name, value]);
  pairs.sort((a, b) => compareStrings(a[0], b[0]));
  return pairs.flat();
}

/**
 * Prometheus' Exemplar.Equals: same labels and value, and the same timestamp only if either side
 * had one of its own. An exemplar exposed without a timestamp therefore stays a duplicate of
 * itself across scrapes although each scrape gives it a new sample timestamp.
 */
function sameExemplar(prev: LatestExemplar, labels: Labels, t: number, v: number, hasTs: boolean): boolean {
  if (prev.labels.length !== labels.length) return false;
  for (let i = 0; i < labels.length; i++) if (prev.labels[i] !== labels[i]) return false;
  if ((prev.hasTs || hasTs) && prev.t !== t) return false;
  return prev.v === v;
}
