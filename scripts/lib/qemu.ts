/**
 * Running linux-arm64 programs on an x64 host with Debian's user-mode emulator: `qemu-aarch64-static`
 * (package qemu-user-static) or `qemu-aarch64` (qemu-user), with the arm64 runtime libraries of the
 * `*-arm64-cross` packages (/usr/aarch64-linux-gnu) or of multiarch (QEMU_LD_PREFIX set by the user).
 * Used to build the arm64 SEA blob with its V8 code cache, and by the tests and bench:startup to run it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export interface Emulator {
  /** The qemu binary. */
  qemu: string;
  /** Where the arm64 dynamic loader and libraries live (qemu's -L). */
  sysroot: string;
}

const QEMU_PACKAGES = 'qemu-user-static libc6-arm64-cross libstdc++6-arm64-cross libatomic1-arm64-cross';

/** The emulator, or why there is none. */
export function findEmulator(): Emulator | { missing: string } {
  const qemu = ['qemu-aarch64-static', 'qemu-aarch64'].find(
    (q) => spawnSync(q, ['--version'], { stdio: 'ignore' }).status === 0,
  );
  if (!qemu)
    return { missing: `qemu-aarch64-static (or qemu-aarch64) is not on PATH: apt-get install ${QEMU_PACKAGES}` };
  const sysroot = process.env.QEMU_LD_PREFIX || '/usr/aarch64-linux-gnu';
  if (!existsSync(`${sysroot}/lib/ld-linux-aarch64.so.1`)) {
    return {
      missing: `no arm64 dynamic loader in ${sysroot}/lib (set QEMU_LD_PREFIX, or apt-get install ${QEMU_PACKAGES})`,
    };
  }
  return { qemu, sysroot };
}

/** argv that runs the arm64 program `bin` with `args` under the emulator. */
export function emulated(e: Emulator, bin: string, args: readonly string[]): [string, string[]] {
  return [e.qemu, ['-L', e.sysroot, bin, ...args]];
}

/** ELF machine of a file header: 'x64', 'arm64', or null when it is something else. */
export function elfArch(header: Buffer): 'x64' | 'arm64' | null {
  if (header.length < 20 || header.readUInt32BE(0) !== 0x7f454c46) return null;
  // EI_CLASS 2 = 64-bit, EI_DATA 1 = little-endian; e_machine at 18.
  if (header[4] !== 2 || header[5] !== 1) return null;
  const machine = header.readUInt16LE(18);
  return machine === 62 ? 'x64' : machine === 183 ? 'arm64' : null;
}
