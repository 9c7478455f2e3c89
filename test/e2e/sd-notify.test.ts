import test from 'ava';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { freePort, startOutpost, tmpDir, waitUntil } from '../helpers/procs.ts';

// A stand-in for systemd's notification socket: a unix datagram listener (Node has none, python3 does)
// that prints each message and closes the barrier fds systemd-notify sends, as systemd does.
const LISTENER = `
import array, os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("listening", flush=True)
while True:
    msg, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(64))
    for _, _, data in anc:
        fds = array.array("i")
        fds.frombytes(data[: len(data) - len(data) % 4])
        for fd in fds:
            os.close(fd)
    print(repr(msg.decode()), flush=True)
`;

test('e2e: under Type=notify the agent reports READY=1 through systemd-notify once it is ready', async (t) => {
  const dir = await tmpDir();
  const sock = path.join(dir, 'notify.sock');
  const listener = spawn('python3', ['-c', LISTENER, sock], { stdio: ['ignore', 'pipe', 'inherit'] });
  let heard = '';
  listener.stdout.on('data', (d: Buffer) => (heard += d.toString()));
  t.teardown(async () => {
    listener.kill();
    await fs.rm(dir, { recursive: true, force: true });
  });
  await waitUntil(async () => heard.includes('listening'), 10_000, 'the notify listener');
  const cfg = path.join(dir, 'agent.yml');
  await fs.writeFile(cfg, 'global:\n  scrape_interval: 1m\n');
  const port = await freePort();
  const agent = await startOutpost(
    [
      `--config.file=${cfg}`,
      `--storage.agent.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { ...process.env, NOTIFY_SOCKET: sock },
  );
  t.teardown(() => agent.stop('SIGKILL').then(() => undefined));
  await waitUntil(
    async () => heard.includes('READY=1'),
    20_000,
    () => `READY=1 on the socket; heard: ${heard}\n${agent.output()}`,
  );
  t.regex(
    heard,
    new RegExp(`READY=1\\\\nSTATUS=Ready, listening on 127\\.0\\.0\\.1:${port}\\\\nMAINPID=${agent.child.pid}`),
  );
  // Sent only once the agent is ready.
  t.is((await fetch(`http://127.0.0.1:${port}/-/ready`)).status, 200);
  t.notRegex(agent.output(), /Could not report readiness/);
});
