import { Text } from 'ink';
import type { FittedColumn } from '../columns.ts';
import { cell } from '../format.ts';
import { useTheme, type Role } from '../theme.ts';

export interface CellValue {
  readonly text: string;
  readonly role?: Role;
}

const MARK_WIDTH = 2;

/** Width left for columns once the selection marker is drawn. */
export function tableWidth(total: number): number {
  return total - MARK_WIDTH;
}

export function TableHeader<Id extends string>({ columns }: { columns: readonly FittedColumn<Id>[] }) {
  const line = columns.map((c) => cell(c.title, c.width, c.align)).join(' ');
  return (
    <Text bold dimColor wrap="truncate-end">
      {' '.repeat(MARK_WIDTH)}
      {line}
    </Text>
  );
}

export interface TableRowProps<Id extends string> {
  readonly columns: readonly FittedColumn<Id>[];
  readonly values: Readonly<Record<Id, CellValue>>;
  readonly selected: boolean;
  /** Only the focused panel shows its selection as a highlighted bar; others keep a quiet marker. */
  readonly focused: boolean;
}

export function TableRow<Id extends string>({ columns, values, selected, focused }: TableRowProps<Id>) {
  const theme = useTheme();
  return (
    <Text wrap="truncate-end" inverse={selected && focused}>
      {selected ? '› ' : '  '}
      {columns.map((c, i) => {
        const v = values[c.id];
        const text = cell(v.text, c.width, c.align) + (i < columns.length - 1 ? ' ' : '');
        return v.role === undefined ? (
          text
        ) : (
          <Text key={c.id} color={theme.fg(v.role)}>
            {text}
          </Text>
        );
      })}
    </Text>
  );
}
