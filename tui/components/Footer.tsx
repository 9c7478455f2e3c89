import { Box, Text } from 'ink';
import { memo } from 'react';
import type { Phase, StatusSnapshot } from '../../src/status/types.ts';
import { formatDuration, oneLine } from '../format.ts';
import type { ReloadUi } from '../state.ts';
import { useTheme } from '../theme.ts';

/** Plain data (the reload state object comes from the UI reducer), so it doubles as the footer's view. */
export interface FooterProps {
  readonly phase: Phase;
  readonly reload: ReloadUi;
  readonly quitRequested: boolean;
  readonly editingFilter: boolean;
  readonly filter: string;
  readonly overlay: boolean;
  /** While stopping, remote write's drain and its countdown ("draining, 12s left"); else null. */
  readonly flush: string | null;
}

/**
 * The remote-write drain while the agent stops: the time left before the flush deadline at the
 * latest. A failing endpoint ends its drain at once, so this shows only while endpoints take data.
 */
export function flushText(s: StatusSnapshot): string | null {
  if (s.phase !== 'stopping') return null;
  let deadline = 0;
  for (const r of s.remote)
    if (r.flush?.state === 'draining' && r.flush.deadlineAt > deadline) deadline = r.flush.deadlineAt;
  if (deadline === 0) return null;
  // Whole seconds, rounded up: the countdown reads 1s, not 0ms, in its last second.
  const left = Math.max(0, Math.ceil((deadline - s.at) / 1000)) * 1000;
  return `draining, ${formatDuration(left)} left`;
}

const HINTS = 'Tab panel  ↑↓ move  Enter details  / filter  s sort  r reload  ? help, logs';
const OVERLAY_HINTS = 'Esc back  r reload';
/** Kept at the right end whatever else the line holds: a long reload error or a narrow terminal truncates the rest. */
const QUIT_HINT = '  q quit';

/** One line: the most urgent thing the user should know, otherwise the key hints; `q quit` always shows. */
export const Footer = memo(function Footer(p: FooterProps) {
  const line = <FooterLine {...p} />;
  if (p.phase === 'stopping' || p.phase === 'stopped' || p.quitRequested || p.editingFilter) return line;
  return (
    <Box>
      <Box flexGrow={1} flexShrink={1}>
        {line}
      </Box>
      <Box flexShrink={0}>
        <Text dimColor>{QUIT_HINT}</Text>
      </Box>
    </Box>
  );
});

const FooterLine = memo(function FooterLine(p: FooterProps) {
  const theme = useTheme();
  if (p.phase === 'stopping' && p.flush !== null) {
    // Unsent data is safe in the WAL, so quitting now costs only the wait; main.ts exits on a second q.
    return (
      <Text bold {...theme.tone('warn')} wrap="truncate-end">
        {/* 76 columns at most: the whole line fits an 80-column terminal. */}
        {`${p.flush} · press q again to quit now (unsent data stays in WAL)`}
      </Text>
    );
  }
  if (p.phase === 'stopping') {
    return (
      <Text bold {...theme.tone('warn')} wrap="truncate-end">
        flushing… scraping stopped, writing the WAL and draining remote write before exit
      </Text>
    );
  }
  if (p.phase === 'stopped') {
    return (
      <Text bold wrap="truncate-end">
        stopped
      </Text>
    );
  }
  if (p.quitRequested) {
    return (
      <Text bold {...theme.tone('warn')} wrap="truncate-end">
        quitting… waiting for the agent to stop
      </Text>
    );
  }
  if (p.editingFilter) {
    return (
      <Text wrap="truncate-end">
        <Text bold>/</Text>
        {p.filter}
        <Text inverse> </Text>
        <Text dimColor>{'  Enter keep  Esc cancel'}</Text>
      </Text>
    );
  }
  const hints = p.overlay ? OVERLAY_HINTS : HINTS;
  switch (p.reload.state) {
    case 'pending':
      return (
        <Text wrap="truncate-end">
          <Text {...theme.tone('warn')}>reloading configuration…</Text>
          <Text dimColor>{`  ${hints}`}</Text>
        </Text>
      );
    case 'done':
      return (
        <Text wrap="truncate-end">
          <Text {...theme.tone(p.reload.ok ? 'ok' : 'bad')} bold>
            {p.reload.ok ? 'reload ok' : `reload failed: ${oneLine(p.reload.error)}`}
          </Text>
          <Text dimColor>{`  ${hints}`}</Text>
        </Text>
      );
    default:
      return (
        <Text dimColor wrap="truncate-end">
          {hints}
        </Text>
      );
  }
});
