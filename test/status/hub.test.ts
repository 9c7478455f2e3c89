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
