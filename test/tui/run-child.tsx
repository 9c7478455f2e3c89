/**
 * Child process for tests that depend on process-wide state fixed at load time: chalk decides its colour level
 * when first imported (in an ava worker, before any test code runs), and runTui reads NO_COLOR from the
 * environment. Renders one snapshot through runTui into a fake terminal and prints the final frame as JSON.
 */
import { runTui } from '../../tui/index.tsx';
import { FakeInput, FakeStore, FakeTerminal, makeSnapshot, recordingActions } from './fixtures.ts';

const out = new FakeTerminal(Number(process.env.COLS ?? 100), Number(process.env.ROWS ?? 30));
const handle = runTui(new FakeStore(makeSnapshot()), recordingActions(), {
  stdout: out as unknown as NodeJS.WriteStream,
  stdin: new FakeInput() as unknown as NodeJS.ReadStream,
});
setTimeout(() => {
  handle.unmount();
  void handle.waitUntilExit().then(() => {
    process.stdout.write(JSON.stringify(out.frames.join('')));
  });
}, 50);
