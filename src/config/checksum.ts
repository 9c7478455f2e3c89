/**
 * The checksum `--config.auto-reload` compares between checks, computed as Prometheus 3.x computes
 * it (config/reload.go GenerateChecksum): SHA-256 over the config file's bytes, then, for every file
 * matched by `rule_files` and then by `scrape_config_files` (relative patterns resolved against
 * the config file's directory), a prefix `r` or `s`, NUL, the path, NUL, the file's bytes and NUL.
 * So touching a file without changing it triggers nothing, while editing an included file does.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { OutpostError, errorMessage } from '../util/errors.ts';
import { lazyCrypto } from '../util/lazy-builtin.ts';
import { glob } from '../util/glob.ts';

class ConfigChecksumError extends OutpostError {
  constructor(message: string) {
    super('OUTPOST_CONFIG_CHECKSUM_FAILED', message);
  }
}

function stringList(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** Hex SHA-256 of the config file and the files it includes; throws ConfigChecksumError. */
export async function configChecksum(file: string): Promise<string> {
  const hash = lazyCrypto().createHash('sha256');
  let text: Buffer;
  try {
    text = await fsp.readFile(file);
  } catch (err) {
    throw new ConfigChecksumError(`error reading YAML file: ${errorMessage(err)}`);
  }
  hash.update(text);
  let doc: unknown;
  try {
    doc = parse(text.toString('utf8'));
  } catch (err) {
    throw new ConfigChecksumError(`error unmarshalling YAML: ${errorMessage(err)}`);
  }
  const top = doc !== null && typeof doc === 'object' ? (doc as Record<string, unknown>) : {};
  const dir = path.dirname(file);
  const join = (p: string): string => (p === '' || path.isAbsolute(p) ? p : path.join(dir, p));
  const groups: [string, string[]][] = [
    ['r', stringList(top.rule_files).map(join)],
    ['s', stringList(top.scrape_config_files).map(join)],
  ];
  for (const [prefix, patterns] of groups) {
    for (const pattern of patterns) {
      let files: string[];
      try {
        files = await glob(pattern);
      } catch (err) {
        throw new ConfigChecksumError(
          `error finding files with pattern ${JSON.stringify(pattern)}: ${errorMessage(err)}`,
        );
      }
      for (const f of files) {
        hash.update(`${prefix}\0${f}\0`);
        try {
          hash.update(await fsp.readFile(f));
        } catch (err) {
          throw new ConfigChecksumError(`error reading file ${f}: ${errorMessage(err)}`);
        }
        hash.update('\0');
      }
    }
  }
  return hash.digest('hex');
}
