#!/usr/bin/env node
import fs from 'node:fs';
import path from 'node:path';
import { versionText } from './build-info.ts';
import { createLogger } from './log/logger.ts';
import { errorMessage, systemErrorText } from './util/errors.ts';
import type { Flags } from './cli/flags.ts';
import type { Config } from './config/types.ts';

// `outpost | head` must not crash on a closed pipe.
for (const s of [process.stdout, process.stderr])
  s.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
  });

process.title = 'outpost';

async function main(argv: string[]): Promise<number> {
  // The common `outpost --version` answers before yargs and its dependencies are evaluated (see
  // scripts/bench-startup.ts for the figures); every other command line goes through parseFlags.
  if (argv.length === 1 && argv[0] === '--version') {
    process.stdout.write(versionText() + '\n');
    return 0;
  }
  const { parseFlags, FlagError, AgentModeFlagError } = await import('./cli/flags.ts');
  let flags: Flags;
  try {
    const r = parseFlags(argv);
    if ('exit' in r) {
      process.stdout.write((r.output === '__version__' ? versionText() : r.output) + '\n');
      return r.exit;
    }
    flags = r;
  } catch (err) {
    process.stderr.write(`outpost: error: ${errorMessage(err)}\n`);
    if (err instanceof AgentModeFlagError) return 3;
    return err instanceof FlagError ? 2 : 1;
  }

  // Before anything is loaded, opened or locked: this may replace the process (same PID and
  // arguments) with one tuned for a small footprint.
  if (flags.command !== 'check-config') await (await import('./runtime-tuning.ts')).applyRuntimeTuning();
  if (flags.command === 'check-config') {
    const { checkConfigFiles } = await import('./cli/check-config.ts');
    return checkConfigFiles(flags.checkFiles, (line) => void process.stdout.write(line + '\n'));
  }
  // The agent is loaded only now, so --version and --help stay fast.
  const { loadConfigFile, formatIssue } = await import('./config/load.ts');

  const interactive = flags.tui && process.stdout.isTTY === true && process.stdin.isTTY === true;
  // Under the dashboard, log lines would tear the screen: they go to <data>/outpost.log instead.
  let write: ((line: string) => void) | undefined;
  const logFile = path.resolve(flags.dataDir, 'outpost.log');
  if (interactive) {
    try {
      fs.mkdirSync(flags.dataDir, { recursive: true });
      const fd = fs.openSync(logFile, 'a');
      const stream = fs.createWriteStream('', { fd });
      write = (line) => void stream.write(line + '\n');
    } catch (err) {
      process.stderr.write(`outpost: opening storage failed: ${systemErrorText(err)}\n`);
      return 1;
    }
  }
  const log = createLogger({ level: flags.logLevel, format: flags.logFormat, write });
  for (const w of flags.warnings) log.warn(w.msg, w.fields);

  let config: Config;
  try {
    config = await loadConfigFile(flags.configFile);
  } catch (err) {
    log.error('Error loading config', { file: flags.configFile, err: errorMessage(err) });
    if (interactive) process.stderr.write(`outpost: ${errorMessage(err)}\n`);
    return 1;
  }

  for (const w of config.warnings) log.warn('Config has no effect in agent mode', { warning: formatIssue(w) });
  const { Agent } = await import('./app.ts');
  const agent = new Agent(flags, config, log);
  let exiting = false;
  const shutdown = (signal: string) => {
    if (exiting) {
      log.warn('Second signal received, exiting now', { signal });
      process.exit(1);
    }
    exiting = true;
    log.info('Received termination request, shutting down gracefully', { signal });
    void agent.stop().then(
      () => process.exit(0),
      (err) => {
        log.error('Shutdown failed', { err: errorMessage(err) });
        process.exit(1);
      },
    );
  };
  agent.onQuitRequest = () => shutdown('api');
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGHUP', () => void agent.reload());

  try {
    await agent.start();
  } catch (err) {
    log.error('Failed to start', { err: systemErrorText(err) });
    if (interactive) process.stderr.write(`outpost: ${systemErrorText(err)}\n`);
    await agent.stop({ failedStart: true }).catch(() => undefined);
    return 1;
  }
  // Type=notify: systemd counts the service as started only now, with the WAL replayed.
  const { notifyReady } = await import('./util/sd-notify.ts');
  void notifyReady(`Ready, listening on ${agent.listenAddress}`).then((problem) => {
    if (problem) log.warn('Could not report readiness to systemd', { err: problem });
  });

  if (interactive) {
    const { runTui } = await import('../tui/index.tsx');
    const ui = runTui(agent.hub, { reload: () => agent.reload(), quit: () => shutdown('tui') }, { logFile });
    void ui.waitUntilExit().then(() => {
      // The UI also closes itself once shutdown finished; only a UI that went away first asks for it.
      if (!exiting) shutdown('tui');
    });
  }
  return -1;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`outpost: fatal: ${errorMessage(err)}\n`);
    process.exit(1);
  },
);
