import { Box, Text } from 'ink';
import { memo } from 'react';
import { Panel } from './Panel.tsx';

const KEY_HELP: readonly (readonly [string, string])[] = [
  ['Tab / Shift-Tab', 'next / previous panel'],
  ['↑ ↓  j k', 'move the selection (PgUp/PgDn, g/G for top/bottom)'],
  ['Enter', 'details of the selected target or endpoint (Esc back)'],
  ['/', 'filter targets (Enter keeps it, Esc restores the old one)'],
  ['Esc', 'clear the filter / close a view'],
  ['s / S', 'next sort column / reverse the order'],
  ['r', 'reload the configuration file'],
  ['?', 'this help'],
  ['q  Ctrl-C', 'quit: stop scraping, flush the WAL, drain remote write'],
];

export const Help = memo(function Help({
  compact,
  rows,
  logFile,
}: {
  readonly compact: boolean;
  readonly rows: number;
  readonly logFile: string;
}) {
  const shown = KEY_HELP.slice(0, Math.max(1, rows - (compact ? 2 : 4)));
  return (
    <Panel title="Keys" info="(? or Esc to close)" focused compact={compact} grow>
      {/* Under the dashboard the log lines would tear the screen, so they go to a file: say which. */}
      <Box>
        <Box width={18} flexShrink={0}>
          <Text bold>logs</Text>
        </Box>
        <Text wrap="truncate-start">{logFile || 'stderr'}</Text>
      </Box>
      {shown.map(([k, v]) => (
        <Box key={k}>
          <Box width={18} flexShrink={0}>
            <Text bold>{k}</Text>
          </Box>
          <Text wrap="truncate-end">{v}</Text>
        </Box>
      ))}
    </Panel>
  );
});
