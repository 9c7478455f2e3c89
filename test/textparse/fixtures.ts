import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/textparse');

export interface Fixture {
  name: string;
  body: Buffer;
  /** Expected rendered entries, one per line (good cases only). */
  golden?: string[] | undefined;
}

/** Fixtures of one kind, e.g. ('good', 'text'), sorted by name. */
export function loadFixtures(kind: 'good' | 'bad', format: 'text' | 'openmetrics'): Fixture[] {
  const dir = path.join(FIXTURES, kind, format);
  const ext = format === 'text' ? '.prom' : '.om';
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(ext))
    .sort()
    .map((f) => {
      const name = f.slice(0, -ext.length);
      const goldenPath = path.join(dir, `${name}.golden`);
      const golden = fs.existsSync(goldenPath)
        ? fs
            .readFileSync(goldenPath, 'utf8')
            .split('\n')
            .filter((l) => l !== '')
        : undefined;
      return { name, body: fs.readFileSync(path.join(dir, f)), golden };
    });
}

export function loadJson<T>(kind: 'good' | 'bad', format: 'text' | 'openmetrics', file: string): T {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, kind, format, file), 'utf8')) as T;
}
