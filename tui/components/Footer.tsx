import { Text } from 'ink';
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

const HINTS = 'Tab panel  ↑↓ move  Enter details  / filter  s sort  r reload  ? help  q quit';
const OVERLAY_HINTS = 'Esc back  r reload  q quit';

/** One line: the most urgent thing the user should know, otherwise the key hints. */
export const Footer = memo(function Footer(p: FooterProps) {
  const theme = useTheme();
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
