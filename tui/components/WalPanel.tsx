import { Text } from 'ink';
import type { Phase, WalStatus } from '../../src/status/types.ts';
import { formatBytes, formatDuration, percent, progressBar } from '../format.ts';
import { useTheme } from '../theme.ts';
import { Panel, PanelTitle } from './Panel.tsx';
import { Stat } from './SeriesPanel.tsx';

export interface WalPanelProps {
  readonly wal: WalStatus;
  readonly phase: Phase;
  readonly now: number;
  readonly focused: boolean;
  readonly compact: boolean;
  readonly width: number | string;
}

/** Replay is shown only while it matters: during startup, before the WAL has been read back. */
export function isReplaying(wal: WalStatus, phase: Phase): boolean {
  return !wal.replay.done && (phase === 'starting' || phase === 'replaying');
}

function usage(w: WalStatus): string {
  return w.capBytes > 0 ? `${formatBytes(w.bytes)} / ${formatBytes(w.capBytes)} (${percent(w.bytes, w.capBytes)})` : `${formatBytes(w.bytes)} (no cap)`;
}

function usageRole(w: WalStatus): 'ok' | 'warn' | 'bad' {
  if (w.capBytes <= 0) return 'ok';
  const r = w.bytes / w.capBytes;
  return r >= 0.9 ? 'bad' : r >= 0.7 ? 'warn' : 'ok';
}

function segments(w: WalStatus): string {
  return w.segments > 0 ? `${w.segments} (${w.firstSegment}…${w.lastSegment})` : '0';
}

function oldest(w: WalStatus, now: number): string {
  return w.oldestTimestamp > 0 ? formatDuration(Math.max(0, now - w.oldestTimestamp)) : '-';
}

/** A failing WAL is the loudest thing on the dashboard: samples are being dropped. */
function writeErrorLine(w: WalStatus): string {
  return `WRITE FAILED, dropping samples (${w.samplesDropped ?? 0} so far): ${w.writeError}`;
}

function replayLine(w: WalStatus, barWidth: number): string {
  const { current, max } = w.replay;
  return `replay ${progressBar(current, max, barWidth)} ${current}/${max} segments ${percent(current, max)}`;
}

export function WalPanel({ wal: w, phase, now, focused, compact, width }: WalPanelProps) {
  const theme = useTheme();
  const replaying = isReplaying(w, phase);
  if (compact) {
    return (
      <>
        <Text wrap="truncate-end">
          <PanelTitle title="WAL" focused={focused} />
          {'    '}
          <Text color={theme.fg(usageRole(w))}>{usage(w)}</Text>
          {`  segments ${segments(w)}  oldest ${oldest(w, now)}`}
        </Text>
        {replaying ? <Text color={theme.fg('accent')} wrap="truncate-end">{`       ${replayLine(w, 20)}`}</Text> : null}
        {w.writeError ? <Text color={theme.fg('bad')} wrap="truncate-end">{`       ${writeErrorLine(w)}`}</Text> : null}
      </>
    );
  }
  return (
    <Panel title="WAL" focused={focused} compact={false} width={width}>
      <Stat label="on disk" value={usage(w)} role={theme.fg(usageRole(w))} />
      <Stat label="segments" value={segments(w)} />
      <Stat label="oldest data" value={oldest(w, now)} />
      {replaying ? (
        <Text color={theme.fg('accent')} wrap="truncate-end">
          {replayLine(w, 16)}
        </Text>
      ) : (
        <Stat label="replay" value={w.replay.done ? 'done' : '-'} />
      )}
      {w.writeError ? (
        <Text color={theme.fg('bad')} wrap="truncate-end">
          {writeErrorLine(w)}
        </Text>
      ) : null}
    </Panel>
  );
}
