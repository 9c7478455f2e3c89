import test from 'ava';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { replayWal } from '../../src/wal/reader.ts';
import { RwReceiver } from '../helpers/rw-receiver.ts';
import { startPipeline, tmpDir } from '../helpers/agent-parts.ts';
import { at } from '../helpers/defined.ts';

// A real full disk: a 3 MiB tmpfs (needs root, as CI has; skipped otherwise).
test.serial(
  'disk full: keeps running, drops and counts, leaves no corrupt segment, resumes when space is back',
  async (t) => {
    const mnt = await tmpDir('outpost-enospc-');
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', mnt], { stdio: 'ignore' });
    } catch {
      t.log('cannot mount a tmpfs here (not root?): skipped');
      t.pass();
      return;
    }
    const rx = await RwReceiver.start();
    t.teardown(async () => {
      await rx.close();
      try {
        execFileSync('umount', [mnt]);
      } catch {
        // already gone
      }
      await fs.rm(mnt, { recursive: true, force: true });
    });
    const filler = path.join(mnt, 'filler');
    const p = await startPipeline(
      mnt,
      `remote_write:\n  - url: ${rx.url}\n    name: r\n    queue_config:\n      batch_send_deadline: 50ms\n`,
      { segmentSize: 32768 * 4, compress: false },
    );
    // Take most of the space, then append until the WAL hits ENOSPC.
    await fs.writeFile(filler, Buffer.alloc(2 * 1024 * 1024));
    const t0 = Date.now();
    const series: Record<string, number> = {};
    for (let i = 0; i < 500; i++) series[`fill_${i}`] = i;
    let k = 0;
    while (p.storage.walError === '' && k < 2000) await p.append(t0 + k++ * 10, series);
    t.regex(p.storage.walError, /ENOSPC|no space/i, 'the failure is reported');
    // Still running: commits are accepted and their samples counted as dropped.
    const dropped = p.storage.samplesDroppedWalFailure;
    await p.append(t0 + k++ * 10, series);
    t.true(p.storage.samplesDroppedWalFailure > dropped, 'samples dropped and counted while the disk is full');
    // Space comes back: writes resume in a new segment within the retry interval.
    await fs.rm(filler);
    const deadline = Date.now() + 15_000;
    while (p.storage.walError !== '' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    t.is(p.storage.walError, '', 'WAL writable again');
    const after = t0 + k++ * 10 + 100_000;
    await p.append(after, { resumed: 1 });
    await rx.waitFor((r) => r.series('resumed').length === 1, 10_000);
    t.is(at(rx.series('resumed'), 0, "rx.series('resumed')").timestamp, after);
    await p.stop();
    // No corrupt segment left behind: a strict replay (no repair) reads everything.
    await t.notThrowsAsync(replayWal(path.join(mnt, 'wal'), () => {}, { repair: false }));
  },
);
