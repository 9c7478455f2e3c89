import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { tmpDir, type Teardown } from './procs.ts';

const execFileAsync = promisify(execFile);

/**
 * Runs openssl in `dir`. A missing openssl is an error, not a skip: a TLS test that cannot make its
 * certificates must fail rather than pass without asserting anything.
 */
async function openssl(dir: string, args: readonly string[]): Promise<void> {
  try {
    await execFileAsync('openssl', args, { cwd: dir });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT') {
      throw new Error(
        'openssl is not installed (not found on PATH): TLS tests generate their certificates with it; install the openssl package',
        { cause: e },
      );
    }
    throw new Error(`openssl ${args.join(' ')} failed: ${err.stderr?.trim() || err.message}`, { cause: e });
  }
}

/** A certificate and its private key, as files and as PEM bytes. */
export interface Cert {
  certFile: string;
  keyFile: string;
  cert: Buffer;
  key: Buffer;
}

export interface CertOptions {
  /** The files are `<name>.crt` and `<name>.key` in the directory (default `server`). */
  name?: string;
  /** Default `/CN=outpost-test`. */
  subject?: string;
  /** subjectAltName entries; by default what loopback tests dial and name: IP:127.0.0.1, DNS:outpost-test. */
  sans?: readonly string[];
  /** extendedKeyUsage, e.g. `serverAuth,clientAuth` (default: none). */
  usage?: string;
  /** Sign with this CA instead of self-signing. */
  ca?: Cert;
}

// P-256 keys: generated in milliseconds, and the web-config tests need an ECDSA server certificate.
const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
const DAYS = '2';

/** A P-256 certificate in `dir`, self-signed unless `o.ca` is given. Throws when openssl is missing. */
export async function certificate(dir: string, o: CertOptions = {}): Promise<Cert> {
  const name = o.name ?? 'server';
  const certFile = path.join(dir, `${name}.crt`);
  const keyFile = path.join(dir, `${name}.key`);
  const subject = o.subject ?? '/CN=outpost-test';
  const sans = o.sans ?? ['IP:127.0.0.1', 'DNS:outpost-test'];
  const ext = [
    ...(sans.length ? [`subjectAltName=${sans.join(',')}`] : []),
    ...(o.usage ? [`extendedKeyUsage=${o.usage}`] : []),
  ];
  if (!o.ca) {
    await openssl(dir, [
      'req',
      '-x509',
      ...NEW_KEY,
      '-days',
      DAYS,
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-subj',
      subject,
      ...ext.flatMap((e) => ['-addext', e]),
    ]);
  } else {
    const csr = path.join(dir, `${name}.csr`);
    await openssl(dir, ['req', ...NEW_KEY, '-keyout', keyFile, '-out', csr, '-subj', subject]);
    const extArgs: string[] = [];
    if (ext.length) {
      const extFile = path.join(dir, `${name}.ext`);
      await fs.writeFile(extFile, ext.join('\n') + '\n');
      extArgs.push('-extfile', extFile);
    }
    await openssl(dir, [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      o.ca.certFile,
      '-CAkey',
      o.ca.keyFile,
      '-CAcreateserial',
      '-out',
      certFile,
      '-days',
      DAYS,
      ...extArgs,
    ]);
  }
  return { certFile, keyFile, cert: await fs.readFile(certFile), key: await fs.readFile(keyFile) };
}

/** `certificate()` in a fresh temporary directory that is removed when the test ends. */
export async function tempCert(t: Teardown, o: CertOptions = {}): Promise<Cert & { dir: string }> {
  const dir = await tmpDir('outpost-tls-');
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  return { dir, ...(await certificate(dir, o)) };
}
