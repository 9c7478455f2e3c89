import { Gauge, type Registry } from 'prom-client';
import type { BuildInfo } from '../build-info.ts';

/** prometheus_config_* and prometheus_build_info, as Prometheus exposes them. */
export class ConfigMetrics {
  private readonly success: Gauge;
  private readonly successTime: Gauge;

  constructor(reg: Registry, info: BuildInfo) {
    this.success = new Gauge({
      name: 'prometheus_config_last_reload_successful',
      help: 'Whether the last configuration reload attempt was successful.',
      registers: [reg],
    });
    this.successTime = new Gauge({
      name: 'prometheus_config_last_reload_success_timestamp_seconds',
      help: 'Timestamp of the last successful configuration reload.',
      registers: [reg],
    });
    const build = new Gauge({
      name: 'prometheus_build_info',
      help:
        "A metric with a constant '1' value labeled by version, revision, branch, goversion from which prometheus " +
        'was built, and the goos and goarch for the build.',
      labelNames: ['version', 'revision', 'branch', 'goversion', 'goos', 'goarch', 'tags'],
      registers: [reg],
    });
    build.set(
      {
        version: info.version,
        revision: info.revision,
        branch: info.branch,
        goversion: info.goVersion,
        goos: process.platform,
        goarch: process.arch,
        tags: 'outpost',
      },
      1,
    );
  }

  reloaded(ok: boolean, nowMs: number): void {
    this.success.set(ok ? 1 : 0);
    if (ok) this.successTime.set(Math.floor(nowMs / 1000));
  }
}
