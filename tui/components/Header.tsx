import { Box, Text } from 'ink';
import { memo } from 'react';
import type { StatusSnapshot } from '../../src/status/types.ts';
import { formatAge, formatAgeAgo, oneLine } from '../format.ts';
import type { ReloadUi } from '../state.ts';
import { phaseRole, useTheme, type Role } from '../theme.ts';

function phaseText(snapshot: StatusSnapshot, quitRequested: boolean): string {
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

export interface HeaderView {
  readonly version: string;
  readonly phase: string;
  readonly phaseRole: Role;
  /** Stopping (or asked to): the phase badge turns loud. */
  readonly stopping: boolean;
  readonly uptime: string;
  readonly listen: string;
  readonly configFile: string;
  readonly dataDir: string;
  readonly reload: string;
  readonly reloadRole: Role;
}

/**
 * Uptime and the reload age use the coarse formatAge: they are on screen all the time, so a per-second text
 * here would cost a full frame every second on an otherwise idle agent.
 */
export function headerView(s: StatusSnapshot, reload: ReloadUi, quitRequested: boolean): HeaderView {
  let reloadText: string;
  let reloadRole: Role;
  if (reload.state === 'pending') {
    reloadText = 'reloading…';
    reloadRole = 'warn';
  } else if (s.reload.ok) {
    reloadText = `reload ok ${formatAgeAgo(s.reload.at, s.at)}`;
    reloadRole = 'ok';
  } else {
    reloadText = `reload FAILED ${formatAgeAgo(s.reload.at, s.at)}: ${oneLine(s.reload.error)}`;
    reloadRole = 'bad';
  }
  return {
    version: s.version,
    phase: phaseText(s, quitRequested),
    phaseRole: phaseRole(s.phase),
    stopping: s.phase === 'stopping' || quitRequested,
    uptime: formatAge(Math.max(0, s.at - s.startedAt)),
    listen: s.listenAddress,
    configFile: s.configFile || '-',
    dataDir: s.dataDir || '-',
    reload: reloadText,
    reloadRole,
  };
}

/** Two lines: identity and liveness, then where the config and data live and how the last reload went. */
export const Header = memo(function Header({ view: v }: { readonly view: HeaderView }) {
  const theme = useTheme();
  return (
    <Box flexDirection="column">
      <Text wrap="truncate-end">
        <Text bold {...theme.tone('accent')}>
          Outpost
        </Text>
        {` ${v.version}  `}
        <Text {...theme.tone(v.phaseRole)} bold={v.stopping} inverse={v.stopping}>
          {`● ${v.phase}`}
        </Text>
        {`  up ${v.uptime}`}
        {v.listen ? <Text dimColor>{`  listen ${v.listen}`}</Text> : null}
      </Text>
      <Text wrap="truncate-end">
        <Text dimColor>config </Text>
        {v.configFile}
        <Text dimColor>{'  data '}</Text>
        {v.dataDir}
        {'  '}
        {/* Last, because a failed reload's message can be long and is the part worth truncating. */}
        <Text {...theme.tone(v.reloadRole)}>{v.reload}</Text>
      </Text>
    </Box>
  );
});
