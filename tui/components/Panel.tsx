import { Box, Text } from 'ink';
import type { ReactNode } from 'react';
import { useTheme } from '../theme.ts';

export interface PanelProps {
  readonly title: string;
  /** Extra text after the title (counts, sort, filter). */
  readonly info?: string;
  readonly focused: boolean;
  readonly compact: boolean;
  readonly width?: number | string;
  /** Fill the parent's height (full-screen views such as help and details). */
  readonly grow?: boolean;
  readonly children: ReactNode;
}

/** Columns a bordered panel takes from its width: two border cells and one padding cell each side. */
export const PANEL_FRAME_WIDTH = 4;

/**
 * A titled section. Roomy terminals get a rounded border; compact ones a single title line, because two border
 * lines per panel would eat a quarter of an 80×24 screen.
 */
export function Panel({ title, info, focused, compact, width, grow, children }: PanelProps) {
  const theme = useTheme();
  const titleLine = (
    <Text wrap="truncate-end">
      <PanelTitle title={title} focused={focused} />
      {info ? <Text dimColor> {info}</Text> : null}
    </Text>
  );
  if (compact) {
    return (
      <Box flexDirection="column" width={width}>
        {titleLine}
        {children}
      </Box>
    );
  }
  return (
    <Box
      flexDirection="column"
      width={width}
      flexGrow={grow ? 1 : 0}
      borderStyle="round"
      borderColor={focused ? theme.fg('accent') : theme.fg('muted')}
      paddingX={1}
    >
      {titleLine}
      {children}
    </Box>
  );
}

/**
 * The title badge alone, for one-line compact panels that put their numbers right after it. Focus is inverse
 * video plus a ▸ marker, so it shows without colour and where the terminal ignores inverse.
 */
export function PanelTitle({ title, focused }: { readonly title: string; readonly focused: boolean }) {
  const theme = useTheme();
  return (
    <Text bold inverse={focused} {...theme.tone(focused ? undefined : 'accent')}>
      {`${focused ? '▸' : ' '}${title} `}
    </Text>
  );
}
