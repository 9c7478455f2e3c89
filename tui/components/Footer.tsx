import { Box, Text } from 'ink';
import { memo } from 'react';
import type { Phase } from '../../src/status/types.ts';
import { oneLine } from '../format.ts';
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
  if (p.phase === 'stopping') {
    return (
      <Text bold color={theme.fg('warn')} wrap="truncate-end">
        flushing… scraping stopped, writing the WAL and draining remote write before exit
      </Text>
    );
  }
  if (p.phase === 'stopped') {
    return <Text bold wrap="truncate-end">stopped</Text>;
  }
  if (p.quitRequested) {
    return (
      <Text bold color={theme.fg('warn')} wrap="truncate-end">
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
          <Text color={theme.fg('warn')}>reloading configuration…</Text>
          <Text dimColor>{`  ${hints}`}</Text>
        </Text>
      );
    case 'done':
      return (
        <Text wrap="truncate-end">
          <Text color={theme.fg(p.reload.ok ? 'ok' : 'bad')} bold>
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
