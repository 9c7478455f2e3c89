import test from 'ava';
import { StatusHub } from '../../src/status/hub.ts';
import { FakeClock } from '../helpers/fake-clock.ts';

test('the snapshot shows the address the web server bound, not the requested port 0', (t) => {
  const hub = new StatusHub(
    { version: '0.1.0', configFile: 'agent.yml', dataDir: 'data', listenAddress: '127.0.0.1:0' },
    new FakeClock(1000),
  );
  t.is(hub.getSnapshot().listenAddress, '127.0.0.1:0');
  hub.setListenAddress('127.0.0.1:41234');
  t.is(hub.getSnapshot().listenAddress, '127.0.0.1:41234');
});

function countingHub() {
  const clock = new FakeClock(1000);
  const hub = new StatusHub({ version: '0.1.0', configFile: 'agent.yml', dataDir: 'data', listenAddress: ':0' }, clock);
  const calls = { targets: 0, remote: 0 };
  hub.setProviders({
    targets: () => {
      calls.targets++;
      return [];
    },
    remote: () => {
      calls.remote++;
      return [];
    },
  });
  hub.start(1000);
  return { clock, hub, calls };
}

test('without subscribers nothing is rebuilt on a timer; getSnapshot rebuilds once it is older than the interval', (t) => {
  const { clock, hub, calls } = countingHub();
  t.is(clock.pending, 0, 'no timer while nobody subscribes');
  clock.advance(60_000);
  t.is(calls.targets, 0, 'a minute unobserved builds nothing');
  const a = hub.getSnapshot();
  t.is(calls.targets, 1);
  t.is(hub.getSnapshot(), a, 'the same snapshot within the interval');
  clock.advance(999);
  t.is(hub.getSnapshot(), a);
  clock.advance(1);
  const b = hub.getSnapshot();
  t.not(b, a);
  t.is(b.at, 62_000);
  t.is(calls.targets, 2);
});

test('a phase change shows in the next getSnapshot without waiting out the interval', (t) => {
  const { hub } = countingHub();
  t.is(hub.getSnapshot().phase, 'starting');
  hub.setPhase('running');
  t.is(hub.getSnapshot().phase, 'running');
});

test('subscribers get a rebuild every interval, and the timer stops with the last of them', (t) => {
  const { clock, hub, calls } = countingHub();
  let heard = 0;
  const off = hub.subscribe(() => heard++);
  const first = hub.getSnapshot();
  clock.advance(3000);
  t.is(heard, 3);
  t.not(hub.getSnapshot(), first);
  const built = calls.targets;
  t.is(hub.getSnapshot(), hub.getSnapshot(), 'subscribers see a stable snapshot between ticks');
  t.is(calls.targets, built);
  off();
  t.is(clock.pending, 0);
  clock.advance(10_000);
  t.is(heard, 3);
});

test('sampled() reads the remote provider alone, not the targets', (t) => {
  const { hub, calls } = countingHub();
  const s = hub.sampled();
  t.deepEqual(s.remote, []);
  t.is(calls.remote, 1);
  t.is(calls.targets, 0);
  t.true(s.reload.ok);
});
