#!/usr/bin/env node
import { Agent } from './app.ts';
import { versionText } from './build-info.ts';
import { parseFlags, FlagError } from './cli/flags.ts';
import { loadConfigFile } from './config/load.ts';
import { createLogger } from './log/logger.ts';
import { errorMessage } from './util/errors.ts';

// `outpost | head` must not crash on a closed pipe.
for (const s of [process.stdout, process.stderr]) s.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
});

async function main(argv: string[]): Promise<number> {
  let flags;
  try {
    const r = parseFlags(argv);
    if ('exit' in r) {
      process.stdout.write((r.output === '__version__' ? versionText() : r.output) + '\n');
      return r.exit;
    }
    flags = r;
  } catch (err) {
    process.stderr.write(`outpost: error: ${errorMessage(err)}\n`);
    return err instanceof FlagError ? 2 : 1;
  }

  if (flags.command === 'check-config') return checkConfig(flags.checkFiles);

  const interactive = flags.tui && process.stdout.isTTY === true && process.stdin.isTTY === true;
  // In the TUI, logs would tear the screen: keep warnings and errors only, on stderr, which the
  // dashboard does not draw on (redirect it to a file to keep them).
  const log = createLogger({ level: interactive && flags.logLevel !== 'debug' ? 'warn' : flags.logLevel, format: flags.logFormat });

  let config;
  try {
    config = await loadConfigFile(flags.configFile);
  } catch (err) {
    log.error('Error loading config', { file: flags.configFile, err: errorMessage(err) });
    if (interactive) process.stderr.write(`outpost: ${errorMessage(err)}\n`);
    return 1;
  }

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
    log.error('Failed to start', { err: errorMessage(err) });
    if (interactive) process.stderr.write(`outpost: ${errorMessage(err)}\n`);
    await agent.stop().catch(() => undefined);
    return 1;
  }

  if (interactive) {
    const { runTui } = await import('../tui/index.tsx');
    const ui = runTui(agent.hub, { reload: () => agent.reload(), quit: () => shutdown('tui') });
    void ui.waitUntilExit().then(() => shutdown('tui'));
  }
  return -1;
}

async function checkConfig(files: readonly string[]): Promise<number> {
  let failed = false;
  for (const f of files) {
    process.stdout.write(`Checking ${f}\n`);
    try {
      const cfg = await loadConfigFile(f);
      process.stdout.write(` SUCCESS: ${f} is valid prometheus config file syntax (${cfg.scrapeConfigs.length} scrape configs, ${cfg.remoteWrite.length} remote_write)\n`);
    } catch (err) {
      failed = true;
      process.stdout.write(`  FAILED: ${errorMessage(err)}\n`);
    }
  }
  return failed ? 1 : 0;
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
