import test from 'ava';
import { runTui } from '../../tui/index.tsx';
import {
  FakeInput,
  FakeStore,
  FakeTerminal,
  KEYS,
  makeSnapshot,
  recordingActions,
  stripAnsi,
  tick,
  waitFor,
} from './fixtures.ts';

function start(stdin = new FakeInput()) {
  const out = new FakeTerminal(100, 30);
  const store = new FakeStore(makeSnapshot());
  const actions = recordingActions();
  const handle = runTui(store, actions, {
    stdout: out as unknown as NodeJS.WriteStream,
    stdin: stdin as unknown as NodeJS.ReadStream,
    maxFps: 50,
  });
  return { out, store, actions, handle, stdin };
}

test('runTui renders to the given stdout and unmount() ends it', async (t) => {
  const { out, handle, store } = start();
  await tick(30);
  t.is(store.listenerCount, 1, 'subscribed to the store');
  handle.unmount();
  await handle.waitUntilExit();
  // Not a TTY, so Ink writes the final frame once at unmount.
  t.regex(stripAnsi(out.frames.join('')), /Outpost 0\.1\.0 +● running/);
  t.is(store.listenerCount, 0, 'unsubscribed on unmount');
});

test('the UI exits by itself once the agent reports phase stopped', async (t) => {
  const { handle, store } = start();
  await tick(30);
  let exited = false;
  void handle.waitUntilExit().then(() => {
    exited = true;
  });
  store.update({ phase: 'stopping' });
  await tick(50);
  t.false(exited, 'still showing "flushing…" while stopping');
  store.update({ phase: 'stopped' });
  await waitFor(
    () => exited,
    () => 'not exited',
  );
  t.true(exited);
});

test('Ctrl-C on stdin asks the agent to quit instead of killing the UI', async (t) => {
  const { handle, stdin, actions } = start();
  await tick(30);
  let exited = false;
  void handle.waitUntilExit().then(() => {
    exited = true;
  });
  stdin.write(KEYS.ctrlC);
  await waitFor(
    () => actions.calls.length > 0,
    () => 'no call',
  );
  t.deepEqual(actions.calls, ['quit']);
  await tick(30);
  t.false(exited);
  handle.unmount();
  await handle.waitUntilExit();
});

test('a stdin without raw mode (not a TTY) gives a view-only dashboard instead of a crash', async (t) => {
  const stdin = new FakeInput();
  stdin.isTTY = false;
  const { handle, out } = start(stdin);
  await tick(30);
  handle.unmount();
  await handle.waitUntilExit();
  t.true(stripAnsi(out.frames.join('')).includes('Outpost'));
});
