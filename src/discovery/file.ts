/**
 * file_sd_configs, as Prometheus' discovery/file: every refresh lists the files matching the
 * patterns (Go filepath.Glob semantics), reads each one whole and emits the complete list.
 * A file that cannot be read or parsed keeps the groups it last yielded (and the error is
 * counted and logged with the file's name); a file that no longer matches loses its groups.
 *
 * Refreshes happen at start, every refresh_interval, and shortly after any change the
 * filesystem reports in a watched directory. Like Prometheus (fsnotify on the pattern
 * directories), the parent directories are watched rather than the files: that sees creation,
 * deletion and atomic rename-into-place, which per-file watches lose track of. Events are
 * debounced briefly so a file written in several chunks is read once, complete.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { glob, hasMeta } from '../util/glob.ts';
import type { FileSdConfig, NameValidationScheme, TargetGroup } from '../config/types.ts';
import type { Logger } from '../log/logger.ts';
import type { Clock, TimerHandle } from '../util/clock.ts';
import { errorMessage } from '../util/errors.ts';
import type { Discoverer } from './discoverer.ts';
import type { SdMetrics } from './metrics.ts';
import { parseGroupsJson, parseGroupsYaml, toTargetGroups } from './targetgroups.ts';

const FILE_PATH_LABEL = '__meta_filepath';
/** Default wait between a filesystem event and the re-read it causes. */
const FILE_SD_DEBOUNCE_MS = 100;

export interface FileDiscovererOptions {
  readonly config: FileSdConfig;
  readonly scheme: NameValidationScheme;
  readonly log: Logger;
  readonly metrics: SdMetrics;
  readonly clock: Clock;
  readonly debounceMs?: number | undefined;
}

export class FileDiscoverer implements Discoverer {
  private readonly o: FileDiscovererOptions;
  /** Last good groups per file, in the order files were listed. */
  private last = new Map<string, TargetGroup[]>();
  private readonly watchers = new Map<string, fs.FSWatcher>();
  /** Directories whose watch failed (missing, unreadable), so the failure is logged once. */
  private readonly unwatchable = new Set<string>();

  constructor(o: FileDiscovererOptions) {
    this.o = o;
  }

  async run(signal: AbortSignal, emit: (groups: TargetGroup[]) => void): Promise<void> {
    const { clock } = this.o;
    const debounceMs = this.o.debounceMs ?? FILE_SD_DEBOUNCE_MS;
    let dirty = false;
    let debounce: TimerHandle | null = null;
    let wake: (() => void) | null = null;
    const onEvent = (): void => {
      if (debounce || signal.aborted) return;
      debounce = clock.setTimeout(() => {
        debounce = null;
        dirty = true;
        wake?.();
      }, debounceMs);
    };
    try {
      // Watch the pattern directories before the first scan, so a file created during it is not missed.
      this.syncWatches([], onEvent);
      while (!signal.aborted) {
        dirty = false;
        const files = await this.refresh();
        if (signal.aborted) break;
        emit(this.current());
        this.syncWatches(files, onEvent);
        if (dirty) continue;
        await new Promise<void>((resolve) => {
          const done = (): void => {
            clock.clearTimeout(timer);
            signal.removeEventListener('abort', done);
            wake = null;
            resolve();
          };
          const timer = clock.setTimeout(done, this.o.config.refreshInterval);
          wake = done;
          signal.addEventListener('abort', done, { once: true });
        });
      }
    } finally {
      if (debounce) clock.clearTimeout(debounce);
      for (const w of this.watchers.values()) w.close();
      this.watchers.clear();
      for (const f of this.last.keys()) this.o.metrics.fileMtime.remove({ filename: f });
    }
  }

  private current(): TargetGroup[] {
    const out: TargetGroup[] = [];
    for (const groups of this.last.values()) out.push(...groups);
    return out;
  }

  /** One scan: returns the files that matched. */
  private async refresh(): Promise<string[]> {
    const { metrics, log, scheme } = this.o;
    const t0 = performance.now();
    const files = await this.listFiles();
    const next = new Map<string, TargetGroup[]>();
    for (const file of files) {
      try {
        const { groups, mtimeMs } = await readSdFile(file, scheme);
        next.set(file, groups);
        metrics.fileMtime.set({ filename: file }, Math.floor(mtimeMs / 1000));
      } catch (err) {
        metrics.fileReadErrors.inc();
        log.error('Error reading file', { path: file, err: errorMessage(err) });
        const prev = this.last.get(file);
        if (prev) next.set(file, prev);
      }
    }
    for (const f of this.last.keys()) {
      if (!next.has(f)) {
        log.debug('file_sd refresh found file that should be removed', { file: f });
        metrics.fileMtime.remove({ filename: f });
      }
    }
    this.last = next;
    metrics.fileScanDuration.observe((performance.now() - t0) / 1000);
    return files;
  }

  private async listFiles(): Promise<string[]> {
    const seen = new Set<string>();
    const out: string[] = [];
    for (const p of this.o.config.files) {
      let matches: string[];
      try {
        matches = await glob(p);
      } catch (err) {
        this.o.log.error('Error expanding glob', { glob: p, err: errorMessage(err) });
        continue;
      }
      for (const m of matches) {
        if (seen.has(m)) continue;
        seen.add(m);
        out.push(m);
      }
    }
    return out;
  }

  /** Watches the pattern directories and the directories of matched files; retries failed ones each refresh. */
  private syncWatches(files: readonly string[], onEvent: () => void): void {
    const dirs = new Set<string>();
    for (const p of this.o.config.files) {
      const d = path.dirname(p);
      if (!hasMeta(d)) dirs.add(d);
    }
    for (const f of files) dirs.add(path.dirname(f));
    for (const [d, w] of this.watchers) {
      if (!dirs.has(d)) {
        w.close();
        this.watchers.delete(d);
      }
    }
    for (const d of dirs) {
      if (this.watchers.has(d)) continue;
      try {
        const w = fs.watch(d, { persistent: false }, onEvent);
        w.on('error', (err) => {
          this.o.metrics.fileWatcherErrors.inc();
          this.o.log.error('Error watching file', { path: d, err: errorMessage(err) });
          w.close();
          if (this.watchers.get(d) === w) this.watchers.delete(d);
          // The directory may have been removed: re-scan, which re-establishes the watch if it can.
          onEvent();
        });
        this.watchers.set(d, w);
        this.unwatchable.delete(d);
      } catch (err) {
        if (!this.unwatchable.has(d)) {
          this.unwatchable.add(d);
          this.o.log.warn('Error adding file watch; relying on refresh_interval', { path: d, err: errorMessage(err) });
        }
      }
    }
  }
}

/** Reads and decodes one file_sd file (JSON by its .json extension, else YAML); throws on any problem. */
export async function readSdFile(
  file: string,
  scheme: NameValidationScheme,
): Promise<{ groups: TargetGroup[]; mtimeMs: number }> {
  const [text, st] = await Promise.all([fsp.readFile(file, 'utf8'), fsp.stat(file)]);
  const ext = path.extname(file).toLowerCase();
  const raw = ext === '.json' ? parseGroupsJson(text, scheme) : parseGroupsYaml(text, scheme);
  return { groups: toTargetGroups(raw, file, FILE_PATH_LABEL, file), mtimeMs: st.mtimeMs };
}

// ---------------------------------------------------------------------------------------------
export { glob, globRegExp } from '../util/glob.ts';
