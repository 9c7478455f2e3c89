/**
 * `outpost check config FILE...`: loads each config as the agent would, then checks what it points
 * to, as promtool does: every file_sd file must decode (a pattern matching nothing is only a warning,
 * the files may come later), and every credential, header and TLS file must be a readable file
 * (the agent would otherwise start and fail each scrape or send).
 */
import fs from 'node:fs/promises';
import type { Config, HttpClientConfig, TlsConfig } from '../config/types.ts';
import { readSdFile } from '../discovery/file.ts';
import { errorMessage, systemErrorText } from '../util/errors.ts';
import { glob } from '../util/glob.ts';

interface FileProblems {
  readonly errors: string[];
  readonly warnings: string[];
}

/** Runs the command; returns the exit code (0 when every file passed). */
export async function checkConfigFiles(files: readonly string[], out: (line: string) => void): Promise<number> {
  const { loadConfigFile } = await import('../config/load.ts');
  let failed = false;
  for (const f of files) {
    out(`Checking ${f}`);
    let cfg: Config;
    try {
      cfg = await loadConfigFile(f);
    } catch (err) {
      failed = true;
      out(`  FAILED: ${errorMessage(err)}`);
      continue;
    }
    const problems = await checkReferencedFiles(cfg);
    for (const w of problems.warnings) out(`  WARNING: ${w}`);
    for (const e of problems.errors) out(`  FAILED: ${e}`);
    if (problems.errors.length > 0) {
      failed = true;
      continue;
    }
    out(
      ` SUCCESS: ${f} is valid prometheus config file syntax ` +
        `(${cfg.scrapeConfigs.length} scrape configs, ${cfg.remoteWrite.length} remote_write)`,
    );
  }
  return failed ? 1 : 0;
}

/** Problems with the files a loaded config names (paths are already absolute). */
async function checkReferencedFiles(cfg: Config): Promise<FileProblems> {
  const errors: string[] = [];
  const warnings: string[] = [];
  for (const sc of cfg.scrapeConfigs) {
    const where = `scrape job "${sc.jobName}"`;
    await checkClientFiles(sc, where, errors);
    for (const [i, h] of sc.httpSdConfigs.entries())
      await checkClientFiles(h, `${where} http_sd_configs[${i}]`, errors);
    for (const sd of sc.fileSdConfigs) {
      for (const pattern of sd.files) {
        let matches: string[];
        try {
          matches = await glob(pattern);
        } catch (err) {
          errors.push(`${where}: file_sd pattern "${pattern}": ${errorMessage(err)}`);
          continue;
        }
        if (matches.length === 0) warnings.push(`file "${pattern}" for file_sd in ${where} does not exist`);
        for (const m of matches) {
          try {
            if ((await fs.stat(m)).isDirectory()) throw new Error(`${m} is a directory`);
            await readSdFile(m, 'utf8'); // as discovery reads it: UTF-8 names whatever the job's scheme
          } catch (err) {
            errors.push(`checking SD file "${m}" (${where}): ${systemErrorText(err)}`);
          }
        }
      }
    }
  }
  for (const rw of cfg.remoteWrite) await checkClientFiles(rw, `remote_write "${rw.name}"`, errors);
  return { errors, warnings };
}

async function checkClientFiles(c: HttpClientConfig, where: string, errors: string[]): Promise<void> {
  const named: [string, string | undefined][] = [
    ['basic_auth.username_file', c.basicAuth?.usernameFile],
    ['basic_auth.password_file', c.basicAuth?.passwordFile],
    // bearer_token_file is folded into authorization by the loader.
    ['authorization.credentials_file', c.authorization?.credentialsFile],
    ['oauth2.client_secret_file', c.oauth2?.clientSecretFile],
    ...tlsFiles('tls_config', c.tlsConfig),
    ...(c.oauth2 ? tlsFiles('oauth2.tls_config', c.oauth2.tlsConfig) : []),
  ];
  for (const [name, h] of Object.entries(c.httpHeaders ?? {}))
    for (const f of h.files) named.push([`http_headers.${name}.files`, f]);
  for (const [field, file] of named) {
    if (!file) continue;
    const problem = await unreadable(file);
    if (problem) errors.push(`${where}: ${field} "${file}": ${problem}`);
  }
}

function tlsFiles(prefix: string, t: TlsConfig): [string, string | undefined][] {
  return [
    [`${prefix}.ca_file`, t.caFile],
    [`${prefix}.cert_file`, t.certFile],
    [`${prefix}.key_file`, t.keyFile],
  ];
}

/** Why a file cannot be read, or '' when it can. */
async function unreadable(file: string): Promise<string> {
  let h: fs.FileHandle | null = null;
  try {
    h = await fs.open(file, 'r');
    if ((await h.stat()).isDirectory()) return 'is a directory';
    return '';
  } catch (err) {
    return systemErrorText(err);
  } finally {
    await h?.close();
  }
}
