import { createContext, useContext } from 'react';
import type { Health, Phase } from '../src/status/types.ts';

/**
 * Semantic colour roles; components ask for a role, never for a literal colour, so NO_COLOR is handled in one
 * place.
 */
export type Role = 'ok' | 'bad' | 'warn' | 'accent' | 'muted';

const PALETTE: Readonly<Record<Role, string>> = {
  ok: 'green',
  bad: 'red',
  warn: 'yellow',
  accent: 'cyan',
  muted: 'gray',
};

/** Props that colour an Ink <Text>: `{}` when colour is off or there is no role, so no escape is emitted. */
type ToneProps = { readonly color?: string };

export interface Theme {
  readonly color: boolean;
  /** The colour for a role, or undefined when colour is off (Ink then emits no colour escape at all). */
  fg(role: Role): string | undefined;
  /** Spread into a <Text>: `<Text {...theme.tone('warn')}>`. */
  tone(role: Role | undefined): ToneProps;
}

const NO_TONE: ToneProps = Object.freeze({});
const TONES = Object.fromEntries(
  Object.entries(PALETTE).map(([role, c]) => [role, Object.freeze({ color: c })]),
) as Readonly<Record<Role, ToneProps>>;

export function makeTheme(color: boolean): Theme {
  return {
    color,
    fg: (role) => (color ? PALETTE[role] : undefined),
    tone: (role) => (color && role !== undefined ? TONES[role] : NO_TONE),
  };
}

/** https://no-color.org: a present, non-empty NO_COLOR disables colour whatever the terminal supports. */
export function colorFromEnv(env: Readonly<Record<string, string | undefined>>): boolean {
  const v = env.NO_COLOR;
  return v === undefined || v === '';
}

export const ThemeContext = createContext<Theme>(makeTheme(true));

export function useTheme(): Theme {
  return useContext(ThemeContext);
}

export function healthRole(h: Health): Role {
  return h === 'up' ? 'ok' : h === 'down' ? 'bad' : 'warn';
}

export function phaseRole(p: Phase): Role {
  switch (p) {
    case 'running':
      return 'ok';
    case 'stopping':
    case 'stopped':
      return 'warn';
    default:
      return 'accent';
  }
}
