import { Text } from 'ink';
import { memo } from 'react';
import type { FittedColumn } from '../columns.ts';
import { cell } from '../format.ts';
import { useTheme, type Role } from '../theme.ts';

export interface CellValue {
  readonly text: string;
  readonly role?: Role | undefined;
}

/** A run of already padded text in one colour role: a row is a few of these instead of one node per cell. */
interface Segment {
  readonly text: string;
  readonly role?: Role | undefined;
}

/** One table row as it will be drawn: fixed-width cells, joined and grouped by role. */
export interface RowView {
  readonly key: string;
  readonly selected: boolean;
  readonly segments: readonly Segment[];
}

const MARK_WIDTH = 2;

/** Width left for columns once the selection marker is drawn. */
export function tableWidth(total: number): number {
  return total - MARK_WIDTH;
}

export function headerLine<Id extends string>(columns: readonly FittedColumn<Id>[]): string {
  return ' '.repeat(MARK_WIDTH) + columns.map((c) => cell(c.title, c.width, c.align)).join(' ');
}

export function rowView<Id extends string>(
  key: string,
  columns: readonly FittedColumn<Id>[],
  values: Readonly<Record<Id, CellValue>>,
  selected: boolean,
): RowView {
  const segments: Segment[] = [];
  for (const [i, c] of columns.entries()) {
    const v = values[c.id];
    const text = cell(v.text, c.width, c.align) + (i < columns.length - 1 ? ' ' : '');
    const last = segments.at(-1);
    if (last !== undefined && last.role === v.role)
      segments[segments.length - 1] = { text: last.text + text, role: v.role };
    else segments.push({ text, role: v.role });
  }
  return { key, selected, segments };
}

export const TableHeader = memo(function TableHeader({ line }: { readonly line: string }) {
  return (
    <Text bold dimColor wrap="truncate-end">
      {line}
    </Text>
  );
});

export interface TableRowProps {
  readonly row: RowView;
  /** Only the focused panel shows its selection as a highlighted bar; others keep a quiet marker. */
  readonly focused: boolean;
}

export const TableRow = memo(function TableRow({ row, focused }: TableRowProps) {
  const theme = useTheme();
  return (
    <Text wrap="truncate-end" inverse={row.selected && focused}>
      {row.selected ? '› ' : '  '}
      {row.segments.map((s, i) =>
        s.role === undefined ? (
          s.text
        ) : (
          // biome-ignore lint/suspicious/noArrayIndexKey: a row's segments are positional; the row re-renders whole.
          <Text key={i} {...theme.tone(s.role)}>
            {s.text}
          </Text>
        ),
      )}
    </Text>
  );
});
