import { Box, Text } from 'ink';
import { memo } from 'react';
import type { SeriesStatus } from '../../src/status/types.ts';
import { formatCount } from '../format.ts';
import { type Role, useTheme } from '../theme.ts';
import { Panel, PanelTitle } from './Panel.tsx';

export interface SeriesView {
  readonly focused: boolean;
  readonly compact: boolean;
  readonly width: number | string;
  readonly active: string;
  readonly created: string;
  readonly removed: string;
  readonly samples: string;
}

export function seriesView(s: SeriesStatus, focused: boolean, compact: boolean, width: number | string): SeriesView {
  return {
    focused,
    compact,
    width,
    active: formatCount(s.active),
    created: formatCount(s.created),
    removed: formatCount(s.removed),
    samples:
      s.histogramsAppended > 0
        ? `${formatCount(s.samplesAppended)} (${formatCount(s.histogramsAppended)} histograms)`
        : formatCount(s.samplesAppended),
  };
}

export const SeriesPanel = memo(function SeriesPanel({ view: v }: { readonly view: SeriesView }) {
  if (v.compact) {
    return (
      <Text wrap="truncate-end">
        <PanelTitle title="Series" focused={v.focused} />
        {` active ${v.active}  created ${v.created}  removed ${v.removed}  samples ${v.samples}`}
      </Text>
    );
  }
  return (
    <Panel title="Series" focused={v.focused} compact={false} width={v.width}>
      <Stat label="active" value={v.active} />
      <Stat label="created" value={v.created} />
      <Stat label="removed" value={v.removed} />
      <Stat label="samples appended" value={v.samples} />
    </Panel>
  );
});

export function Stat({ label, value, role }: { readonly label: string; readonly value: string; readonly role?: Role }) {
  const theme = useTheme();
  return (
    <Box>
      <Box width={18} flexShrink={0}>
        <Text dimColor>{label}</Text>
      </Box>
      <Text wrap="truncate-end" {...theme.tone(role)}>
        {value}
      </Text>
    </Box>
  );
}
