import test from 'ava';
import { commandsFor, PLAIN } from '../../tui/keys.ts';

// Several keys can arrive in one read (fast typing, ssh, tmux send-keys); each must count.

test('a chunk of keys becomes one command per key', (t) => {
  t.deepEqual(
    commandsFor('\t\t', PLAIN, 'normal').map((c) => c.type),
    ['nextPanel', 'nextPanel'],
  );
  t.deepEqual(
    commandsFor('j\r', PLAIN, 'normal').map((c) => c.type),
    ['move', 'open'],
  );
});

test('mode changes are followed through a chunk: "/" starts filter text, Enter commits it', (t) => {
  const cmds = commandsFor('/abc\rj', PLAIN, 'normal');
  t.deepEqual(
    cmds.map((c) => c.type),
    ['filter', 'text', 'commit', 'move'],
  );
  t.deepEqual(cmds[1], { type: 'text', text: 'abc' });
});
