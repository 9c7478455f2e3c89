import { Box, Text } from 'ink';
import type { StatusSnapshot } from '../../src/status/types.ts';
import { formatAgo, formatDuration, oneLine } from '../format.ts';
import type { ReloadUi } from '../state.ts';
import { phaseRole, useTheme } from '../theme.ts';

export interface HeaderProps {
  readonly snapshot: StatusSnapshot;
  readonly reload: ReloadUi;
  readonly quitRequested: boolean;
}

export function phaseText(snapshot: StatusSnapshot, quitRequested: boolean): string {
  switch (snapshot.phase) {
    case 'stopping':
      return 'stopping: flushing…';
    case 'stopped':
      return 'stopped';
    case 'replaying':
      return 'replaying WAL';
    default:
      return quitRequested ? `${snapshot.phase}: quitting…` : snapshot.phase;
  }
}

/** Two lines: identity and liveness, then where the config and data live and how the last reload went. */
export function Header({ snapshot: s, reload, quitRequested }: HeaderProps) {
  const theme = useTheme();
  const uptime = formatDuration(Math.max(0, s.at - s.startedAt));
  const stopping = s.phase === 'stopping' || quitRequested;
  let reloadText: string;
  let reloadRole: 'ok' | 'bad' | 'warn';
  if (reload.state === 'pending') {
    reloadText = 'reloading…';
    reloadRole = 'warn';
  } else if (s.reload.ok) {
    reloadText = `reload ok ${formatAgo(s.reload.at, s.at)}`;
    reloadRole = 'ok';
  } else {
    reloadText = `reload FAILED ${formatAgo(s.reload.at, s.at)}: ${oneLine(s.reload.error)}`;
    reloadRole = 'bad';
  }
  return (
    <Box flexDirection="column">
      <Text wrap="truncate-end">
        <Text bold color={theme.fg('accent')}>
          Outpost
        </Text>
        {` ${s.version}  `}
        <Text color={theme.fg(phaseRole(s.phase))} bold={stopping} inverse={stopping}>
          {`● ${phaseText(s, quitRequested)}`}
        </Text>
        {`  up ${uptime}`}
        {s.listenAddress ? <Text dimColor>{`  listen ${s.listenAddress}`}</Text> : null}
      </Text>
      <Text wrap="truncate-end">
        <Text dimColor>config </Text>
        {s.configFile || '-'}
        <Text dimColor>{'  data '}</Text>
        {s.dataDir || '-'}
        {'  '}
        {/* Last, because a failed reload's message can be long and is the part worth truncating. */}
        <Text color={theme.fg(reloadRole)}>{reloadText}</Text>
      </Text>
    </Box>
  );
}
