import test from 'ava';
import v8 from 'node:v8';
import vm from 'node:vm';
import { CODE_FLUSH_ENV, flushUnusedBytecode, scheduleBytecodeFlush } from '../../src/code-flush.ts';

// This file's worker process is the subject: its V8 flags change (ava runs each file in a process of its own).

function usedAfterGc(gc: () => void): number {
  gc();
  gc();
  return v8.getHeapStatistics().used_heap_size;
}

test('flushUnusedBytecode drops bytecode that forced GCs keep; the code still runs afterwards', (t) => {
  // About 4000 statements of bytecode, run once.
  const body = Array.from({ length: 4000 }, (_, i) => `x = (x * 31 + ${i}) % 1000003;`).join('\n');
  const f = new Function('x', `${body}\nreturn x;`) as (x: number) => number;
  const first = f(1);
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const before = usedAfterGc(gc);
  const plain = usedAfterGc(gc);
  t.true(Math.abs(before - plain) < 64 * 1024, `a forced GC alone keeps the bytecode: ${before} -> ${plain}`);
  t.true(flushUnusedBytecode());
  const after = usedAfterGc(gc);
  t.true(before - after > 256 * 1024, `used heap ${before} -> ${after}`);
  t.is(f(1), first, 'recompiled on the next call');
});

test('scheduleBytecodeFlush schedules only with OUTPOST_CODE_FLUSH=1', (t) => {
  t.false(scheduleBytecodeFlush({}));
  t.false(scheduleBytecodeFlush({ [CODE_FLUSH_ENV]: '0' }));
  t.true(scheduleBytecodeFlush({ [CODE_FLUSH_ENV]: '1' }));
});
