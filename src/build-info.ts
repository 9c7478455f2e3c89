import { readFileSync } from 'node:fs';
import pkg from '../package.json' with { type: 'json' };

// Set by the bundler (scripts/build.ts); absent when running from source.
declare const __OUTPOST_REVISION__: string | undefined;
declare const __OUTPOST_BUILD_DATE__: string | undefined;

export interface BuildInfo {
  readonly version: string;
  readonly revision: string;
  readonly branch: string;
  readonly buildUser: string;
  readonly buildDate: string;
  readonly goVersion: string;
}

export const buildInfo: BuildInfo = Object.freeze({
  version: pkg.version,
  revision: typeof __OUTPOST_REVISION__ === 'string' ? __OUTPOST_REVISION__ : 'source',
  branch: 'main',
  buildUser: 'outpost',
  buildDate: typeof __OUTPOST_BUILD_DATE__ === 'string' ? __OUTPOST_BUILD_DATE__ : 'unknown',
  // Prometheus reports its Go version here; we report the runtime that runs us.
  goVersion: `node${process.versions.node}`,
});

export const USER_AGENT = `Outpost/${buildInfo.version}`;

export function versionText(): string {
  return [
    `outpost, version ${buildInfo.version} (revision: ${buildInfo.revision})`,
    `  build date:       ${buildInfo.buildDate}`,
    `  node version:     ${process.version}`,
    `  platform:         ${process.platform}/${process.arch}`,
  ].join('\n');
}

/** The open-files limit as Prometheus logs it at start ("(soft=1024, hard=524288)"); 'unknown' off Linux. */
export function fdLimits(limitsText?: string): string {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return 'unknown';
    }
  }
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(text);
  return m ? `(soft=${m[1]}, hard=${m[2]})` : 'unknown';
}

/** Fields of the start-up line: what runs, built from what, on what, with which file limit. */
export function startupFields(): Record<string, string> {
  const b = buildInfo;
  return {
    mode: 'agent',
    version: `(version=${b.version}, branch=${b.branch}, revision=${b.revision})`,
    build_context: `(node=${process.version}, user=${b.buildUser}, date=${b.buildDate})`,
    host_details: `(${process.platform} ${process.arch} ${osRelease()})`,
    fd_limits: fdLimits(),
  };
}

function osRelease(): string {
  try {
    return readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  } catch {
    return 'unknown';
  }
}
