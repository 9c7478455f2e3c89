import test from 'ava';
import { BufferPool } from '../../src/scrape/buffer-pool.ts';

test('hands out the smallest pooled buffer that fits and reuses returned ones', (t) => {
  const pool = new BufferPool(2);
  const a = pool.get(100_000);
  t.true(a.length >= 100_000);
  pool.put(a);
  const b = pool.get(50_000);
  t.is(b, a, 'reused');
  const c = pool.get(10);
  t.not(c, a);
  pool.put(b);
  pool.put(c);
  t.is(pool.pooled, 2);
  const big = Buffer.allocUnsafe(1 << 20);
  pool.put(big);
  t.is(pool.pooled, 2, 'bounded');
  t.is(pool.get(900_000), big, 'a full pool keeps the larger buffers');
});
