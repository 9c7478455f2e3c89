import { Text } from 'ink';
import { memo } from 'react';
import type { OtlpStatus } from '../../src/status/types.ts';
import { formatAgeAgo, formatCount, formatRate, oneLine } from '../format.ts';
import { useTheme } from '../theme.ts';
import { PanelTitle } from './Panel.tsx';

/** The OTLP receiver as one line under the stats: it is a source like the targets, but without a list. */
export interface OtlpView {
  readonly rate: string;
  readonly received: string;
  readonly rejected: string;
  readonly rejecting: boolean;
  /** The busiest resources, "job/instance count", most first. */
  readonly top: string;
  /** '' when no request failed or was partly refused yet. */
  readonly lastError: string;
}

/** How many resources the line names; the web UI lists ten. */
const TOP_SHOWN = 3;

export function otlpView(o: OtlpStatus, now: number): OtlpView {
  const top = o.topResources
    .slice(0, TOP_SHOWN)
    .map((r) => `${r.job || '(no job)'}${r.instance ? ' ' + r.instance : ''} ${formatCount(r.points)}`)
    .join(', ');
  return {
    rate: formatRate(o.pointsPerSecond),
    received: formatCount(o.pointsReceived),
    rejected: formatCount(o.pointsRejected),
    rejecting: o.pointsRejected > 0 || o.requestsFailed > 0,
    top,
    lastError: o.lastError ? `${formatAgeAgo(o.lastErrorAt, now)}: ${oneLine(o.lastError)}` : '',
  };
}

export const OtlpLine = memo(function OtlpLine({ view: v }: { readonly view: OtlpView }) {
  const theme = useTheme();
  return (
    <Text wrap="truncate-end">
      <PanelTitle title="OTLP" focused={false} />
      {` points ${v.rate}  received ${v.received}  `}
      <Text {...theme.tone(v.rejecting ? 'warn' : undefined)}>{`rejected ${v.rejected}`}</Text>
      {v.top ? `  top ${v.top}` : ''}
      {v.lastError ? <Text {...theme.tone('bad')}>{`  last error ${v.lastError}`}</Text> : null}
    </Text>
  );
});
