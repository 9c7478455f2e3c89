import { useInput, useStdin } from 'ink';
import type { Dispatch } from 'react';
import type { StatusActions } from '../../src/status/types.ts';
import { commandsFor, type Command, type InputMode } from '../keys.ts';
import type { Lists, UiAction, UiState } from '../state.ts';

export interface KeyContext {
  readonly ui: UiState;
  readonly dispatch: Dispatch<UiAction>;
  readonly actions: StatusActions;
  /** Keys of the visible (filtered, sorted) targets and of the endpoints, in display order. */
  readonly lists: Lists;
  readonly pageSize: { readonly targets: number; readonly remotes: number };
}

function inputMode(ui: UiState): InputMode {
  if (ui.editingFilter) return 'filter';
  return ui.overlay.kind === 'none' ? 'normal' : 'overlay';
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function startReload(ctx: KeyContext): void {
  if (ctx.ui.reload.state === 'pending') return;
  ctx.dispatch({ type: 'reloadStart' });
  let p: Promise<{ ok: boolean; error?: string }>;
  try {
    p = ctx.actions.reload();
  } catch (e) {
    ctx.dispatch({ type: 'reloadDone', ok: false, error: errorText(e) });
    return;
  }
  p.then(
    (r) => ctx.dispatch({ type: 'reloadDone', ok: r.ok, error: r.error ?? '' }),
    (e: unknown) => ctx.dispatch({ type: 'reloadDone', ok: false, error: errorText(e) }),
  );
}

/** Commands that are one UI action without arguments. */
const PLAIN_ACTIONS: { readonly [C in Command['type']]?: UiAction } = {
  help: { type: 'toggleHelp' },
  nextPanel: { type: 'focusNext' },
  prevPanel: { type: 'focusPrev' },
  filter: { type: 'filterStart' },
  sort: { type: 'sortNext' },
  sortReverse: { type: 'sortReverse' },
  backspace: { type: 'filterBackspace' },
  commit: { type: 'filterCommit' },
  cancel: { type: 'filterCancel' },
};

/** Applies one command; separate from the hook so it can be tested without a terminal. */
function runCommand(cmd: Command, ctx: KeyContext): void {
  const { dispatch, ui } = ctx;
  const { lists } = ctx;
  const plain = PLAIN_ACTIONS[cmd.type];
  if (plain !== undefined) {
    dispatch(plain);
    return;
  }
  switch (cmd.type) {
    case 'quit':
      dispatch({ type: 'quit' });
      ctx.actions.quit();
      return;
    case 'reload':
      startReload(ctx);
      return;
    case 'move':
      dispatch({ type: 'move', lists, by: cmd.by });
      return;
    case 'page': {
      const page = ui.focus === 'remote' ? ctx.pageSize.remotes : ctx.pageSize.targets;
      dispatch({ type: 'move', lists, by: cmd.dir * Math.max(1, page) });
      return;
    }
    case 'moveTo':
      dispatch({ type: 'moveTo', lists, where: cmd.where });
      return;
    case 'open':
      dispatch({ type: 'openSelected', lists });
      return;
    case 'back':
      if (ui.overlay.kind !== 'none') dispatch({ type: 'close' });
      else if (ui.filter !== '') dispatch({ type: 'filterClear' });
      return;
    case 'text':
      dispatch({ type: 'filterInput', text: cmd.text });
      return;
  }
}

export function useKeyBindings(ctx: KeyContext): void {
  // Without a TTY on stdin Ink cannot enter raw mode (and would throw); the dashboard then is view-only.
  const { isRawModeSupported } = useStdin();
  useInput(
    (input, key) => {
      for (const cmd of commandsFor(input, key, inputMode(ctx.ui))) runCommand(cmd, ctx);
    },
    { isActive: isRawModeSupported },
  );
}
