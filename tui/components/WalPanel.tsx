import { Text } from 'ink';
import { memo } from 'react';
import type { Phase, WalStatus } from '../../src/status/types.ts';
import { formatAge, formatBytes, percent, progressBar } from '../format.ts';
import { useTheme, type Role } from '../theme.ts';
import { Panel, PanelTitle } from './Panel.tsx';
import { Stat } from './SeriesPanel.tsx';

/** Replay is shown only while it matters: during startup, before the WAL has been read back. */
export function isReplaying(wal: WalStatus, phase: Phase): boolean {
  return !wal.replay.done && (phase === 'starting' || phase === 'replaying');
}

function usage(w: WalStatus): string {
  return w.capBytes > 0
    ? `${formatBytes(w.bytes)} / ${formatBytes(w.capBytes)} (${percent(w.bytes, w.capBytes)})`
    : `${formatBytes(w.bytes)} (no cap)`;
}

function usageRole(w: WalStatus): Role {
  if (w.capBytes <= 0) return 'ok';
  const r = w.bytes / w.capBytes;
  return r >= 0.9 ? 'bad' : r >= 0.7 ? 'warn' : 'ok';
}

function segments(w: WalStatus): string {
  return w.segments > 0 ? `${w.segments} (${w.firstSegment}…${w.lastSegment})` : '0';
}

function oldest(w: WalStatus, now: number): string {
  // Coarse: this text stays on screen while the agent idles, and each change of it costs a frame.
  return w.oldestTimestamp > 0 ? formatAge(Math.max(0, now - w.oldestTimestamp)) : '-';
}

/** A failing WAL is the loudest thing on the dashboard: samples are being dropped. */
function writeErrorLine(w: WalStatus): string {
  return `WRITE FAILED, dropping samples (${w.samplesDropped ?? 0} so far): ${w.writeError}`;
}

function replayLine(w: WalStatus, barWidth: number): string {
  const { current, max } = w.replay;
  return `replay ${progressBar(current, max, barWidth)} ${current}/${max} segments ${percent(current, max)}`;
}

export interface WalView {
  readonly focused: boolean;
  readonly compact: boolean;
  readonly width: number | string;
  readonly usage: string;
  readonly usageRole: Role;
  readonly segments: string;
  readonly oldest: string;
  /** The replay progress line while replaying, else null. */
  readonly replay: string | null;
  readonly replayDone: boolean;
  readonly writeError: string | null;
}

export function walView(
  w: WalStatus,
  phase: Phase,
  now: number,
  focused: boolean,
  compact: boolean,
  width: number | string,
): WalView {
  return {
    focused,
    compact,
    width,
    usage: usage(w),
    usageRole: usageRole(w),
    segments: segments(w),
    oldest: oldest(w, now),
    replay: isReplaying(w, phase) ? replayLine(w, compact ? 20 : 16) : null,
    replayDone: w.replay.done,
    writeError: w.writeError ? writeErrorLine(w) : null,
  };
}

export const WalPanel = memo(function WalPanel({ view: v }: { readonly view: WalView }) {
  const theme = useTheme();
  if (v.compact) {
    return (
      <>
        <Text wrap="truncate-end">
          <PanelTitle title="WAL" focused={v.focused} />
          {'    '}
          <Text {...theme.tone(v.usageRole)}>{v.usage}</Text>
          {`  segments ${v.segments}  oldest ${v.oldest}`}
        </Text>
        {v.replay !== null ? <Text {...theme.tone('accent')} wrap="truncate-end">{`       ${v.replay}`}</Text> : null}
        {v.writeError !== null ? (
          <Text {...theme.tone('bad')} wrap="truncate-end">{`       ${v.writeError}`}</Text>
        ) : null}
      </>
    );
  }
  return (
    <Panel title="WAL" focused={v.focused} compact={false} width={v.width}>
      <Stat label="on disk" value={v.usage} role={v.usageRole} />
      <Stat label="segments" value={v.segments} />
      <Stat label="oldest data" value={v.oldest} />
      {v.replay !== null ? (
        <Text {...theme.tone('accent')} wrap="truncate-end">
          {v.replay}
        </Text>
      ) : (
        <Stat label="replay" value={v.replayDone ? 'done' : '-'} />
      )}
      {v.writeError !== null ? (
        <Text {...theme.tone('bad')} wrap="truncate-end">
          {v.writeError}
        </Text>
      ) : null}
    </Panel>
  );
});
