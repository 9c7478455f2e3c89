import { Box, Text } from 'ink';
import { memo, type ReactNode } from 'react';
import type { RemoteStatus, TargetStatus } from '../../src/status/types.ts';
import {
  formatAgo,
  formatBytes,
  formatCount,
  formatDuration,
  formatRate,
  formatSeconds,
  formatLabels,
} from '../format.ts';
import { healthRole, useTheme, type Role } from '../theme.ts';
import { Panel } from './Panel.tsx';
import { formatScrapeDuration } from './TargetsPanel.tsx';

interface Field {
  readonly label: string;
  readonly value: string;
  readonly role?: Role | undefined;
}

interface Block {
  readonly title: string;
  readonly lines: readonly string[];
}

/** A full-screen view of one target or endpoint; `gone` replaces the body when it disappeared meanwhile. */
export interface DetailView {
  readonly title: string;
  readonly info: string | undefined;
  readonly gone: string | undefined;
  readonly compact: boolean;
  readonly fields: readonly Field[];
  readonly blocks: readonly Block[];
  /** Lines for fields and blocks inside the panel. */
  readonly rows: number;
}

/** Fields, then label blocks, cut to the lines available; a hidden tail is announced rather than silently lost. */
function DetailBody({ fields, blocks, rows }: { fields: readonly Field[]; blocks: readonly Block[]; rows: number }) {
  const theme = useTheme();
  const out: { key: string; node: ReactNode }[] = [];
  for (const f of fields) {
    out.push({
      key: `f:${f.label}`,
      node: (
        <Box>
          <Box width={14} flexShrink={0}>
            <Text dimColor>{f.label}</Text>
          </Box>
          <Text {...theme.tone(f.role)} wrap="truncate-end">
            {f.value}
          </Text>
        </Box>
      ),
    });
  }
  for (const b of blocks) {
    out.push({ key: `b:${b.title}`, node: <Text bold>{b.title}</Text> });
    if (b.lines.length === 0) out.push({ key: `b:${b.title}:none`, node: <Text dimColor> (none)</Text> });
    for (const [i, l] of b.lines.entries())
      out.push({ key: `b:${b.title}:${i}`, node: <Text wrap="truncate-end">{`  ${l}`}</Text> });
  }
  const limit = Math.max(1, rows);
  const shown = out.length > limit ? out.slice(0, limit - 1) : out;
  return (
    <>
      {shown.map((o) => (
        <Box key={o.key}>{o.node}</Box>
      ))}
      {out.length > limit ? (
        <Text dimColor>{`  … ${out.length - shown.length} more lines (enlarge the terminal)`}</Text>
      ) : null}
    </>
  );
}

export const Detail = memo(function Detail({ view: v }: { readonly view: DetailView }) {
  return (
    <Panel title={v.title} {...(v.info === undefined ? {} : { info: v.info })} focused compact={v.compact} grow>
      {v.gone !== undefined ? (
        <Text dimColor>{v.gone}</Text>
      ) : (
        <DetailBody fields={v.fields} blocks={v.blocks} rows={v.rows} />
      )}
    </Panel>
  );
});

function chrome(compact: boolean): number {
  return compact ? 1 : 3;
}

/** The view once its target or endpoint has disappeared: only the title and why. */
function goneView(title: string, gone: string, compact: boolean, rows: number): DetailView {
  return { title, info: undefined, gone, compact, fields: [], blocks: [], rows };
}

export function targetDetailView(t: TargetStatus | undefined, now: number, compact: boolean, rows: number): DetailView {
  if (t === undefined) {
    return goneView(
      'Target',
      'This target is gone (dropped by discovery or relabeling). Esc to go back.',
      compact,
      rows,
    );
  }
  return {
    title: 'Target',
    info: `${t.pool} / ${t.instance}  (Esc back)`,
    gone: undefined,
    compact,
    fields: [
      { label: 'pool', value: t.pool },
      { label: 'instance', value: t.instance },
      { label: 'url', value: t.url },
      { label: 'health', value: t.health, role: healthRole(t.health) },
      {
        label: 'last scrape',
        value:
          `${formatAgo(t.lastScrape, now)}, took ${formatScrapeDuration(t.lastDurationMs)}, ` +
          `every ${formatDuration(t.intervalMs)}`,
      },
      {
        label: 'samples',
        value:
          `${formatCount(t.samples - t.histograms)} floats, ${formatCount(t.histograms)} native histograms; ` +
          `${formatCount(t.series - t.histogramSeries)} float series, ` +
          `${formatCount(t.histogramSeries)} histogram series`,
      },
      { label: 'last error', value: t.lastError || '-', role: t.lastError ? 'bad' : undefined },
    ],
    blocks: [
      { title: 'Target labels', lines: formatLabels(t.labels) },
      { title: 'Discovered labels', lines: formatLabels(t.discoveredLabels) },
    ],
    rows: rows - chrome(compact),
  };
}

export function remoteDetailView(r: RemoteStatus | undefined, now: number, compact: boolean, rows: number): DetailView {
  if (r === undefined) {
    return goneView('Remote write', 'This endpoint is gone (removed by a reload). Esc to go back.', compact, rows);
  }
  return {
    title: 'Remote write',
    info: `${r.name}  (Esc back)`,
    gone: undefined,
    compact,
    fields: [
      { label: 'name', value: r.name },
      { label: 'url', value: r.url },
      { label: 'health', value: r.health, role: healthRole(r.health) },
      { label: 'lag', value: formatSeconds(r.lagSeconds) },
      {
        label: 'pending',
        value: `${formatCount(r.pendingSamples)} samples, ${formatBytes(r.backlogBytes)} of WAL not acknowledged`,
      },
      { label: 'send rate', value: `${formatRate(r.sendRate)} over ${r.shards} shard${r.shards === 1 ? '' : 's'}` },
      {
        label: 'samples',
        value:
          `sent ${formatCount(r.samplesSent)}, retried ${formatCount(r.samplesRetried)}, ` +
          `dropped ${formatCount(r.samplesDropped)}, failed ${formatCount(r.samplesFailed)}`,
      },
      {
        label: 'last error',
        value: r.lastError
          ? r.lastErrorAt > 0
            ? `${r.lastError} (${formatAgo(r.lastErrorAt, now)})`
            : r.lastError
          : '-',
        role: r.lastError ? 'bad' : undefined,
      },
    ],
    blocks: [],
    rows: rows - chrome(compact),
  };
}
