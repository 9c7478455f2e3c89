import { Box, Text } from 'ink';
import type { SeriesStatus } from '../../src/status/types.ts';
import { formatCount } from '../format.ts';
import { Panel, PanelTitle } from './Panel.tsx';

export interface SeriesPanelProps {
  readonly series: SeriesStatus;
  readonly focused: boolean;
  readonly compact: boolean;
  readonly width: number | string;
}

export function SeriesPanel({ series: s, focused, compact, width }: SeriesPanelProps) {
  if (compact) {
    return (
      <Text wrap="truncate-end">
        <PanelTitle title="Series" focused={focused} />
        {` active ${formatCount(s.active)}  created ${formatCount(s.created)}  removed ${formatCount(s.removed)}  samples ${formatCount(s.samplesAppended)}`}
      </Text>
    );
  }
  return (
    <Panel title="Series" focused={focused} compact={false} width={width}>
      <Stat label="active" value={formatCount(s.active)} />
      <Stat label="created" value={formatCount(s.created)} />
      <Stat label="removed" value={formatCount(s.removed)} />
      <Stat label="samples appended" value={formatCount(s.samplesAppended)} />
    </Panel>
  );
}

export function Stat({ label, value, role }: { readonly label: string; readonly value: string; readonly role?: string | undefined }) {
  return (
    <Box>
      <Box width={18} flexShrink={0}>
        <Text dimColor>{label}</Text>
      </Box>
      <Text wrap="truncate-end" color={role}>
        {value}
      </Text>
    </Box>
  );
}
