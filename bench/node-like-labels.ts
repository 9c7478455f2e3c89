import { labelsFromRecord, type Labels } from '../src/util/labels.ts';
import { at } from '../test/helpers/defined.ts';

const MODES = ['idle', 'user', 'system', 'iowait'] as const;

/** Label set i of the remote-write benchmarks: node_exporter-like, ~8 labels, 150 metric names. */
export function nodeLikeLabels(i: number): Labels {
  return labelsFromRecord({
    __name__: `node_metric_${i % 150}_total`,
    job: 'node',
    instance: 'edge-box-01.example.internal:9100',
    cpu: String(i % 16),
    mode: at(MODES, i % MODES.length, 'modes'),
    device: `sd${String.fromCharCode(97 + (i % 8))}`,
    site: 'edge1',
    series: String(i),
  });
}
