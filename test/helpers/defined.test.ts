import test from 'ava';
import { at, defined, firstN } from './defined.ts';

test('defined passes values through, falsy ones included, and names what is missing', (t) => {
  t.is(defined(0, 'count'), 0);
  t.is(defined(null, 'body'), null);
  t.is(defined('', 'name'), '');
  t.throws(() => defined(({} as Record<string, number>).x, 'job x'), {
    name: 'MissingValueError',
    message: 'expected job x, got undefined',
  });
});

test('at returns an element in range, undefined elements too, and names the list and its length otherwise', (t) => {
  t.is(at(['a', 'b'], 1, 'labels'), 'b');
  t.is(at([undefined], 0, 'slots'), undefined);
  t.is(at(new Uint8Array([7]), 0, 'bytes'), 7);
  t.throws(() => at(['a'], 1, 'labels'), {
    name: 'MissingValueError',
    message: 'expected labels[1], but it has 1 element(s)',
  });
  t.throws(() => at(['a'], -1, 'labels'), { message: 'expected labels[-1], but it has 1 element(s)' });
  t.throws(() => at(['a'], 0.5, 'labels'), { message: 'expected labels[0.5], but it has 1 element(s)' });
});

test('firstN returns the leading elements and fails on a shorter list', (t) => {
  const [a, b] = firstN([1, 2, 3], 2, 'series');
  t.deepEqual([a, b], [1, 2]);
  t.throws(() => firstN([1], 2, 'series'), {
    name: 'MissingValueError',
    message: 'expected series to have at least 2 element(s), but it has 1',
  });
});
