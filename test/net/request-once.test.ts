import test from 'ava';
import { requestOnce, type Destroyable } from '../../src/net/request-once.ts';

class FakeRequest implements Destroyable {
  destroyed = 0;
  destroy(): void {
    this.destroyed++;
  }
}

test('the first outcome wins; later ones are ignored and a success destroys nothing', async (t) => {
  const req = new FakeRequest();
  const settledSeen: boolean[] = [];
  const v = await requestOnce<string>(
    10_000,
    () => new Error('deadline'),
    (settle, isSettled) => {
      setImmediate(() => {
        settledSeen.push(isSettled());
        settle(null, 'first');
        settledSeen.push(isSettled());
        settle(new Error('late'));
        settle(null, 'later');
      });
      return req;
    },
  );
  t.is(v, 'first');
  t.deepEqual(settledSeen, [false, true]);
  t.is(req.destroyed, 0);
});

test('an error rejects and destroys the request once', async (t) => {
  const req = new FakeRequest();
  await t.throwsAsync(
    requestOnce<string>(
      10_000,
      () => new Error('deadline'),
      (settle) => {
        setImmediate(() => {
          settle(new Error('boom'));
          settle(new Error('again'));
        });
        return req;
      },
    ),
    { message: 'boom' },
  );
  t.is(req.destroyed, 1);
});

test('the deadline rejects with timeoutError() and destroys the request', async (t) => {
  const req = new FakeRequest();
  const seen = { late: false };
  await t.throwsAsync(
    requestOnce<string>(
      20,
      () => new Error('deadline 20ms'),
      (settle) => {
        setTimeout(() => {
          settle(null, 'too late');
          seen.late = true;
        }, 60);
        return req;
      },
    ),
    { message: 'deadline 20ms' },
  );
  t.is(req.destroyed, 1);
  await new Promise((r) => setTimeout(r, 80));
  t.true(seen.late, 'the late outcome was reported and ignored');
  t.is(req.destroyed, 1);
});

test('an error reported before start() returns still destroys the request', async (t) => {
  const req = new FakeRequest();
  await t.throwsAsync(
    requestOnce<string>(
      10_000,
      () => new Error('deadline'),
      (settle) => {
        settle(new Error('synchronous'));
        return req;
      },
    ),
    { message: 'synchronous' },
  );
  t.is(req.destroyed, 1);
});

test('a throw from start() rejects, and the deadline timer does not fire later', async (t) => {
  let timeouts = 0;
  await t.throwsAsync(
    requestOnce<string>(
      20,
      () => {
        timeouts++;
        return new Error('deadline');
      },
      () => {
        throw new Error('bad options');
      },
    ),
    { message: 'bad options' },
  );
  await new Promise((r) => setTimeout(r, 50));
  t.is(timeouts, 0);
});
