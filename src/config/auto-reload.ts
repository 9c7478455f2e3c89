/**
 * `--config.auto-reload`: every interval the config checksum (checksum.ts) is computed again and a
 * change reloads the config, as Prometheus 3.x's reload loop does (cmd/prometheus/main.go): the
 * checksum is remembered only after a reload succeeds (so a broken edit is retried at every check
 * until it is fixed), a reload from SIGHUP or the API refreshes it too, and a checksum that cannot
 * be computed logs an error and reloads anyway.
 */
import { logDuration, type Logger } from '../log/logger.ts';
import type { Clock, TimerHandle } from '../util/clock.ts';
import { errorMessage } from '../util/errors.ts';
import { configChecksum } from './checksum.ts';

export interface AutoReloadOptions {
  readonly file: string;
  readonly intervalMs: number;
  readonly clock: Clock;
  readonly log: Logger;
  /** Reloads the config; ok=false when it was not applied. */
  readonly reload: () => Promise<{ ok: boolean }>;
}

export class AutoReloader {
  private readonly o: AutoReloadOptions;
  private checksum = '';
  private timer: TimerHandle | null = null;
  private stopped = false;
  /** The check under way, so stop() can wait for it. */
  private running: Promise<void> | null = null;

  constructor(o: AutoReloadOptions) {
    this.o = o;
  }

  async start(): Promise<void> {
    this.o.log.info('Automatic configuration file reloading enabled', { interval: logDuration(this.o.intervalMs) });
    try {
      this.checksum = await configChecksum(this.o.file);
    } catch (err) {
      this.o.log.error('Failed to generate initial checksum for configuration file', { err: errorMessage(err) });
    }
    this.schedule();
  }

  /** A reload that succeeded by another route (SIGHUP, /-/reload, the dashboard). */
  async reloaded(): Promise<void> {
    try {
      this.checksum = await configChecksum(this.o.file);
    } catch (err) {
      this.o.log.error('Failed to generate checksum during configuration reload', { err: errorMessage(err) });
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) this.o.clock.clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.o.clock.setTimeout(() => {
      this.running = this.check().finally(() => {
        this.running = null;
        this.schedule();
      });
    }, this.o.intervalMs);
  }

  private async check(): Promise<void> {
    let current = '';
    try {
      current = await configChecksum(this.o.file);
      if (current === this.checksum) return;
    } catch (err) {
      this.checksum = '';
      this.o.log.error('Failed to generate checksum during configuration reload', { err: errorMessage(err) });
    }
    if (this.stopped) return;
    this.o.log.info('Configuration file change detected, reloading the configuration.');
    const r = await this.o.reload();
    if (r.ok) this.checksum = current;
  }
}
