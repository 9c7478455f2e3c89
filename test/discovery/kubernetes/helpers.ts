import { KubernetesDiscoverer } from '../../../src/discovery/kubernetes/discoverer.ts';
import type { TargetGroup } from '../../../src/config/types.ts';
import { createLogger } from '../../../src/log/logger.ts';
import { systemClock } from '../../../src/util/clock.ts';
import { seededRandom } from '../../../src/util/random.ts';
import { newMetrics, scrapeConfigs } from '../helpers.ts';

/** A group as plain records: what the label-set assertions compare. */
export interface PlainGroup {
  source: string;
  labels: Record<string, string>;
  targets: Record<string, string>[];
}

function rec(ls: readonly string[]): Record<string, string> {
  const r: Record<string, string> = {};
  for (let i = 0; i < ls.length; i += 2) r[ls[i] as string] = ls[i + 1] as string;
  return r;
}

export function plainGroups(groups: readonly TargetGroup[]): PlainGroup[] {
  return groups
    .map((g) => ({
      source: g.source,
      labels: rec(g.labels),
      targets: (g.targetLabels ?? g.targets.map((a) => ['__address__', a])).map(rec),
    }))
    .sort((a, b) => a.source.localeCompare(b.source));
}

/** A discoverer for the first kubernetes_sd_configs entry of a job written in YAML (indented under the job). */
export function discoverer(
  sdYaml: string,
  opts: { minWatchTimeoutS?: number; pageSize?: number } = {},
): { d: KubernetesDiscoverer; reg: ReturnType<typeof newMetrics>['reg'] } {
  const cfg = scrapeConfigs(`scrape_configs:\n  - job_name: k8s\n    kubernetes_sd_configs:\n${sdYaml}`)[0];
  const sd = cfg?.kubernetesSdConfigs[0];
  if (!sd) throw new Error('no kubernetes_sd_configs in the YAML');
  const { reg, metrics } = newMetrics();
  const d = new KubernetesDiscoverer({
    config: sd,
    log: createLogger({ level: 'error', write: () => {} }),
    metrics,
    clock: systemClock,
    userAgent: 'outpost-test',
    random: seededRandom(1),
    minWatchTimeoutS: opts.minWatchTimeoutS ?? 60,
    pageSize: opts.pageSize,
  });
  return { d, reg };
}
