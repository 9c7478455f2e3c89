import test from 'ava';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { sourceFiles } from '../helpers/import-graph.ts';
import { ROOT } from '../helpers/procs.ts';
import { ERROR_CATALOGUE, OutpostError, type ErrorCode } from '../../src/util/errors.ts';
import { ConfigError } from '../../src/config/errors.ts';
import { InvalidRecordError, WalWriteError } from '../../src/wal/errors.ts';
import { SnappyError, snappyDecompressInto, Scratch } from '../../src/util/snappy.ts';

interface ErrorClass {
  readonly name: string;
  readonly base: string;
  readonly codes: string[];
  readonly file: string;
}

/** Every error class declared in src/ with the codes its constructor passes to super(). */
function errorClasses(): ErrorClass[] {
  const out: ErrorClass[] = [];
  for (const file of sourceFiles(ROOT, 'src')) {
    // The browser script has its own errors, which never reach the agent's users as codes.
    if (file === 'src/web/ui/client.ts') continue;
    const src = readFileSync(path.join(ROOT, file), 'utf8');
    for (const m of src.matchAll(/^(?:export )?class (\w+) extends (\w*Error)\b[^{]*\{\n([\s\S]*?)\n\}$/gm)) {
      const [, name = '', base = '', body = ''] = m;
      out.push({ name, base, codes: [...body.matchAll(/super\(\s*'([^']+)'/g)].map((c) => c[1] ?? ''), file });
    }
    // `class X extends codedError('CODE') {}`: an OutpostError subclass whose only code is CODE.
    for (const m of src.matchAll(/^(?:export )?class (\w+) extends codedError\('([^']+)'\) \{\}$/gm)) {
      const [, name = '', code = ''] = m;
      out.push({ name, base: 'OutpostError', codes: [code], file });
    }
  }
  return out;
}

test('each catalogue code belongs to exactly the class it names, and every error class of src/ is in the catalogue', (t) => {
  const classes = errorClasses();
  const byName = new Map(classes.map((c) => [c.name, c]));
  t.true(byName.has('ConfigError') && byName.has('LockError'), 'the class scan finds nothing');

  for (const [code, entry] of Object.entries(ERROR_CATALOGUE)) {
    const cls = byName.get(entry.class);
    t.truthy(cls, `${code}: no class ${entry.class} in src/`);
    t.deepEqual(cls?.codes, [code], `${entry.class} (${cls?.file}) should raise ${code}`);
    t.regex(code, /^OUTPOST_[A-Z0-9_]+$/);
    t.true(entry.action.length > 20 && entry.action.endsWith('.'), `${code}: the action should be a sentence`);
  }
  const catalogued = new Set<string>(Object.values(ERROR_CATALOGUE).map((e) => e.class));
  for (const c of classes) {
    if (c.name === 'OutpostError') continue;
    t.is(c.base, 'OutpostError', `${c.name} (${c.file}) should extend OutpostError`);
    t.true(catalogued.has(c.name), `${c.name} (${c.file}) is missing from ERROR_CATALOGUE`);
  }
});

test('no code is raised outside its class', (t) => {
  for (const file of sourceFiles(ROOT, 'src')) {
    if (file === 'src/util/errors.ts') continue;
    t.false(
      readFileSync(path.join(ROOT, file), 'utf8').includes('new OutpostError('),
      `${file} builds an OutpostError without a class`,
    );
  }
});

test('an error carries its code, its class name and the catalogue action', (t) => {
  const config = new ConfigError('agent.yml', 3, 5, 'global.scrape_interval', 'bad duration');
  t.is(config.code, 'OUTPOST_CONFIG_INVALID');
  t.is(config.name, 'ConfigError');
  t.is(config.action, ERROR_CATALOGUE.OUTPOST_CONFIG_INVALID.action);
  t.true(config instanceof OutpostError);

  // A class built on codedError() is an OutpostError with its own name.
  const write = new WalWriteError('fsync failed', { cause: new Error('EIO') });
  t.is(write.code, 'OUTPOST_WAL_WRITE');
  t.is(write.name, 'WalWriteError');
  t.is(write.message, 'fsync failed');
  t.true(write instanceof WalWriteError && write instanceof OutpostError);
  t.false(new InvalidRecordError('short') instanceof WalWriteError);

  const snappy = t.throws(() => snappyDecompressInto(Uint8Array.of(0xff), new Scratch(16), 1024), {
    instanceOf: SnappyError,
  });
  const code: ErrorCode | undefined = snappy?.code;
  t.is(code, 'OUTPOST_SNAPPY_INVALID');
  t.regex(snappy?.action ?? '', /corrupt/);
});
