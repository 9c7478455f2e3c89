import { Box, Text } from 'ink';
import type { ReactNode } from 'react';
import type { RemoteStatus, TargetStatus } from '../../src/status/types.ts';
import { formatAgo, formatBytes, formatCount, formatDuration, formatRate, formatSeconds, formatLabels } from '../format.ts';
import { healthRole, useTheme } from '../theme.ts';
import { Panel } from './Panel.tsx';
import { formatScrapeDuration } from './TargetsPanel.tsx';

interface Field {
  readonly label: string;
  readonly value: string;
  readonly color?: string | undefined;
}

/** Fields, then label blocks, cut to the lines available; a hidden tail is announced rather than silently lost. */
function DetailBody({ fields, blocks, rows }: { fields: readonly Field[]; blocks: readonly { title: string; lines: readonly string[] }[]; rows: number }) {
  const out: { key: string; node: ReactNode }[] = [];
  for (const f of fields) {
    out.push({
      key: `f:${f.label}`,
      node: (
        <Box>
          <Box width={14} flexShrink={0}>
            <Text dimColor>{f.label}</Text>
          </Box>
          <Text color={f.color} wrap="truncate-end">
            {f.value}
          </Text>
        </Box>
      ),
    });
  }
  for (const b of blocks) {
    out.push({ key: `b:${b.title}`, node: <Text bold>{b.title}</Text> });
    if (b.lines.length === 0) out.push({ key: `b:${b.title}:none`, node: <Text dimColor>  (none)</Text> });
    b.lines.forEach((l, i) => out.push({ key: `b:${b.title}:${i}`, node: <Text wrap="truncate-end">{`  ${l}`}</Text> }));
  }
  const limit = Math.max(1, rows);
  const shown = out.length > limit ? out.slice(0, limit - 1) : out;
  return (
    <>
      {shown.map((o) => (
        <Box key={o.key}>{o.node}</Box>
      ))}
      {out.length > limit ? <Text dimColor>{`  … ${out.length - shown.length} more lines (enlarge the terminal)`}</Text> : null}
    </>
  );
}

export interface TargetDetailProps {
  readonly target: TargetStatus | undefined;
  readonly now: number;
  readonly compact: boolean;
  readonly rows: number;
}

export function TargetDetail({ target: t, now, compact, rows }: TargetDetailProps) {
  const theme = useTheme();
  if (t === undefined) {
    return (
      <Panel title="Target" focused compact={compact} grow>
        <Text dimColor>This target is gone (dropped by discovery or relabeling). Esc to go back.</Text>
      </Panel>
    );
  }
  const chrome = compact ? 1 : 3;
  const fields: Field[] = [
    { label: 'pool', value: t.pool },
    { label: 'instance', value: t.instance },
    { label: 'url', value: t.url },
    { label: 'health', value: t.health, color: theme.fg(healthRole(t.health)) },
    { label: 'last scrape', value: `${formatAgo(t.lastScrape, now)}, took ${formatScrapeDuration(t.lastDurationMs)}, every ${formatDuration(t.intervalMs)}` },
    { label: 'samples', value: `${formatCount(t.samples)} samples, ${formatCount(t.series)} series` },
    { label: 'last error', value: t.lastError || '-', color: t.lastError ? theme.fg('bad') : undefined },
  ];
  return (
    <Panel title="Target" info={`${t.pool} / ${t.instance}  (Esc back)`} focused compact={compact} grow>
      <DetailBody
        fields={fields}
        blocks={[
          { title: 'Target labels', lines: formatLabels(t.labels) },
          { title: 'Discovered labels', lines: formatLabels(t.discoveredLabels) },
        ]}
        rows={rows - chrome}
      />
    </Panel>
  );
}

export interface RemoteDetailProps {
  readonly remote: RemoteStatus | undefined;
  readonly now: number;
  readonly compact: boolean;
  readonly rows: number;
}

export function RemoteDetail({ remote: r, now, compact, rows }: RemoteDetailProps) {
  const theme = useTheme();
  if (r === undefined) {
    return (
      <Panel title="Remote write" focused compact={compact} grow>
        <Text dimColor>This endpoint is gone (removed by a reload). Esc to go back.</Text>
      </Panel>
    );
  }
  const chrome = compact ? 1 : 3;
  const fields: Field[] = [
    { label: 'name', value: r.name },
    { label: 'url', value: r.url },
    { label: 'health', value: r.health, color: theme.fg(healthRole(r.health)) },
    { label: 'lag', value: formatSeconds(r.lagSeconds) },
    { label: 'pending', value: `${formatCount(r.pendingSamples)} samples, ${formatBytes(r.backlogBytes)} of WAL not acknowledged` },
    { label: 'send rate', value: `${formatRate(r.sendRate)} over ${r.shards} shard${r.shards === 1 ? '' : 's'}` },
    { label: 'samples', value: `sent ${formatCount(r.samplesSent)}, retried ${formatCount(r.samplesRetried)}, dropped ${formatCount(r.samplesDropped)}, failed ${formatCount(r.samplesFailed)}` },
    {
      label: 'last error',
      value: r.lastError ? (r.lastErrorAt > 0 ? `${r.lastError} (${formatAgo(r.lastErrorAt, now)})` : r.lastError) : '-',
      color: r.lastError ? theme.fg('bad') : undefined,
    },
  ];
  return (
    <Panel title="Remote write" info={`${r.name}  (Esc back)`} focused compact={compact} grow>
      <DetailBody fields={fields} blocks={[]} rows={rows - chrome} />
    </Panel>
  );
}
