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
