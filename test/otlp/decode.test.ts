/**
 * The decoders on the encodings' corners: what the OTLP/JSON mapping allows besides the common form
 * (snake_case names, enum names, numbers for 64-bit integers, NaN as a string, base64 bytes), what the
 * protobuf wire allows (unpacked repeated fields, unknown fields, fields in any order), and attribute
 * values turned into text as the Go collector's AsString does.
 */
import test from 'ava';
import { decodeJsonRequest } from '../../src/otlp/decode-json.ts';
import { decodeProtoRequest } from '../../src/otlp/decode-proto.ts';
import { DEFAULT_DECODE_LIMITS, type HistogramPoint, type NumberPoint } from '../../src/otlp/model.ts';
import { kv, oneResource, otlpJson, otlpProto } from '../helpers/otlp.ts';

const L = DEFAULT_DECODE_LIMITS;

test('JSON: snake_case field names, enum names, integers as numbers, NaN as a string', (t) => {
  const req = decodeJsonRequest(
    JSON.stringify({
      resource_metrics: [
        {
          scope_metrics: [
            {
              metrics: [
                {
                  name: 's',
                  sum: {
                    aggregation_temporality: 'AGGREGATION_TEMPORALITY_CUMULATIVE',
                    is_monotonic: true,
                    data_points: [{ time_unix_nano: 1_700_000_000_123_456_800, as_int: 7 }],
                  },
                },
                { name: 'g', gauge: { dataPoints: [{ timeUnixNano: '1700000000999999999', asDouble: 'NaN' }] } },
              ],
            },
          ],
        },
      ],
    }),
    L,
  );
  const [s, g] = req.resources[0]?.scopes[0]?.metrics ?? [];
  t.is(s?.data?.type, 'sum');
  t.is(s?.data && 'temporality' in s.data ? s.data.temporality : -1, 2);
  const sp = s?.data?.points[0] as NumberPoint;
  t.is(sp.value, 7);
  t.is(sp.timeMs, 1_700_000_000_123);
  const gp = g?.data?.points[0] as NumberPoint;
  t.true(Number.isNaN(gp.value));
  t.is(gp.timeMs, 1_700_000_000_999, 'nanoseconds are cut, not rounded');
  t.is(req.points, 2);
});

test('attribute values as text: int64 exact, doubles as ECMAScript/Go JSON, bytes base64, arrays and maps as Go JSON', (t) => {
  const attrs = kv({
    i: { intValue: '-9223372036854775808' },
    d: { doubleValue: 1.5e21 },
    small: { doubleValue: 0.000001 },
    b: { bytesValue: Buffer.from('hi<').toString('base64') },
    arr: { arrayValue: { values: [{ stringValue: 'a<b' }, { intValue: '9007199254740993' }, { boolValue: false }] } },
    map: {
      kvlistValue: {
        values: [
          { key: 'z', value: { doubleValue: 2 } },
          { key: 'a', value: {} },
        ],
      },
    },
    empty: {},
  });
  const want = [
    'i',
    '-9223372036854775808',
    'd',
    '1.5e+21',
    'small',
    '0.000001',
    'b',
    'aGk8',
    'arr',
    '["a\\u003cb",9007199254740993,false]',
    'map',
    '{"a":null,"z":2}',
    'empty',
    '',
  ];
  const body = oneResource({}, []);
  (body.resourceMetrics[0] as { resource: { attributes: unknown } }).resource.attributes = attrs;
  t.deepEqual(decodeJsonRequest(otlpJson(body), L).resources[0]?.attributes, want, 'JSON');
  t.deepEqual(decodeProtoRequest(otlpProto(body), L).resources[0]?.attributes, want, 'protobuf');
});

/** Protobuf by hand (field numbers below 16, so a tag is one byte): a tag, then the value bytes. */
const tag = (field: number, wire: number) => Buffer.from([(field << 3) | wire]);
const len = (field: number, body: Buffer) => Buffer.concat([tag(field, 2), Buffer.from([body.length]), body]);
const fixed64 = (field: number, v: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(v);
  return Buffer.concat([tag(field, 1), b]);
};
const double = (field: number, v: number) => {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(v);
  return Buffer.concat([tag(field, 1), b]);
};

test('protobuf: unpacked repeated fields, unknown fields skipped, fields in any order', (t) => {
  const point = Buffer.concat([
    double(7, 0.5), // explicit_bounds, one by one
    fixed64(6, 1n), // bucket_counts, one by one
    fixed64(6, 2n),
    tag(15, 0), // an unknown varint field 15 ...
    Buffer.from([0x96, 0x01]),
    len(14, Buffer.from('unknown')), // ... and an unknown length-delimited one
    fixed64(4, 3n), // count
    fixed64(3, 1_700_000_000_000_000_000n), // time_unix_nano after the rest
  ]);
  const hist = Buffer.concat([len(1, point), tag(2, 0), Buffer.from([2])]);
  const metric = Buffer.concat([len(9, hist), len(1, Buffer.from('h'))]);
  const req = len(1, len(2, len(2, metric)));
  const r = decodeProtoRequest(req, L);
  const m = r.resources[0]?.scopes[0]?.metrics[0];
  t.is(m?.name, 'h');
  const p = m?.data?.points[0] as HistogramPoint;
  t.deepEqual([...p.bucketCounts], [1, 2]);
  t.deepEqual([...p.explicitBounds], [0.5]);
  t.is(p.count, 3);
  t.is(p.timeMs, 1_700_000_000_000);
  t.is(p.sum, undefined, 'the optional sum was not sent');
});

test('limits: too many attributes in one set, an oversized key, deep nesting', (t) => {
  const many = kv(Object.fromEntries(Array.from({ length: 513 }, (_, i) => [`k${i}`, 'v'])));
  const body = oneResource({}, [{ name: 'g', gauge: { dataPoints: [{ attributes: many }] } }]);
  t.throws(() => decodeProtoRequest(otlpProto(body), L), {
    message:
      'invalid protobuf at resource_metrics[0].scope_metrics[0].metrics[0].gauge.data_points[0]: ' +
      'attributes: more than 512 attributes in one set',
  });
  let deep: unknown = { stringValue: 'x' };
  for (let i = 0; i < 40; i++) deep = { arrayValue: { values: [deep] } };
  const nested = oneResource({ n: deep }, []);
  t.throws(() => decodeJsonRequest(otlpJson(nested), L), { message: /values nested more than 32 deep/ });
  t.throws(() => decodeProtoRequest(otlpProto(nested), L), { message: /values nested more than 32 deep/ });
});

test("JSON: an enum name that is not OTLP's (even one every JS object has) is a clear error", (t) => {
  for (const name of ['toString', '__proto__', 'CUMULATIVE']) {
    const body = JSON.stringify({
      resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 's', sum: { aggregationTemporality: name } }] }] }],
    });
    t.throws(() => decodeJsonRequest(body, L), {
      message: new RegExp(`sum\\.aggregationTemporality: expected an aggregation temporality .*"${name}"`),
    });
  }
});
