import fs from 'node:fs/promises';
import path from 'node:path';
import type { WalPosition } from './queue-manager.ts';

/**
 * Per-endpoint read position on disk (<data>/remote/<name>.json), written atomically (temp file +
 * rename) after acknowledgements. Writes are coalesced: at most one in flight, the newest wins.
 */
export class ProgressFile {
  readonly file: string;
  private pending: WalPosition | null = null;
  private writing: Promise<void> | null = null;
  private last: WalPosition | null = null;

  constructor(dataDir: string, name: string) {
    this.file = path.join(dataDir, 'remote', `${sanitize(name)}.json`);
  }

  async load(): Promise<WalPosition | null> {
    try {
      const j = JSON.parse(await fs.readFile(this.file, 'utf8')) as { segment?: unknown; offset?: unknown };
      if (typeof j.segment === 'number' && typeof j.offset === 'number' && j.segment >= 0 && j.offset >= 0) {
        this.last = { segment: j.segment, offset: j.offset };
        return this.last;
      }
    } catch {
      // Missing or unreadable: the endpoint starts at "now", like a new one.
    }
    return null;
  }

  get position(): WalPosition | null {
    return this.pending ?? this.last;
  }

  /** Records a newer position; an older one (late acknowledgements after a forced skip) is ignored. */
  save(pos: WalPosition): void {
    const cur = this.position;
    if (cur && (pos.segment < cur.segment || (pos.segment === cur.segment && pos.offset < cur.offset))) return;
    this.pending = pos;
    if (!this.writing) this.writing = this.flushLoop();
  }

  /** Resolves once the newest saved position is on disk. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  /** Last write error (the position stays pending and is written with the next save). */
  lastError: string = '';

  private async flushLoop(): Promise<void> {
    try {
      while (this.pending) {
        const pos = this.pending;
        this.pending = null;
        try {
          await writeAtomic(this.file, JSON.stringify({ segment: pos.segment, offset: pos.offset }) + '\n');
          this.last = pos;
          this.lastError = '';
        } catch (err) {
          // Disk full or directory gone: never crash the agent over it. Keep the position (unless a
          // newer one arrived meanwhile) so the next acknowledgement retries the write.
          this.pending ??= pos;
          this.lastError = err instanceof Error ? err.message : String(err);
          return;
        }
      }
    } finally {
      this.writing = null;
    }
  }

  async remove(): Promise<void> {
    await this.flush();
    await fs.rm(this.file, { force: true });
  }
}

/** Directories already created by this process (acknowledgements are frequent; mkdir once). */
const madeDirs = new Set<string>();

async function writeAtomic(file: string, data: string): Promise<void> {
  const dir = path.dirname(file);
  if (!madeDirs.has(dir)) {
    await fs.mkdir(dir, { recursive: true });
    madeDirs.add(dir);
  }
  const tmp = file + '.tmp';
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(tmp, 'w');
  } catch (err) {
    madeDirs.delete(dir);
    throw err;
  }
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fs.rename(tmp, file);
}

function sanitize(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]/g, '_');
}
