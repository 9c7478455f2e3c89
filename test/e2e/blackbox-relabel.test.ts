/**
 * Black-box acceptance cases 30–42 (research/conformance.md §7, "Labels & relabeling"). One run per
 * sender with one job per rule set; each case checked against Outpost and Prometheus 2.42.
 */
import type { ExecutionContext } from 'ava';
import {
  agentConfig,
  job,
  labelsWithout,
  realSamples,
  registerBlackBox,
  runExitsZero,
  select,
  serveText,
  sharedRuns,
  showSamples,
  type Matcher,
  type ScenarioRun,
  type WireSample,
} from '../helpers/compliance.ts';
import { at, defined } from '../helpers/defined.ts';

const runs = sharedRuns(() => ({
  name: 'relabel',
  targets: {
    c30: serveText('a{job="orig",instance="foo"} 1\n'),
    c31: serveText('a{job="orig",instance="foo"} 1\n'),
    c32: serveText('a{job="x",exported_job="y"} 1\n'),
    c33: serveText('a 1\n'),
    c34: serveText('a 1\n'),
    c35: serveText('a 1\nb 1\n'),
    c36: serveText('a{c="baz"} 1\n'),
    c37: serveText('a{b1="x",b2="y",c="z"} 1\n'),
    c38: serveText('a{foo="bAr123Foo"} 1\n'),
    c39k: serveText('a{p="1",q="1"} 1\nb{p="1",q="2"} 1\n'),
    c39d: serveText('a{p="1",q="1"} 1\nb{p="1",q="2"} 1\n'),
    c40: serveText('a{x="boo"} 1\nc{b="y"} 1\n'),
    c41: serveText('a{b="y"} 1\n'),
    c42: serveText('a 1\n'),
    c43: serveText('a 1\n'),
  },
  config: (env) =>
    agentConfig(env, {
      jobs: [
        job(env, 't', ['c30', 'c32']),
        job(env, 't-honor', ['c31'], { honor_labels: true }),
        job(env, 't-host', ['c33'], {
          relabel_configs: [
            { source_labels: ['__address__'], regex: '(.*):.*', target_label: 'host', replacement: 'h-$1' },
          ],
        }),
        {
          job_name: 't-labelmap',
          static_configs: [{ targets: [env.targets.c34], labels: { __tmp_foo: 'bar' } }],
          relabel_configs: [{ action: 'labelmap', regex: '__tmp_(.*)', replacement: 'mapped_$1' }],
        },
        job(env, 't-drop', ['c35'], {
          metric_relabel_configs: [{ action: 'drop', source_labels: ['__name__'], regex: 'a|up' }],
        }),
        job(env, 't-hashmod', ['c36'], {
          metric_relabel_configs: [{ action: 'hashmod', source_labels: ['c'], modulus: 1000, target_label: 'd' }],
        }),
        job(env, 't-labeldrop', ['c37'], { metric_relabel_configs: [{ action: 'labeldrop', regex: 'b.*' }] }),
        job(env, 't-case', ['c38'], {
          metric_relabel_configs: [
            { action: 'uppercase', source_labels: ['foo'], target_label: 'up_foo' },
            { action: 'lowercase', source_labels: ['foo'], target_label: 'low_foo' },
          ],
        }),
        job(env, 't-keepequal', ['c39k'], {
          metric_relabel_configs: [{ action: 'keepequal', source_labels: ['p'], target_label: 'q' }],
        }),
        job(env, 't-dropequal', ['c39d'], {
          metric_relabel_configs: [{ action: 'dropequal', source_labels: ['p'], target_label: 'q' }],
        }),
        job(env, 't-replace', ['c40'], {
          metric_relabel_configs: [
            { source_labels: ['x'], regex: 'f', target_label: 'y', replacement: 'bar' },
            { source_labels: ['b'], regex: '(x)?(.*)', target_label: 'b', replacement: '$1' },
          ],
        }),
        job(env, 't-badtarget', ['c41'], { metric_relabel_configs: [{ source_labels: ['b'], target_label: '${3}' }] }),
        // 2.42 knows only the legacy charset; Outpost gets it from 3.x's field (utf8 is its default).
        job(env, 't-badname', ['c42'], {
          ...(env.sender === 'outpost' ? { metric_name_validation_scheme: 'legacy' } : {}),
          metric_relabel_configs: [{ source_labels: ['__name__'], target_label: '__name__', replacement: 'bad-name' }],
        }),
        // Case 43 is checked for Outpost only; Prometheus scrapes it too so every target is scraped.
        job(env, 't-utf8name', ['c43'], {
          metric_relabel_configs: [{ source_labels: ['__name__'], target_label: '__name__', replacement: 'bad-name' }],
        }),
      ],
    }),
  minScrapes: 4,
}));

function of(r: ScenarioRun, target: string, m: Matcher = {}): WireSample[] {
  return select(at(r.samples, 0, 'r.samples'), {
    ...m,
    instance: defined(r.env.targets[target], `target ${target}`),
  });
}

/** At least 3 real samples of m from the target, all equal to 1 and each with exactly `labels` (instance added). */
function expectSeries(
  t: ExecutionContext,
  r: ScenarioRun,
  target: string,
  m: Matcher,
  labels: Record<string, string>,
): WireSample[] {
  const got = realSamples(of(r, target), m);
  t.true(
    got.length >= 3,
    `${target} ${JSON.stringify(m)}: expected ≥3 samples, got ${got.length}\n${showSamples(of(r, target))}`,
  );
  const want = { ...labels, instance: labels.instance ?? defined(r.env.targets[target], `target ${target}`) };
  const wrong = got.filter(
    (s) => s.value !== 1 || JSON.stringify(labelsWithout(s)) !== JSON.stringify(sortedRecord(want)),
  );
  t.deepEqual(
    wrong.map((s) => labelsWithout(s)),
    [],
    `labels exactly ${JSON.stringify(want)}`,
  );
  return got;
}

function sortedRecord(r: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function ups(r: ScenarioRun, target: string): number[] {
  return realSamples(of(r, target), { __name__: 'up' }).map((s) => s.value);
}

function expectUp(t: ExecutionContext, r: ScenarioRun, target: string, v: 0 | 1): void {
  const u = ups(r, target);
  t.true(u.length >= 3, `${target}: up samples ${u.length}`);
  t.deepEqual(
    u.filter((x) => x !== v),
    [],
    `${target}: up=${v}`,
  );
}

registerBlackBox('relabel', [
  {
    title: '0. the run exits 0 on SIGINT',
    runs,
    check: runExitsZero,
  },
  {
    title: '30. honor_labels false: clashing job/instance become exported_*',
    runs,
    check(t, r) {
      expectSeries(
        t,
        r,
        'c30',
        { __name__: 'a' },
        { __name__: 'a', exported_instance: 'foo', exported_job: 'orig', job: 't' },
      );
    },
  },
  {
    title: '31. honor_labels true keeps the exposed job/instance; up keeps the configured ones',
    runs,
    check(t, r) {
      const a = realSamples(at(r.samples, 0, 'r.samples'), { __name__: 'a', job: 'orig', instance: 'foo' });
      t.true(a.length >= 3, `a{job="orig",instance="foo"}: ${a.length}`);
      t.deepEqual(
        a.map((s) => labelsWithout(s)).filter((l) => Object.keys(l).length !== 3),
        [],
        'no other labels',
      );
      expectUp(t, r, 'c31', 1);
      t.true(realSamples(of(r, 'c31'), { __name__: 'up', job: 't-honor' }).length >= 3, 'up{job="t-honor",instance=I}');
    },
  },
  {
    title: '32. collisions chain: exported_exported_job="x", exported_job="y"',
    runs,
    check(t, r) {
      expectSeries(
        t,
        r,
        'c32',
        { __name__: 'a' },
        { __name__: 'a', exported_exported_job: 'x', exported_job: 'y', job: 't' },
      );
    },
  },
  {
    title: '33. target relabel host="h-127.0.0.1" on every series, up included',
    runs,
    check(t, r) {
      const all = of(r, 'c33');
      t.true(all.length >= 15, `samples ${all.length}`);
      t.deepEqual(
        all.filter((s) => s.labels.host !== 'h-127.0.0.1').map((s) => s.labels.__name__),
        [],
        'every series has host',
      );
      t.true(realSamples(all, { __name__: 'up', host: 'h-127.0.0.1' }).length >= 3);
    },
  },
  {
    title: '34. labelmap __tmp_(.*) → mapped_$1; __tmp_foo itself is gone',
    runs,
    check(t, r) {
      const all = of(r, 'c34');
      t.true(all.length >= 15, `samples ${all.length}`);
      t.deepEqual(
        all.filter((s) => s.labels.mapped_foo !== 'bar' || '__tmp_foo' in s.labels).map((s) => labelsWithout(s)),
        [],
      );
    },
  },
  {
    title: '35. metric relabel drop a|up: b arrives, a does not, up is exempt; post_metric_relabeling=1',
    runs,
    check(t, r) {
      expectSeries(t, r, 'c35', { __name__: 'b' }, { __name__: 'b', job: 't-drop' });
      t.deepEqual(showSamples(of(r, 'c35', { __name__: 'a' })), '', 'a is dropped');
      expectUp(t, r, 'c35', 1);
      const post = realSamples(of(r, 'c35'), { __name__: 'scrape_samples_post_metric_relabeling' }).map((s) => s.value);
      t.true(post.length >= 3);
      t.deepEqual(
        post.filter((v) => v !== 1),
        [],
      );
      const scraped = realSamples(of(r, 'c35'), { __name__: 'scrape_samples_scraped' }).map((s) => s.value);
      t.deepEqual(
        scraped.filter((v) => v !== 2),
        [],
        'scrape_samples_scraped counts before relabeling',
      );
    },
  },
  {
    title: '36. hashmod of "baz" modulus 1000 → d="976"',
    runs,
    check(t, r) {
      expectSeries(t, r, 'c36', { __name__: 'a' }, { __name__: 'a', c: 'baz', d: '976', job: 't-hashmod' });
    },
  },
  {
    title: '37. labeldrop b.* leaves c',
    runs,
    check(t, r) {
      expectSeries(t, r, 'c37', { __name__: 'a' }, { __name__: 'a', c: 'z', job: 't-labeldrop' });
    },
  },
  {
    title: '38. uppercase/lowercase',
    runs,
    check(t, r) {
      expectSeries(
        t,
        r,
        'c38',
        { __name__: 'a' },
        { __name__: 'a', foo: 'bAr123Foo', job: 't-case', low_foo: 'bar123foo', up_foo: 'BAR123FOO' },
      );
    },
  },
  {
    title: '39. keepequal keeps only a; dropequal keeps only b',
    runs,
    check(t, r) {
      expectSeries(t, r, 'c39k', { __name__: 'a' }, { __name__: 'a', job: 't-keepequal', p: '1', q: '1' });
      t.deepEqual(showSamples(of(r, 'c39k', { __name__: 'b' })), '', 'keepequal drops b');
      expectSeries(t, r, 'c39d', { __name__: 'b' }, { __name__: 'b', job: 't-dropequal', p: '1', q: '2' });
      t.deepEqual(showSamples(of(r, 'c39d', { __name__: 'a' })), '', 'dropequal drops a');
    },
  },
  {
    title: '40. replace is anchored (f does not match boo); an empty replacement deletes the target label',
    runs,
    check(t, r) {
      expectSeries(t, r, 'c40', { __name__: 'a' }, { __name__: 'a', job: 't-replace', x: 'boo' });
      expectSeries(t, r, 'c40', { __name__: 'c' }, { __name__: 'c', job: 't-replace' });
    },
  },
  {
    title: '41. target_label ${3} (no such group) leaves the series unchanged, scrape OK',
    runs,
    check(t, r) {
      expectSeries(t, r, 'c41', { __name__: 'a' }, { __name__: 'a', b: 'y', job: 't-badtarget' });
      expectUp(t, r, 'c41', 1);
    },
  },
  {
    title: '42. metric relabel to __name__ "bad-name" fails the scrape under legacy names',
    runs,
    check(t, r) {
      expectUp(t, r, 'c42', 0);
      t.deepEqual(showSamples(of(r, 'c42', { __name__: 'bad-name' })), '', 'no bad-name sample');
      t.deepEqual(showSamples(of(r, 'c42', { __name__: 'a' })), '', 'no a sample');
    },
  },
  {
    // Prometheus 3 validates names after relabeling by the job's scheme, utf8 by default
    // (scrape/scrape.go v3.14.0 line 1730); 2.42 failed this scrape (case 42).
    title: '43. metric relabel to __name__ "bad-name" is kept under UTF-8 names (3.x default)',
    runs,
    outpostOnly: '2.42 has no UTF-8 names',
    check(t, r) {
      expectUp(t, r, 'c43', 1);
      expectSeries(t, r, 'c43', { __name__: 'bad-name' }, { __name__: 'bad-name', job: 't-utf8name' });
    },
  },
]);
