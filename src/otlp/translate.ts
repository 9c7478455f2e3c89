/**
 * OTLP metrics to Prometheus series, as Prometheus 3.x's storage/remote/otlptranslator/prometheusremotewrite
 * does it (PrometheusConverter.FromMetrics and its helpers). Each rule below names the 3.x function it
 * follows. The translator only describes series and samples to a sink; the receiver appends them.
 */
import type { OtlpConfig } from '../config/types.ts';
import type { MetadataMetricType } from '../storage/metadata.ts';
import { compareStrings, type Labels } from '../util/labels.ts';
import type { Histogram } from '../storage/histogram.ts';
import { OtlpTranslationError } from './errors.ts';
import { expToNativeHistogram, explicitToCustomBuckets } from './histograms.ts';
import type {
  Attributes,
  HistogramPoint,
  NumberPoint,
  OtlpExemplar,
  OtlpMetric,
  OtlpRequest,
  OtlpResourceMetrics,
  OtlpScopeMetrics,
} from './model.ts';
import { NO_RECORDED_VALUE, Temporality } from './model.ts';
import {
  buildLabelName,
  buildMetricName,
  buildUnit,
  shouldEscape,
  type LabelNamerOptions,
  type NamerMetricType,
} from './names.ts';

/** The `otlp:` config block and the feature flags that shape translation. */
export interface OtlpSettings extends OtlpConfig {
  /** `--enable-feature=otlp-native-delta-ingestion`: delta sums and histograms stored as they come. */
  readonly allowDeltaTemporality: boolean;
  /** target_info gets a sample every lookbackDelta/2 between a resource's first and last point. */
  readonly lookbackDeltaMs: number;
}

/** An exemplar as the appender takes it. */
export interface TranslatedExemplar {
  /** Flat [name, value, ...], sorted. */
  readonly labels: readonly string[];
  readonly value: number;
  /** ms; 0 when the exemplar had no timestamp of its own. */
  readonly timeMs: number;
}

/** Receives what the translation produces, in request order. `point` numbers the OTLP data point. */
export interface TranslationSink {
  sample(labels: Labels, t: number, v: number, stale: boolean, point: number, ex: readonly TranslatedExemplar[]): void;
  histogram(
    labels: Labels,
    t: number,
    h: Histogram,
    stale: boolean,
    point: number,
    ex: readonly TranslatedExemplar[],
  ): void;
  metadata(family: string, type: MetadataMetricType, help: string, unit: string): void;
}

/** Prometheus 3.x's translation warning categories (prometheus_api_otlp_translation_warnings_total). */
export type WarningCategory =
  | 'empty_data_points'
  | 'label_name_collision'
  | 'histogram_zero_count_non_zero_sum'
  | 'other';

export interface TranslationResult {
  /** Points refused by translation (bad temporality, names that cannot be built, ...). */
  readonly rejectedPoints: number;
  /** One line per problem, as Prometheus words it. */
  readonly errors: readonly string[];
  readonly warnings: readonly { readonly category: WarningCategory; readonly message: string }[];
}

const SERVICE_NAME = 'service.name';
const SERVICE_NAMESPACE = 'service.namespace';
const SERVICE_INSTANCE_ID = 'service.instance.id';
const IDENTIFYING = [SERVICE_NAMESPACE, SERVICE_NAME, SERVICE_INSTANCE_ID];
const RESERVED = ['__name__'];
/** helper.go maxExemplarRunes (OpenMetrics). */
const MAX_EXEMPLAR_RUNES = 128;

/** Labels under construction; setting '' deletes, as labels.Builder does. */
class Builder {
  private readonly m = new Map<string, string>();
  clear(): void {
    this.m.clear();
  }
  get(k: string): string {
    return this.m.get(k) ?? '';
  }
  set(k: string, v: string): void {
    if (v === '') this.m.delete(k);
    else this.m.set(k, v);
  }
  labels(): Labels {
    return sortedLabels(this.m);
  }
}

/** A name → value map as sorted flat Labels. */
function sortedLabels(m: ReadonlyMap<string, string>): Labels {
  const out: string[] = [];
  for (const [n, v] of [...m].sort((a, b) => compareStrings(a[0], b[0]))) out.push(n, v);
  return out;
}

/** Calls fn for each (key, value) of a flat [key, value, ...] list. */
function forEachPair(flat: readonly string[], fn: (k: string, v: string) => void): void {
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const k = flat[i];
    const v = flat[i + 1];
    if (k !== undefined && v !== undefined) fn(k, v);
  }
}

/** Copies `base` and sets `extras` (name, value, ...) and `__name__` (helper.go addLabels). */
function addLabels(name: string, base: Labels, ...extras: string[]): Labels {
  const m = new Map<string, string>();
  const set = (k: string, v: string) => void m.set(k, v);
  forEachPair(base, set);
  forEachPair(extras, set);
  m.set('__name__', name);
  return sortedLabels(m);
}

function attr(attrs: Attributes, key: string): string | undefined {
  for (let i = 0; i + 1 < attrs.length; i += 2) if (attrs[i] === key) return attrs[i + 1];
  return undefined;
}

/** strconv.FormatFloat(f, 'f', -1, 64): shortest digits, never an exponent. */
function formatFloatF(v: number): string {
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (Number.isNaN(v)) return 'NaN';
  const s = String(v);
  if (!/e/i.test(s)) return Object.is(v, -0) ? '-0' : s;
  const [mant = '', expText = '0'] = s.split('e');
  const exp = Number(expText);
  const neg = mant.startsWith('-');
  const digits = mant.replace('-', '').replace('.', '');
  const point = (mant.replace('-', '').indexOf('.') + 1 || mant.replace('-', '').length + 1) - 1 + exp;
  let out: string;
  if (point <= 0) out = '0.' + '0'.repeat(-point) + digits;
  else if (point >= digits.length) out = digits + '0'.repeat(point - digits.length);
  else out = digits.slice(0, point) + '.' + digits.slice(point);
  return (neg ? '-' : '') + out;
}

function namerType(m: OtlpMetric): NamerMetricType {
  const d = m.data;
  if (!d) return 'unknown';
  switch (d.type) {
    case 'gauge':
      return 'gauge';
    case 'sum':
      return d.monotonic ? 'monotonic_counter' : 'non_monotonic_counter';
    case 'histogram':
      return 'histogram';
    case 'exponential_histogram':
      return 'exponential_histogram';
    case 'summary':
      return 'summary';
  }
}

/** otlp_to_openmetrics_metadata.go otelMetricTypeToPromMetricType, from the namer's type of the metric. */
const METADATA_TYPES: Readonly<Record<NamerMetricType, MetadataMetricType>> = {
  gauge: 'gauge',
  monotonic_counter: 'counter',
  non_monotonic_counter: 'gauge',
  histogram: 'histogram',
  exponential_histogram: 'histogram',
  summary: 'summary',
  unknown: 'unknown',
};

/** Deltas (sums and histograms) are `unknown` for now, as in 3.x. */
function metadataType(m: OtlpMetric): MetadataMetricType {
  const d = m.data;
  if (d && 'temporality' in d && d.temporality === Temporality.delta) return 'unknown';
  return METADATA_TYPES[namerType(m)];
}

/**
 * Translates one request. Points are numbered in request order from 0, so the receiver can tell which
 * OTLP points lost samples; points that translation itself refuses are counted in the result.
 */
export function translate(req: OtlpRequest, settings: OtlpSettings, sink: TranslationSink): TranslationResult {
  return new Converter(settings, sink).run(req);
}

class Converter {
  private readonly s: OtlpSettings;
  private readonly sink: TranslationSink;
  private readonly utf8: boolean;
  private readonly namer: LabelNamerOptions;
  private readonly names = new Map<string, string>();
  private readonly b = new Builder();
  private job = '';
  private instance = '';
  private promoted: Labels = [];
  private scopeLabels: Labels | null = null;
  private readonly errors: string[] = [];
  private readonly warnings: { category: WarningCategory; message: string }[] = [];
  private readonly collisions = new Set<string>();
  private collisionSource: 'data point' | 'resource' = 'data point';
  private readonly seenTargetInfo = new Set<string>();
  private rejected = 0;
  private point = 0;

  constructor(s: OtlpSettings, sink: TranslationSink) {
    this.s = s;
    this.sink = sink;
    this.utf8 = !shouldEscape(s.translationStrategy);
    this.namer = {
      utf8: this.utf8,
      underscoreSanitization: s.labelNameUnderscoreSanitization,
      preserveMultipleUnderscores: s.labelNamePreserveMultipleUnderscores,
    };
  }

  run(req: OtlpRequest): TranslationResult {
    for (const rm of req.resources) this.resource(rm);
    return { rejectedPoints: this.rejected, errors: this.errors, warnings: this.warnings };
  }

  private labelName(n: string): string {
    let v = this.names.get(n);
    if (v === undefined) {
      v = buildLabelName(n, this.namer);
      if (this.names.size < 4096) this.names.set(n, v);
    }
    return v;
  }

  /**
   * setResourceContext: job from [service.namespace/]service.name, instance from service.instance.id, and the
   * promoted resource attributes.
   */
  private resourceContext(attrs: Attributes): void {
    const name = attr(attrs, SERVICE_NAME);
    const ns = attr(attrs, SERVICE_NAMESPACE);
    this.job = name === undefined ? '' : ns === undefined ? name : `${ns}/${name}`;
    this.instance = attr(attrs, SERVICE_INSTANCE_ID) ?? '';
    const s = this.s;
    this.b.clear();
    if (s.promoteAllResourceAttributes || s.promoteResourceAttributes.length > 0) {
      const list = s.promoteAllResourceAttributes ? s.ignoreResourceAttributes : s.promoteResourceAttributes;
      forEachPair(attrs, (k, v) => {
        if (list.includes(k) !== s.promoteAllResourceAttributes) this.b.set(this.labelName(k), v);
      });
    }
    this.promoted = this.b.labels();
  }

  /** setScopeContext: otel_scope_* labels when promote_scope_metadata is on and the scope has a name. */
  private scopeContext(sc: OtlpScopeMetrics): void {
    if (!this.s.promoteScopeMetadata || sc.name === '') {
      this.scopeLabels = null;
      return;
    }
    this.b.clear();
    forEachPair(sc.attributes, (k, v) => this.b.set(this.labelName('otel_scope_' + k), v));
    this.b.set('otel_scope_name', sc.name);
    this.b.set('otel_scope_version', sc.version);
    this.b.set('otel_scope_schema_url', sc.schemaUrl);
    this.scopeLabels = this.b.labels();
  }

  private resource(rm: OtlpResourceMetrics): void {
    let resourceOk = true;
    try {
      this.resourceContext(rm.attributes);
    } catch (err) {
      if (!(err instanceof OtlpTranslationError)) throw err;
      this.errors.push(err.message);
      resourceOk = false;
    }
    let earliest = Infinity;
    let latest = -Infinity;
    for (const sc of rm.scopes) {
      let scopeOk = resourceOk;
      if (scopeOk)
        try {
          this.scopeContext(sc);
        } catch (err) {
          if (!(err instanceof OtlpTranslationError)) throw err;
          this.errors.push(err.message);
          scopeOk = false;
        }
      for (const m of sc.metrics) {
        const pts = m.data?.points ?? [];
        for (const p of pts) {
          if (p.timeMs < earliest) earliest = p.timeMs;
          if (p.timeMs > latest) latest = p.timeMs;
        }
        if (!scopeOk) {
          this.reject(pts.length);
          continue;
        }
        this.metric(m);
      }
    }
    if (resourceOk && earliest !== Infinity)
      try {
        this.targetInfo(rm.attributes, earliest, latest);
      } catch (err) {
        if (!(err instanceof OtlpTranslationError)) throw err;
        this.errors.push(err.message);
      }
  }

  private reject(n: number): void {
    this.rejected += n;
    this.point += n;
  }

  private metric(m: OtlpMetric): void {
    const d = m.data;
    if (!d) {
      this.errors.push('unsupported metric type');
      return;
    }
    const n = d.points.length;
    if (d.type === 'sum' || d.type === 'histogram' || d.type === 'exponential_histogram') {
      const ok =
        d.temporality === Temporality.cumulative ||
        (this.s.allowDeltaTemporality && d.temporality === Temporality.delta);
      if (!ok) {
        let msg = `invalid temporality and type combination for metric "${m.name}"`;
        if (d.temporality === Temporality.delta)
          msg += ' (deltas are accepted with --enable-feature=otlp-deltatocumulative or otlp-native-delta-ingestion)';
        this.errors.push(msg);
        this.reject(n);
        return;
      }
    }
    let family: string;
    try {
      family = buildMetricName(m.name, m.unit, namerType(m), this.s.translationStrategy);
    } catch (err) {
      if (!(err instanceof OtlpTranslationError)) throw err;
      this.errors.push(err.message);
      this.reject(n);
      return;
    }
    if (n === 0) {
      this.warnings.push({ category: 'empty_data_points', message: `empty data points. ${m.name} is dropped` });
      return;
    }
    this.sink.metadata(family, metadataType(m), m.description, buildUnit(m.unit));
    let done = 0;
    try {
      switch (d.type) {
        case 'gauge':
          for (const p of d.points) {
            this.numberPoint(family, p, false);
            done++;
          }
          break;
        case 'sum':
          for (const p of d.points) {
            this.numberPoint(family, p, true);
            done++;
          }
          break;
        case 'histogram':
          for (const p of d.points) {
            if (this.s.convertHistogramsToNHCB) this.customBucketsPoint(family, p, d.temporality);
            else this.histogramPoint(family, p);
            done++;
          }
          break;
        case 'exponential_histogram':
          for (const p of d.points) {
            const { h, stale, warning } = expToNativeHistogram(p, d.temporality);
            if (warning) this.warnings.push({ category: 'histogram_zero_count_non_zero_sum', message: warning });
            const ls = this.attributes(p.attributes, RESERVED, '__name__', family);
            this.sink.histogram(ls, p.timeMs, h, stale, this.point++, this.exemplars(p.exemplars));
            done++;
          }
          break;
        case 'summary':
          for (const p of d.points) {
            const base = this.attributes(p.attributes, RESERVED);
            const stale = (p.flags & NO_RECORDED_VALUE) !== 0;
            const pt = this.point++;
            this.sink.sample(addLabels(family + '_sum', base), p.timeMs, p.sum, stale, pt, []);
            this.sink.sample(addLabels(family + '_count', base), p.timeMs, p.count, stale, pt, []);
            for (const q of p.quantiles)
              this.sink.sample(
                addLabels(family, base, 'quantile', formatFloatF(q.quantile)),
                p.timeMs,
                q.value,
                stale,
                pt,
                [],
              );
            done++;
          }
          break;
      }
    } catch (err) {
      if (!(err instanceof OtlpTranslationError)) throw err;
      // As in Prometheus, a point that cannot be translated ends its metric: the rest is not appended.
      this.errors.push(err.message);
      this.reject(n - done);
    }
  }

  /** addGaugeNumberDataPoints / addSumNumberDataPoints: only sums carry exemplars. */
  private numberPoint(family: string, p: NumberPoint, withExemplars: boolean): void {
    const ls = this.attributes(p.attributes, RESERVED, '__name__', family);
    const ex = withExemplars ? this.exemplars(p.exemplars) : [];
    this.sink.sample(ls, p.timeMs, p.value, (p.flags & NO_RECORDED_VALUE) !== 0, this.point++, ex);
  }

  /**
   * addHistogramDataPoints: `_sum` (when sent), `_count`, cumulative `_bucket{le}` per explicit bound and
   * `le="+Inf"` = count; exemplars go to the first bucket whose bound is not below them (they are taken
   * as sorted), the rest to +Inf.
   */
  private histogramPoint(family: string, p: HistogramPoint): void {
    const base = this.attributes(p.attributes, RESERVED);
    const stale = (p.flags & NO_RECORDED_VALUE) !== 0;
    const pt = this.point++;
    if (p.sum !== undefined) this.sink.sample(addLabels(family + '_sum', base), p.timeMs, p.sum, stale, pt, []);
    this.sink.sample(addLabels(family + '_count', base), p.timeMs, p.count, stale, pt, []);
    const ex = this.exemplars(p.exemplars);
    let next = 0;
    let cumulative = 0;
    for (const [i, bound] of p.explicitBounds.entries()) {
      const count = p.bucketCounts[i];
      // As in Prometheus, bounds without a bucket count are left out.
      if (count === undefined) break;
      cumulative += count;
      const start = next;
      for (let e = ex[next]; e !== undefined && e.value <= bound; e = ex[++next]);
      const ls = addLabels(family + '_bucket', base, 'le', formatFloatF(bound));
      this.sink.sample(ls, p.timeMs, cumulative, stale, pt, ex.slice(start, next));
    }
    const inf = addLabels(family + '_bucket', base, 'le', '+Inf');
    this.sink.sample(inf, p.timeMs, p.count, stale, pt, ex.slice(next));
  }

  /** addCustomBucketsHistogramDataPoints (convert_histograms_to_nhcb). */
  private customBucketsPoint(family: string, p: HistogramPoint, temporality: number): void {
    const { h, stale, warning } = explicitToCustomBuckets(p, temporality);
    if (warning) this.warnings.push({ category: 'histogram_zero_count_non_zero_sum', message: warning });
    const ls = this.attributes(p.attributes, RESERVED, '__name__', family);
    this.sink.histogram(ls, p.timeMs, h, stale, this.point++, this.exemplars(p.exemplars));
  }

  /** getPromExemplars: trace_id and span_id in hex, attributes only while all labels fit 128 runes. */
  private exemplars(list: readonly OtlpExemplar[]): TranslatedExemplar[] {
    if (list.length === 0) return [];
    const out: TranslatedExemplar[] = [];
    for (const e of list) {
      const pairs: [string, string][] = [];
      let runes = 0;
      if (e.traceId !== '') {
        runes += 8 + e.traceId.length;
        pairs.push(['trace_id', e.traceId]);
      }
      if (e.spanId !== '') {
        runes += 7 + e.spanId.length;
        pairs.push(['span_id', e.spanId]);
      }
      forEachPair(e.attributes, (k, v) => {
        runes += runeCount(k) + runeCount(v);
      });
      if (runes <= MAX_EXEMPLAR_RUNES) forEachPair(e.attributes, (k, v) => void pairs.push([k, v]));
      pairs.sort((a, b) => compareStrings(a[0], b[0]));
      out.push({ labels: pairs.flat(), value: e.value, timeMs: e.timeMs });
    }
    return out;
  }

  /**
   * createAttributes: point attributes sorted by key, names sanitized (values of keys that collide joined
   * with ';'), promoted resource attributes where not set, job and instance, scope labels, then extras.
   */
  private attributes(attrs: Attributes, ignore: readonly string[], ...extras: string[]): Labels {
    const pairs: [string, string][] = [];
    forEachPair(attrs, (k, v) => {
      if (!ignore.includes(k)) pairs.push([k, v]);
    });
    pairs.sort((a, b) => compareStrings(a[0], b[0]));
    const b = this.b;
    b.clear();
    if (this.utf8) for (const [k, v] of pairs) b.set(k, v);
    else
      for (const [k, v] of pairs) {
        const key = this.labelName(k);
        const existing = b.get(key);
        if (existing !== '') {
          this.collision(pairs, key);
          b.set(key, existing + ';' + v);
        } else b.set(key, v);
      }
    if (this.collisionSource === 'data point')
      forEachPair(this.promoted, (k, v) => {
        if (b.get(k) === '') b.set(k, v);
      });
    if (this.job !== '') b.set('job', this.job);
    if (this.instance !== '') b.set('instance', this.instance);
    if (this.scopeLabels && this.collisionSource === 'data point') forEachPair(this.scopeLabels, (k, v) => b.set(k, v));
    forEachPair(extras, (name, v) => {
      // Reserved names (__name__) are kept as they are, as createAttributes does.
      const reserved = name.length > 4 && name.startsWith('__') && name.endsWith('__');
      b.set(reserved ? name : this.labelName(name), v);
    });
    return b.labels();
  }

  private collision(pairs: readonly [string, string][], key: string): void {
    if (this.collisions.has(key)) return;
    this.collisions.add(key);
    const keys = pairs.filter(([k]) => this.labelName(k) === key).map(([k]) => JSON.stringify(k));
    this.warnings.push({
      category: 'label_name_collision',
      message:
        `OTLP ${this.collisionSource} attributes ${keys.join(', ')} collide as label ${JSON.stringify(key)} ` +
        "after name sanitization, values are concatenated with ';'",
    });
  }

  /**
   * addResourceTargetInfo: resource attributes as `target_info` (gauge 1) when the resource has more than
   * the identifying attributes and job or instance; identifying attributes left out unless
   * keep_identifying_resource_attributes; one sample every lookback/2 from the first to the last point
   * of the resource and one at the last, each (labels, timestamp) once per request.
   */
  private targetInfo(attrs: Attributes, earliest: number, latest: number): void {
    let nonIdentifying = attrs.length / 2;
    for (const k of IDENTIFYING) if (attr(attrs, k) !== undefined) nonIdentifying--;
    if (nonIdentifying === 0) return;
    const ignore = this.s.keepIdentifyingResourceAttributes ? [] : IDENTIFYING;
    this.collisionSource = 'resource';
    let ls: Labels;
    try {
      ls = this.attributes(attrs, ignore, '__name__', 'target_info');
    } finally {
      this.collisionSource = 'data point';
    }
    let identified = false;
    for (let i = 0; i < ls.length; i += 2) if (ls[i] === 'job' || ls[i] === 'instance') identified = true;
    if (!identified) return;
    this.sink.metadata('target_info', 'gauge', 'Target metadata', '');
    const interval = (this.s.lookbackDeltaMs > 0 ? this.s.lookbackDeltaMs : 5 * 60_000) / 2;
    const key = ls.join('\xff');
    const emit = (t: number) => {
      const k = `${key}\xfe${t}`;
      if (this.seenTargetInfo.has(k)) return;
      this.seenTargetInfo.add(k);
      this.sink.sample(ls, t, 1, false, -1, []);
    };
    for (let t = earliest; t < latest; t += interval) emit(t);
    emit(latest);
  }
}

function runeCount(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdbff) n++;
  }
  return n;
}
