/**
 * Readiness for systemd's Type=notify. Node cannot send on a unix datagram socket ($NOTIFY_SOCKET),
 * so the message goes through `systemd-notify`, which is present wherever systemd runs. The unit needs
 * NotifyAccess=all, as the sender is our child. systemd-notify (systemd ≥ 246) waits on a barrier
 * until the service manager has processed the message, so the child's quick exit cannot lose it.
 */
import { spawn } from 'node:child_process';

export interface NotifyOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** The systemd-notify binary (tests use a stand-in). */
  readonly command?: string;
  readonly timeoutMs?: number;
}

/**
 * Tells systemd the agent is ready (WAL replayed, scraping) when started under Type=notify; a no-op
 * otherwise. Resolves with '' on success or the reason it failed (the caller logs it; never fatal).
 */
export function notifyReady(status: string, o: NotifyOptions = {}): Promise<string> {
  const env = o.env ?? process.env;
  if (!env.NOTIFY_SOCKET) return Promise.resolve('');
  return new Promise((resolve) => {
    let settled = false;
    const done = (why: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(why);
    };
    const child = spawn(o.command ?? 'systemd-notify', ['--ready', `--pid=${process.pid}`, `--status=${status}`], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => done(`cannot run systemd-notify: ${err.message}`));
    child.on('close', (code) => done(code === 0 ? '' : `systemd-notify exited with ${code}: ${stderr.trim()}`));
    const timer = setTimeout(() => {
      child.kill();
      done('systemd-notify did not finish in time');
    }, o.timeoutMs ?? 10_000);
    timer.unref();
  });
}
