import { SORT_KEYS, selectedIndex, type SortSpec } from './targets.ts';

/** View state of the TUI only; everything about the agent comes from the snapshot. */
const PANELS = ['targets', 'series', 'wal', 'remote'] as const;
type PanelId = (typeof PANELS)[number];

type Overlay =
  | { readonly kind: 'none' }
  | { readonly kind: 'help' }
  | { readonly kind: 'target'; readonly key: string }
  | { readonly kind: 'remote'; readonly key: string };

export type ReloadUi =
  | { readonly state: 'idle' }
  | { readonly state: 'pending' }
  | { readonly state: 'done'; readonly ok: boolean; readonly error: string };

export interface Lists {
  readonly targets: readonly string[];
  readonly remote: readonly string[];
}

export interface UiState {
  readonly focus: PanelId;
  readonly selectedTarget: string | null;
  readonly selectedRemote: string | null;
  readonly sort: SortSpec;
  readonly filter: string;
  readonly editingFilter: boolean;
  /** Restored when a filter edit is cancelled with Esc. */
  readonly filterBeforeEdit: string;
  readonly overlay: Overlay;
  readonly reload: ReloadUi;
  readonly quitRequested: boolean;
}

export type UiAction =
  | { readonly type: 'focusNext' }
  | { readonly type: 'focusPrev' }
  /**
   * Moves within the focused panel's list. `lists` are the lists in display order as last rendered; the reducer
   * resolves focus and position from the current state, so keypresses arriving before a re-render still add up.
   */
  | { readonly type: 'move'; readonly lists: Lists; readonly by: number }
  | { readonly type: 'moveTo'; readonly lists: Lists; readonly where: 'top' | 'bottom' }
  | { readonly type: 'openSelected'; readonly lists: Lists }
  | { readonly type: 'sortNext' }
  | { readonly type: 'sortReverse' }
  | { readonly type: 'filterStart' }
  | { readonly type: 'filterInput'; readonly text: string }
  | { readonly type: 'filterBackspace' }
  | { readonly type: 'filterCommit' }
  | { readonly type: 'filterCancel' }
  | { readonly type: 'filterClear' }
  | { readonly type: 'open'; readonly overlay: Overlay }
  | { readonly type: 'close' }
  | { readonly type: 'toggleHelp' }
  | { readonly type: 'reloadStart' }
  | { readonly type: 'reloadDone'; readonly ok: boolean; readonly error: string }
  | { readonly type: 'quit' };

export const initialUiState: UiState = {
  focus: 'targets',
  selectedTarget: null,
  selectedRemote: null,
  sort: { key: 'pool', desc: false },
  filter: '',
  editingFilter: false,
  filterBeforeEdit: '',
  overlay: { kind: 'none' },
  reload: { state: 'idle' },
  quitRequested: false,
};

const NONE: Overlay = { kind: 'none' };

export function uiReducer(s: UiState, a: UiAction): UiState {
  switch (a.type) {
    case 'focusNext':
    case 'focusPrev': {
      const i = PANELS.indexOf(s.focus);
      const step = a.type === 'focusNext' ? 1 : PANELS.length - 1;
      return { ...s, focus: PANELS[(i + step) % PANELS.length] ?? s.focus };
    }
    case 'move':
    case 'moveTo': {
      const sel = selectionOf(s);
      if (sel === null) return s;
      const keys = a.lists[sel.list];
      if (keys.length === 0) return s;
      const cur = selectedIndex(keys, sel.current);
      const want = a.type === 'move' ? cur + a.by : a.where === 'top' ? 0 : keys.length - 1;
      const key = keys[Math.max(0, Math.min(keys.length - 1, want))];
      if (key === undefined) return s;
      return sel.list === 'targets' ? { ...s, selectedTarget: key } : { ...s, selectedRemote: key };
    }
    case 'openSelected': {
      const sel = selectionOf(s);
      if (sel === null || a.lists[sel.list].length === 0) return s;
      const keys = a.lists[sel.list];
      const key = keys[selectedIndex(keys, sel.current)];
      if (key === undefined) return s;
      return { ...s, overlay: sel.list === 'targets' ? { kind: 'target', key } : { kind: 'remote', key } };
    }
    case 'sortNext': {
      const i = SORT_KEYS.indexOf(s.sort.key);
      return { ...s, sort: { key: SORT_KEYS[(i + 1) % SORT_KEYS.length] ?? s.sort.key, desc: s.sort.desc } };
    }
    case 'sortReverse':
      return { ...s, sort: { key: s.sort.key, desc: !s.sort.desc } };
    case 'filterStart':
      // The filter only applies to targets, so jump there: typing a filter into an unfocused list is confusing.
      return { ...s, editingFilter: true, filterBeforeEdit: s.filter, focus: 'targets', overlay: NONE };
    case 'filterInput':
      return { ...s, filter: s.filter + a.text };
    case 'filterBackspace':
      return { ...s, filter: Array.from(s.filter).slice(0, -1).join('') };
    case 'filterCommit':
      return { ...s, editingFilter: false };
    case 'filterCancel':
      return { ...s, editingFilter: false, filter: s.filterBeforeEdit };
    case 'filterClear':
      return { ...s, filter: '', editingFilter: false };
    case 'open':
      return { ...s, overlay: a.overlay };
    case 'close':
      return { ...s, overlay: NONE };
    case 'toggleHelp':
      return { ...s, overlay: s.overlay.kind === 'help' ? NONE : { kind: 'help' } };
    case 'reloadStart':
      return { ...s, reload: { state: 'pending' } };
    case 'reloadDone':
      return { ...s, reload: { state: 'done', ok: a.ok, error: a.error } };
    case 'quit':
      return { ...s, quitRequested: true, editingFilter: false };
  }
}

/** The list that the focused panel selects in, if it has one. */
function selectionOf(s: UiState): { list: 'targets' | 'remote'; current: string | null } | null {
  if (s.focus === 'targets') return { list: 'targets', current: s.selectedTarget };
  if (s.focus === 'remote') return { list: 'remote', current: s.selectedRemote };
  return null;
}
