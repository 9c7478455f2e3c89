import type { Key } from 'ink';

/** What a keypress means, decided from the key and the input mode only; App turns commands into state changes. */
export type Command =
  | { readonly type: 'quit' }
  | { readonly type: 'reload' }
  | { readonly type: 'help' }
  | { readonly type: 'nextPanel' }
  | { readonly type: 'prevPanel' }
  | { readonly type: 'move'; readonly by: number }
  | { readonly type: 'page'; readonly dir: -1 | 1 }
  | { readonly type: 'moveTo'; readonly where: 'top' | 'bottom' }
  | { readonly type: 'open' }
  | { readonly type: 'back' }
  | { readonly type: 'filter' }
  | { readonly type: 'sort' }
  | { readonly type: 'sortReverse' }
  | { readonly type: 'text'; readonly text: string }
  | { readonly type: 'backspace' }
  | { readonly type: 'commit' }
  | { readonly type: 'cancel' };

export type InputMode = 'normal' | 'filter' | 'overlay';

function commandFor(input: string, key: Key, mode: InputMode): Command | null {
  // Ctrl-C must always work, even while typing a filter: raw mode turns off the terminal's own SIGINT.
  if (key.ctrl && input === 'c') return { type: 'quit' };

  if (mode === 'filter') {
    if (key.return) return { type: 'commit' };
    if (key.escape) return { type: 'cancel' };
    if (key.backspace || key.delete) return { type: 'backspace' };
    if (key.ctrl || key.meta || key.tab || key.upArrow || key.downArrow || key.leftArrow || key.rightArrow) return null;
    // A paste arrives as one string; control characters in it would corrupt the prompt.
    const text = input.replace(/[\u0000-\u001f\u007f]/g, '');
    return text === '' ? null : { type: 'text', text };
  }

  if (input === 'q') return { type: 'quit' };
  if (input === 'r') return { type: 'reload' };
  if (input === '?') return mode === 'overlay' ? { type: 'back' } : { type: 'help' };

  if (mode === 'overlay') {
    if (key.escape || key.return || key.backspace || key.leftArrow || input === 'h') return { type: 'back' };
    return null;
  }

  if (key.tab) return key.shift ? { type: 'prevPanel' } : { type: 'nextPanel' };
  if (key.upArrow || input === 'k') return { type: 'move', by: -1 };
  if (key.downArrow || input === 'j') return { type: 'move', by: 1 };
  if (key.pageUp) return { type: 'page', dir: -1 };
  if (key.pageDown) return { type: 'page', dir: 1 };
  if (key.home || input === 'g') return { type: 'moveTo', where: 'top' };
  if (key.end || input === 'G') return { type: 'moveTo', where: 'bottom' };
  if (key.return || key.rightArrow || input === 'l') return { type: 'open' };
  if (key.escape) return { type: 'back' };
  if (input === '/') return { type: 'filter' };
  if (input === 's') return { type: 'sort' };
  if (input === 'S') return { type: 'sortReverse' };
  return null;
}

/** A key event with no key or modifier flag set (the base every decoded key starts from). */
export const PLAIN: Key = {
  upArrow: false,
  downArrow: false,
  leftArrow: false,
  rightArrow: false,
  pageDown: false,
  pageUp: false,
  home: false,
  end: false,
  return: false,
  escape: false,
  ctrl: false,
  shift: false,
  tab: false,
  backspace: false,
  delete: false,
  meta: false,
  super: false,
  hyper: false,
  capsLock: false,
  numLock: false,
};

const TAB: Key = { ...PLAIN, tab: true };
const RETURN: Key = { ...PLAIN, return: true };

/** The input mode after cmd, as far as it can be told without the state (see commandsFor). */
function modeAfter(mode: InputMode, cmd: Command): InputMode {
  switch (cmd.type) {
    case 'filter':
      return 'filter';
    case 'commit':
    case 'cancel':
    case 'quit':
    case 'back':
      return 'normal';
    case 'help':
    case 'open':
      return 'overlay';
    default:
      return mode;
  }
}

/**
 * Ink hands over several characters as one input when they arrive in one read (fast typing over ssh, tmux
 * send-keys, a paste). Ink splits off escape sequences, Backspace and Ctrl-C, but Tab and Enter stay inside the
 * chunk (`j\r`, `\t\t`), so each character is a key of its own here: Tab and Enter count as those keys, other
 * control characters are dropped. The mode is followed through the chunk (a `/` turns the rest into filter
 * text until an Enter). `open` is assumed to open a view, which holds whenever the list is not empty.
 * A chunk typed into the filter without Enter stays one text command, so a paste arrives whole.
 */
export function commandsFor(input: string, key: Key, mode: InputMode): Command[] {
  const chars = Array.from(input);
  if (
    chars.length < 2 ||
    key.ctrl ||
    key.meta ||
    input.startsWith('\u001b') ||
    (mode === 'filter' && !/[\r\n]/.test(input))
  ) {
    const c = commandFor(input, key, mode);
    return c === null ? [] : [c];
  }
  const out: Command[] = [];
  let m = mode;
  let text = '';
  for (const ch of chars) {
    let k = PLAIN;
    let typed = ch;
    if (ch === '\t') {
      k = TAB;
      typed = '';
    } else if (ch === '\r' || ch === '\n') {
      k = RETURN;
      typed = '';
    } else if (/[\u0000-\u001f\u007f]/.test(ch)) {
      continue;
    }
    if (m === 'filter' && k === PLAIN) {
      text += ch;
      continue;
    }
    if (text !== '') {
      out.push({ type: 'text', text });
      text = '';
    }
    const c = commandFor(typed, k, m);
    if (c === null) continue;
    out.push(c);
    m = modeAfter(m, c);
  }
  if (text !== '') out.push({ type: 'text', text });
  return out;
}
