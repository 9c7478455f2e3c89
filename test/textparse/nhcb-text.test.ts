import test from 'ava';
import { createParser } from '../../src/textparse/parser.ts';
import { NHCB, NHCB_AND_CLASSIC } from '../fixtures/protobuf/corpus.ts';
import { parseAll } from './helpers.ts';

const TEXT = 'text/plain; version=0.0.4';
const OM = 'application/openmetrics-text; version=1.0.0';

const BODY = `# HELP lat Latency.
# TYPE lat histogram
lat_bucket{path="/a",le="0.1"} 1
lat_bucket{path="/a",le="1"} 3
lat_bucket{path="/a",le="+Inf"} 4
lat_sum{path="/a"} 2.5
lat_count{path="/a"} 4
lat_bucket{path="/b",le="0.1"} 0
lat_bucket{path="/b",le="1"} 2
lat_bucket{path="/b",le="+Inf"} 2
lat_sum{path="/b"} 1
lat_count{path="/b"} 2
# TYPE up_total counter
up_total 7
`;

test('text: each classic histogram becomes one NHCB, emitted when the next metric starts; classic parts dropped', (t) => {
  t.deepEqual(parseAll(createParser(TEXT, undefined, { histograms: NHCB }), BODY), [
    'HELP lat "Latency."',
    'TYPE lat histogram',
    // per bucket 1, 2, 1 -> deltas 1, 1, -1
    'HISTOGRAM {__name__="lat", path="/a"} int schema=-53 count=4 sum=2.5 pos=[0:3][1,1,-1] bounds=[0.1,1]',
    // per bucket 0, 2, 0 -> only the middle one stays
    'HISTOGRAM {__name__="lat", path="/b"} int schema=-53 count=2 sum=1 pos=[1:1][2] bounds=[0.1,1]',
    'TYPE up_total counter',
    'SERIES {__name__="up_total"} 7',
  ]);
});

test('text: with always_scrape_classic_histograms the classic series come too, the NHCB after them', (t) => {
  const out = parseAll(createParser(TEXT, undefined, { histograms: NHCB_AND_CLASSIC }), BODY);
  t.deepEqual(out.slice(0, 8), [
    'HELP lat "Latency."',
    'TYPE lat histogram',
    'SERIES {__name__="lat_bucket", path="/a", le="0.1"} 1',
    // The text parser writes le in one float form, as 3.x does.
    'SERIES {__name__="lat_bucket", path="/a", le="1.0"} 3',
    'SERIES {__name__="lat_bucket", path="/a", le="+Inf"} 4',
    'SERIES {__name__="lat_sum", path="/a"} 2.5',
    'SERIES {__name__="lat_count", path="/a"} 4',
    'HISTOGRAM {__name__="lat", path="/a"} int schema=-53 count=4 sum=2.5 pos=[0:3][1,1,-1] bounds=[0.1,1]',
  ]);
  t.is(out.length, 16);
  t.is(out[13], 'HISTOGRAM {__name__="lat", path="/b"} int schema=-53 count=2 sum=1 pos=[1:1][2] bounds=[0.1,1]');
});

test('text: untyped, gauge and summary families are not converted; a broken histogram yields no NHCB', (t) => {
  const body = `lat_bucket{le="1"} 1
lat_count 1
# TYPE g gauge
g_bucket{le="1"} 1
# TYPE bad histogram
bad_bucket{le="1"} 5
bad_bucket{le="2"} 3
bad_count 5
# TYPE s summary
s_count 1
`;
  t.deepEqual(parseAll(createParser(TEXT, undefined, { histograms: NHCB }), body), [
    'SERIES {__name__="lat_bucket", le="1"} 1',
    'SERIES {__name__="lat_count"} 1',
    'TYPE g gauge',
    'SERIES {__name__="g_bucket", le="1"} 1',
    'TYPE bad histogram',
    // Not cumulative: Prometheus' NHCB parser drops the parts and emits nothing.
    'TYPE s summary',
    'SERIES {__name__="s_count"} 1',
  ]);
});

test('OpenMetrics: exemplars with a timestamp go with the NHCB, in time order; _created passes through', (t) => {
  const body = `# TYPE rpc histogram
rpc_bucket{le="0.5"} 2 # {id="late"} 0.4 20
rpc_bucket{le="1.0"} 3 # {id="no-ts"} 0.9
rpc_bucket{le="+Inf"} 3 # {id="early"} 0.2 10
rpc_count 3
rpc_sum 1.5
rpc_created 100
# EOF
`;
  t.deepEqual(parseAll(createParser(OM, undefined, { histograms: NHCB }), body), [
    'TYPE rpc histogram',
    'HISTOGRAM {__name__="rpc"} int schema=-53 count=3 sum=1.5 pos=[0:2][2,-1] bounds=[0.5,1] ' +
      '# {id="early"} 0.2 @10000 # {id="late"} 0.4 @20000',
    'SERIES {__name__="rpc_created"} 100',
  ]);
});
