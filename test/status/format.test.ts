import test from 'ava';
import vm from 'node:vm';
import { type durationFormats, formatDuration, formatScrapeDuration, formatSeconds } from '../../src/status/format.ts';
import { clientScript, PRELUDE } from '../../src/web/ui/client-script.ts';

test('one duration style: ms under a second, one decimal for lag under a minute, two units above', (t) => {
  t.is(formatSeconds(0.0002), '0.0s');
  t.is(formatSeconds(31.04), '31.0s');
  t.is(formatSeconds(95), '1m35s');
  t.is(formatDuration(850), '850ms');
  t.is(formatDuration(3_723_000), '1h02m');
  t.is(formatDuration(2 * 86_400_000 + 3 * 3_600_000), '2d03h');
  t.is(formatScrapeDuration(12.5), '13ms');
  t.is(formatScrapeDuration(1234), '1.23s');
  t.is(formatSeconds(-1), '-');
});

test('the web UI runs the same formatter code as the dashboard, self-contained in its script', (t) => {
  // The browser has nothing but the script: evaluate its prelude alone, in an empty context.
  t.true(clientScript().startsWith(PRELUDE), 'the served script starts with the formatter');
  const prelude = PRELUDE;
  const ctx = vm.createContext({});
  vm.runInContext(`${prelude}\nvar f = outpostDurationFormats();`, ctx);
  const browser = (ctx as { f: ReturnType<typeof durationFormats> }).f;
  for (const s of [0, 0.0002, 1.5, 59.99, 95, 7200, 200_000]) t.is(browser.seconds(s), formatSeconds(s), `lag ${s}`);
  for (const ms of [12.5, 999, 1234, 61_000])
    t.is(browser.scrapeDuration(ms), formatScrapeDuration(ms), `scrape ${ms}`);
  t.is(browser.duration(3_723_000), '1h02m');
});
