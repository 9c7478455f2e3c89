/**
 * Golden translation tables: an OTLP request, sent once as protobuf and once as OTLP/JSON, must give
 * exactly the series, samples, exemplars and metadata listed. Each case cites the Prometheus 3.x rule
 * it copies (storage/remote/otlptranslator/prometheusremotewrite/*.go, prometheus/otlptranslator v1.0.0).
 */
import test from 'ava';
import { decodeJsonRequest } from '../../src/otlp/decode-json.ts';
import { decodeProtoRequest } from '../../src/otlp/decode-proto.ts';
import { DEFAULT_DECODE_LIMITS } from '../../src/otlp/model.ts';
import { DEFAULT_OTLP_CONFIG } from '../../src/config/otlp.ts';
import { otlpSettings } from '../../src/otlp/settings.ts';
import { translate, type OtlpSettings, type TranslationResult } from '../../src/otlp/translate.ts';
import { labelsToString } from '../../src/util/labels.ts';
import { kv, nanos, oneResource, otlpJson, otlpProto, type OtlpJsonRequest } from '../helpers/otlp.ts';

const T = 1_700_000_000_000;
const HINTS = ['unknown', 'reset', 'not_reset', 'gauge'];
const RES = { 'service.name': 'api', 'service.namespace': 'shop', 'service.instance.id': 'i-1', 'host.name': 'h1' };
const ID = 'instance="i-1", job="shop/api"';
const TRACE = '0102030405060708090a0b0c0d0e0f10';
const SPAN = '1112131415161718';

interface Out {
  series: string[];
  metadata: string[];
  result: TranslationResult;
}

function run(req: OtlpJsonRequest, settings: Partial<OtlpSettings>, encoding: 'proto' | 'json'): Out {
  const decoded =
    encoding === 'proto'
      ? decodeProtoRequest(otlpProto(req), DEFAULT_DECODE_LIMITS)
      : decodeJsonRequest(otlpJson(req), DEFAULT_DECODE_LIMITS);
  const series: string[] = [];
  const metadata: string[] = [];
  const ex = (list: readonly { labels: readonly string[]; value: number; timeMs: number }[]) =>
    list.map((e) => ` # ${labelsToString(e.labels)} ${e.value}${e.timeMs ? ' ' + e.timeMs : ''}`).join('');
  const result = translate(
    decoded,
    { ...otlpSettings(DEFAULT_OTLP_CONFIG, false), ...settings },
    {
      sample: (ls, t, v, stale, _p, e) => series.push(`${labelsToString(ls)} ${t - T} ${stale ? 'stale' : v}${ex(e)}`),
      histogram: (ls, t, h, stale, _p, e) =>
        series.push(
          `${labelsToString(ls)} ${t - T} H schema=${h.schema} count=${h.count} sum=${h.sum} zc=${h.zeroCount} ` +
            `pos=${JSON.stringify(h.positiveSpans)}${JSON.stringify(h.positiveBuckets)} ` +
            `neg=${JSON.stringify(h.negativeSpans)}${JSON.stringify(h.negativeBuckets)} ` +
            `cv=${JSON.stringify(h.customValues ?? [])} hint=${HINTS[h.counterResetHint]}${stale ? ' stale' : ''}${ex(e)}`,
        ),
      metadata: (f, type, help, unit) => metadata.push(`${f} ${type} "${help}" "${unit}"`),
    },
  );
  return { series, metadata, result };
}

interface Case {
  name: string;
  /** The 3.x rule this case copies. */
  rule: string;
  req: OtlpJsonRequest;
  settings?: Partial<OtlpSettings>;
  series: string[];
  metadata?: string[];
  errors?: string[];
  rejected?: number;
  warnings?: string[];
}

const sum = (name: string, unit: string, points: unknown[], monotonic = true, temporality = 2) => ({
  name,
  unit,
  description: `${name} help`,
  sum: { dataPoints: points, aggregationTemporality: temporality, isMonotonic: monotonic },
});
const gauge = (name: string, unit: string, points: unknown[]) => ({ name, unit, gauge: { dataPoints: points } });
const pt = (value: number | string, attrs: Record<string, unknown> = {}, t = T, extra: object = {}) => ({
  attributes: kv(attrs),
  timeUnixNano: nanos(t),
  ...(typeof value === 'string' ? { asInt: value } : { asDouble: value }),
  ...extra,
});
const targetInfo = `{__name__="target_info", host_name="h1", ${ID}} 0 1`;

const tables: Record<string, Case[]> = {
  sums: [
    {
      name: 'monotonic cumulative sum: counter with _total, unit annotation dropped, job/instance, target_info',
      rule: 'metrics_to_prw.go FromMetrics + otlptranslator normalizeName (_total for MonotonicCounter; {…} units ignored); helper.go createAttributes (job = namespace/name, instance = service.instance.id), addResourceTargetInfo',
      req: oneResource(RES, [sum('http.server.requests', '{request}', [pt('7', { 'http.method': 'GET' })])]),
      series: [`{__name__="http_server_requests_total", http_method="GET", ${ID}} 0 7`, targetInfo],
      metadata: [
        'http_server_requests_total counter "http.server.requests help" ""',
        'target_info gauge "Target metadata" ""',
      ],
    },
    {
      name: 'non-monotonic sum: gauge, unit suffix from the unit map',
      rule: 'otlp_to_openmetrics_metadata.go (non-monotonic sum = gauge); metric_namer.go unitMap By = bytes',
      req: oneResource(RES, [sum('queue.size', 'By', [pt(12.5)], false)]),
      series: [`{__name__="queue_size_bytes", ${ID}} 0 12.5`, targetInfo],
      metadata: ['queue_size_bytes gauge "queue.size help" "bytes"', 'target_info gauge "Target metadata" ""'],
    },
    {
      name: 'delta sum is refused without the delta feature, with a message',
      rule: 'metrics_to_prw.go FromMetrics: invalid temporality and type combination unless AllowDeltaTemporality',
      req: oneResource(RES, [sum('jobs.done', '', [pt('3'), pt('4', { a: 'b' })], true, 1)]),
      series: [targetInfo],
      errors: [
        'invalid temporality and type combination for metric "jobs.done" ' +
          '(deltas are accepted with --enable-feature=otlp-deltatocumulative or otlp-native-delta-ingestion)',
      ],
      rejected: 2,
    },
    {
      name: 'delta sum with otlp-native-delta-ingestion: stored as is, metadata type unknown',
      rule: 'write_otlp_handler.go NativeDelta → AllowDeltaTemporality; otelMetricTypeToPromMetricType (delta = unknown)',
      req: oneResource(RES, [sum('jobs.done', '', [pt('3')], true, 1)]),
      settings: { allowDeltaTemporality: true },
      series: [`{__name__="jobs_done_total", ${ID}} 0 3`, targetInfo],
      metadata: ['jobs_done_total unknown "jobs.done help" ""', 'target_info gauge "Target metadata" ""'],
    },
    {
      name: 'unspecified temporality is refused',
      rule: 'metrics_to_prw.go FromMetrics: only cumulative (or delta when allowed) is valid',
      req: oneResource(RES, [sum('x', '', [pt(1)], true, 0)]),
      series: [targetInfo],
      errors: ['invalid temporality and type combination for metric "x"'],
      rejected: 1,
    },
    {
      name: 'exemplar on a sum: trace_id and span_id in hex plus its attributes',
      rule: 'helper.go getPromExemplars; number_data_points.go addSumNumberDataPoints',
      req: oneResource({ 'service.name': 'api' }, [
        sum('req', '', [
          pt(5, {}, T, {
            exemplars: [
              {
                asDouble: 0.3,
                timeUnixNano: nanos(T - 5),
                traceId: TRACE,
                spanId: SPAN,
                filteredAttributes: kv({ user: 'u' }),
              },
            ],
          }),
        ]),
      ]),
      series: [
        `{__name__="req_total", job="api"} 0 5 # {span_id="${SPAN}", trace_id="${TRACE}", user="u"} 0.3 ${T - 5}`,
      ],
    },
    {
      name: 'no recorded value: a stale marker',
      rule: 'number_data_points.go: Flags().NoRecordedValue() → value.StaleNaN',
      req: oneResource({ 'service.name': 'api' }, [sum('req', '', [pt(5, {}, T, { flags: 1 })])]),
      series: ['{__name__="req_total", job="api"} 0 stale'],
    },
  ],
  gauges: [
    {
      name: 'unit "1" on a gauge: _ratio',
      rule: 'otlptranslator normalizeName: _ratio for gauges with unit 1',
      req: oneResource({ 'service.name': 'api' }, [gauge('cpu.utilization', '1', [pt(0.25)])]),
      series: ['{__name__="cpu_utilization_ratio", job="api"} 0 0.25'],
      metadata: ['cpu_utilization_ratio gauge "" ""'],
    },
    {
      name: 'label names: dots, leading digit, leading underscore; colliding keys joined with ;',
      rule: 'otlptranslator LabelNamer.Build (key_ prefix, underscore sanitization); helper.go createAttributes collisions',
      req: oneResource({ 'service.name': 'api' }, [
        gauge('temp', 'Cel', [pt(21, { 'a.b': 'x', a_b: 'y', '1x': 'd', _p: 'u', job: 'ignored' })]),
      ]),
      series: ['{__name__="temp_celsius", a_b="x;y", job="api", key_1x="d", key_p="u"} 0 21'],
      warnings: [
        `OTLP data point attributes "a.b", "a_b" collide as label "a_b" after name sanitization, values are concatenated with ';'`,
      ],
    },
    {
      name: 'name starting with a digit gets a leading underscore; int, bool and double attribute values as text',
      rule: 'otlptranslator normalizeName; pcommon Value.AsString',
      req: oneResource({ 'service.name': 'api' }, [
        gauge('2xx.rate', '', [
          pt('3', { n: { intValue: '-9007199254740993' }, ok: { boolValue: true }, f: { doubleValue: 1e-7 } }),
        ]),
      ]),
      series: ['{__name__="_2xx_rate", f="1e-7", job="api", n="-9007199254740993", ok="true"} 0 3'],
    },
    {
      name: 'promote_resource_attributes: on every series, point attributes win',
      rule: 'metrics_to_prw.go addPromotedAttributes; helper.go createAttributes (promoted only where unset)',
      req: oneResource(RES, [gauge('g', '', [pt(1, { region: 'point' })])]),
      settings: { promoteResourceAttributes: ['host.name', 'region'] },
      series: [`{__name__="g", host_name="h1", ${ID}, region="point"} 0 1`, targetInfo],
    },
    {
      name: 'promote_all_resource_attributes with ignore_resource_attributes',
      rule: 'metrics_to_prw.go NewPromoteResourceAttributes (promote all minus ignored)',
      req: oneResource({ 'service.name': 'api', 'host.name': 'h1', 'os.type': 'linux' }, [gauge('g', '', [pt(1)])]),
      settings: { promoteAllResourceAttributes: true, ignoreResourceAttributes: ['os.type'] },
      series: [
        '{__name__="g", host_name="h1", job="api", service_name="api"} 0 1',
        '{__name__="target_info", host_name="h1", job="api", os_type="linux"} 0 1',
      ],
    },
    {
      name: 'promote_scope_metadata: otel_scope_* labels, not on target_info',
      rule: 'metrics_to_prw.go setScopeContext; helper.go addResourceTargetInfo clears scope labels',
      req: oneResource(RES, [gauge('g', '', [pt(1)])], { name: 'lib', version: '1.2', attributes: kv({ tier: 'x' }) }),
      settings: { promoteScopeMetadata: true },
      series: [
        `{__name__="g", ${ID}, otel_scope_name="lib", otel_scope_tier="x", otel_scope_version="1.2"} 0 1`,
        targetInfo,
      ],
    },
  ],
  histograms: [
    {
      name: 'classic histogram: cumulative buckets, +Inf = count, _sum and _count; exemplars by bucket',
      rule: 'helper.go addHistogramDataPoints (exemplars go to the first bucket whose bound is not below them)',
      req: oneResource({ 'service.name': 'api' }, [
        {
          name: 'http.server.duration',
          unit: 's',
          histogram: {
            aggregationTemporality: 2,
            dataPoints: [
              {
                timeUnixNano: nanos(T),
                count: '6',
                sum: 3.5,
                bucketCounts: ['1', '2', '3'],
                explicitBounds: [0.1, 1],
                exemplars: [
                  { asDouble: 0.05, traceId: TRACE },
                  { asDouble: 5, spanId: SPAN },
                ],
              },
            ],
          },
        },
      ]),
      series: [
        '{__name__="http_server_duration_seconds_sum", job="api"} 0 3.5',
        '{__name__="http_server_duration_seconds_count", job="api"} 0 6',
        `{__name__="http_server_duration_seconds_bucket", job="api", le="0.1"} 0 1 # {trace_id="${TRACE}"} 0.05`,
        '{__name__="http_server_duration_seconds_bucket", job="api", le="1"} 0 3',
        `{__name__="http_server_duration_seconds_bucket", job="api", le="+Inf"} 0 6 # {span_id="${SPAN}"} 5`,
      ],
      metadata: ['http_server_duration_seconds histogram "" "seconds"'],
    },
    {
      name: 'histogram without sum has no _sum series',
      rule: 'helper.go addHistogramDataPoints: HasSum() false omits _sum',
      req: oneResource({ 'service.name': 'api' }, [
        {
          name: 'size',
          unit: 'By',
          histogram: {
            aggregationTemporality: 2,
            dataPoints: [{ timeUnixNano: nanos(T), count: '2', bucketCounts: ['2'], explicitBounds: [] }],
          },
        },
      ]),
      series: [
        '{__name__="size_bytes_count", job="api"} 0 2',
        '{__name__="size_bytes_bucket", job="api", le="+Inf"} 0 2',
      ],
    },
    {
      name: 'convert_histograms_to_nhcb: custom buckets, leading empty buckets skipped',
      rule: 'histograms.go explicitHistogramToCustomBucketsHistogram (schema -53, bounds as custom values)',
      req: oneResource({ 'service.name': 'api' }, [
        {
          name: 'lat',
          unit: 'ms',
          histogram: {
            aggregationTemporality: 2,
            dataPoints: [
              { timeUnixNano: nanos(T), count: '5', sum: 9, bucketCounts: ['0', '2', '3'], explicitBounds: [1, 10] },
            ],
          },
        },
      ]),
      settings: { convertHistogramsToNHCB: true },
      series: [
        '{__name__="lat_milliseconds", job="api"} 0 H schema=-53 count=5 sum=9 zc=0 pos=[{"offset":1,"length":2}][2,1] neg=[][] cv=[1,10] hint=unknown',
      ],
    },
    {
      name: 'exponential histogram: native histogram, OTLP bucket index + 1, gaps over two open a span',
      rule: 'histograms.go exponentialToNativeHistogram / convertBucketsLayout',
      req: oneResource({ 'service.name': 'api' }, [
        {
          name: 'lat',
          unit: 's',
          exponentialHistogram: {
            aggregationTemporality: 2,
            dataPoints: [
              {
                timeUnixNano: nanos(T),
                count: '8',
                sum: 20,
                scale: 0,
                zeroCount: '2',
                positive: { offset: 0, bucketCounts: ['1', '2', '0', '0', '0', '3'] },
              },
            ],
          },
        },
      ]),
      series: [
        '{__name__="lat_seconds", job="api"} 0 H schema=0 count=8 sum=20 zc=2 pos=[{"offset":1,"length":2},{"offset":3,"length":1}][1,1,1] neg=[][] cv=[] hint=unknown',
      ],
    },
    {
      name: 'exponential histogram above scale 8: buckets merged down to schema 8',
      rule: 'histograms.go exponentialToNativeHistogram (scaleDown = scale - 8)',
      req: oneResource({ 'service.name': 'api' }, [
        {
          name: 'lat',
          unit: '',
          exponentialHistogram: {
            aggregationTemporality: 1,
            dataPoints: [
              {
                timeUnixNano: nanos(T),
                count: '4',
                scale: 9,
                positive: { offset: -2, bucketCounts: ['1', '1', '1', '1'] },
              },
            ],
          },
        },
      ]),
      settings: { allowDeltaTemporality: true },
      series: [
        '{__name__="lat", job="api"} 0 H schema=8 count=4 sum=0 zc=0 pos=[{"offset":0,"length":2}][2,0] neg=[][] cv=[] hint=gauge',
      ],
    },
  ],
  summaries: [
    {
      name: 'summary: quantile series, _sum and _count',
      rule: 'helper.go addSummaryDataPoints (quantile formatted with strconv f -1)',
      req: oneResource({ 'service.name': 'api' }, [
        {
          name: 'rpc.latency',
          unit: 'ms',
          summary: {
            dataPoints: [
              {
                timeUnixNano: nanos(T),
                count: '10',
                sum: 55,
                quantileValues: [
                  { quantile: 0.5, value: 4 },
                  { quantile: 0.99, value: 9 },
                ],
              },
            ],
          },
        },
      ]),
      series: [
        '{__name__="rpc_latency_milliseconds_sum", job="api"} 0 55',
        '{__name__="rpc_latency_milliseconds_count", job="api"} 0 10',
        '{__name__="rpc_latency_milliseconds", job="api", quantile="0.5"} 0 4',
        '{__name__="rpc_latency_milliseconds", job="api", quantile="0.99"} 0 9',
      ],
      metadata: ['rpc_latency_milliseconds summary "" "milliseconds"'],
    },
  ],
  strategies: [
    {
      name: 'UnderscoreEscapingWithoutSuffixes: escaped, no unit or _total',
      rule: 'otlptranslator buildCompliantMetricName without suffixes',
      req: oneResource({ 'service.name': 'api' }, [
        sum('http.server.requests', 's', [pt(1, { 'http.method': 'GET' })]),
      ]),
      settings: { translationStrategy: 'UnderscoreEscapingWithoutSuffixes' },
      series: ['{__name__="http_server_requests", http_method="GET", job="api"} 0 1'],
    },
    {
      name: 'NoUTF8EscapingWithSuffixes: names kept, suffixes appended',
      rule: 'otlptranslator buildMetricName (unit, then _total); LabelNamer with UTF8Allowed',
      req: oneResource({ 'service.name': 'api' }, [
        sum('http.server.requests', 's', [pt(1, { 'http.method': 'GET' })]),
      ]),
      settings: { translationStrategy: 'NoUTF8EscapingWithSuffixes' },
      series: ['{__name__="http.server.requests_seconds_total", "http.method"="GET", job="api"} 0 1'],
    },
    {
      name: 'NoUTF8EscapingWithSuffixes: an existing _total is not doubled',
      rule: 'otlptranslator buildMetricName trimSuffixAndDelimiter',
      req: oneResource({ 'service.name': 'api' }, [sum('jobs_total', '', [pt(1)])]),
      settings: { translationStrategy: 'NoUTF8EscapingWithSuffixes' },
      series: ['{__name__="jobs_total", job="api"} 0 1'],
    },
    {
      name: 'NoTranslation: names and labels as sent',
      rule: 'strategy.go NoTranslation (no escaping, no suffixes)',
      req: oneResource({ 'service.name': 'api' }, [gauge('cpu.utilization', '1', [pt(1, { 'k.8s': 'v' })])]),
      settings: { translationStrategy: 'NoTranslation' },
      series: ['{__name__="cpu.utilization", job="api", "k.8s"="v"} 0 1'],
    },
  ],
  errors: [
    {
      name: 'a metric without a name is refused with its points',
      rule: 'otlptranslator buildCompliantMetricName: "normalization ... resulted in empty name"',
      req: oneResource({ 'service.name': 'api' }, [gauge('', '', [pt(1), pt(2)]), gauge('ok', '', [pt(3)])]),
      series: ['{__name__="ok", job="api"} 0 3'],
      errors: ['metric name is empty'],
      rejected: 2,
    },
    {
      name: 'a name of underscores only is refused',
      rule: 'otlptranslator buildCompliantMetricName: "resulted in invalid name"',
      req: oneResource({ 'service.name': 'api' }, [gauge('...', '', [pt(1)])]),
      series: [],
      errors: ['normalization for metric "..." resulted in empty name'],
      rejected: 1,
    },
    {
      name: 'a metric without data is refused',
      rule: 'metrics_to_prw.go FromMetrics: "unsupported metric type"',
      req: oneResource({ 'service.name': 'api' }, [{ name: 'nodata' }]),
      series: [],
      errors: ['unsupported metric type'],
    },
  ],
  target_info: [
    {
      name: 'only identifying attributes: no target_info',
      rule: 'helper.go addResourceTargetInfo (nonIdentifyingAttrsCount == 0)',
      req: oneResource({ 'service.name': 'api', 'service.instance.id': 'i' }, [gauge('g', '', [pt(1)])]),
      series: ['{__name__="g", instance="i", job="api"} 0 1'],
    },
    {
      name: 'keep_identifying_resource_attributes: they stay on target_info',
      rule: 'helper.go addResourceTargetInfo (KeepIdentifyingResourceAttributes)',
      req: oneResource(RES, [gauge('g', '', [pt(1)])]),
      settings: { keepIdentifyingResourceAttributes: true },
      series: [
        `{__name__="g", ${ID}} 0 1`,
        `{__name__="target_info", host_name="h1", ${ID}, service_instance_id="i-1", service_name="api", service_namespace="shop"} 0 1`,
      ],
    },
    {
      name: 'no job or instance: no target_info',
      rule: 'helper.go addResourceTargetInfo (haveIdentifier)',
      req: oneResource({ 'host.name': 'h1' }, [gauge('g', '', [pt(1)])]),
      series: ['{__name__="g"} 0 1'],
    },
    {
      name: 'points ten minutes apart: target_info every lookback/2 and at the last point',
      rule: 'helper.go addResourceTargetInfo (interval = LookbackDelta / 2, final sample at latest)',
      req: oneResource(RES, [gauge('g', '', [pt(1), pt(2, {}, T + 600_000)])]),
      series: [
        `{__name__="g", ${ID}} 0 1`,
        `{__name__="g", ${ID}} 600000 2`,
        targetInfo,
        `{__name__="target_info", host_name="h1", ${ID}} 150000 1`,
        `{__name__="target_info", host_name="h1", ${ID}} 300000 1`,
        `{__name__="target_info", host_name="h1", ${ID}} 450000 1`,
        `{__name__="target_info", host_name="h1", ${ID}} 600000 1`,
      ],
    },
  ],
};

for (const [table, cases] of Object.entries(tables))
  for (const c of cases)
    for (const encoding of ['proto', 'json'] as const)
      test(`${table} (${encoding}): ${c.name}`, (t) => {
        const out = run(c.req, c.settings ?? {}, encoding);
        t.deepEqual(out.series, c.series, c.rule);
        if (c.metadata) t.deepEqual(out.metadata, c.metadata, c.rule);
        t.deepEqual(out.result.errors, c.errors ?? [], c.rule);
        t.is(out.result.rejectedPoints, c.rejected ?? 0, c.rule);
        if (c.warnings)
          t.deepEqual(
            out.result.warnings.map((w) => w.message),
            c.warnings,
            c.rule,
          );
      });
