/**
 * Node builtins that a plain-HTTP agent never needs, loaded on first use instead of at start-up.
 * The bundle is one ESM file whose static imports all load before anything runs, and https/tls,
 * crypto and zlib cost about 8, 2.3 and 0.9 MB of RSS (scripts/build.ts has the measurements).
 * `process.getBuiltinModule` is synchronous, so call sites stay synchronous, and it works inside
 * the single executable. Each accessor keeps the module in a module-level variable: after the first
 * call a use costs one comparison.
 *
 * Use `import type` for these modules' types elsewhere; a value import brings the load back.
 */
type Https = typeof import('node:https');
type Tls = typeof import('node:tls');
type Crypto = typeof import('node:crypto');
type Zlib = typeof import('node:zlib');

let https: Https | undefined;
let tls: Tls | undefined;
let crypto: Crypto | undefined;
let zlib: Zlib | undefined;

export function lazyHttps(): Https {
  return (https ??= process.getBuiltinModule('node:https'));
}

export function lazyTls(): Tls {
  return (tls ??= process.getBuiltinModule('node:tls'));
}

export function lazyCrypto(): Crypto {
  return (crypto ??= process.getBuiltinModule('node:crypto'));
}

export function lazyZlib(): Zlib {
  return (zlib ??= process.getBuiltinModule('node:zlib'));
}
