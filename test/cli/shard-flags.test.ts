/** --scrape.shards, --scrape.shard-index, --scrape.shard-index-from-hostname and their environment variables. */
import test from 'ava';
import { parseFlags, type FlagSystem } from '../../src/cli/flags.ts';

function shard(args: string[], sys: Partial<FlagSystem> = {}): { count: number; index: number; shown: string } {
  const f = parseFlags(args, { env: sys.env ?? {}, hostname: sys.hostname ?? (() => 'box') });
  if ('exit' in f) throw new Error('unexpected exit');
  return {
    count: f.scrapeShards,
    index: f.scrapeShardIndex,
    shown: `${f.all['scrape.shard-index']}/${f.all['scrape.shards']}`,
  };
}

test('no sharding by default', (t) => {
  t.like(shard([]), { count: 1, index: 0, shown: '0/1' });
});

test('flags, then the host name ordinal, then the environment', (t) => {
  t.like(shard(['--scrape.shards=3', '--scrape.shard-index=2']), { count: 3, index: 2 });
  t.like(shard(['--scrape.shards=4', '--scrape.shard-index-from-hostname'], { hostname: () => 'outpost-shard-3' }), {
    count: 4,
    index: 3,
    shown: '3/4',
  });
  t.like(shard([], { env: { OUTPOST_SCRAPE_SHARDS: '5', OUTPOST_SCRAPE_SHARD_INDEX: '4' } }), { count: 5, index: 4 });
  t.like(
    shard(['--scrape.shards=2', '--scrape.shard-index=0'], {
      env: { OUTPOST_SCRAPE_SHARDS: '5', OUTPOST_SCRAPE_SHARD_INDEX: '4' },
    }),
    {
      count: 2,
      index: 0,
    },
  );
});

test('bad values are refused with the flag named', (t) => {
  t.throws(() => shard(['--scrape.shards=0']), { message: '--scrape.shards: 0 is out of range (1 to 1000000)' });
  t.throws(() => shard(['--scrape.shards=two']), { message: '--scrape.shards: "two" is not a whole number' });
  t.throws(() => shard(['--scrape.shards=3', '--scrape.shard-index=3']), {
    message: 'scrape shard index 3 is out of range for 3 shards (indexes 0 to 2; set --scrape.shards)',
  });
  t.throws(() => shard(['--scrape.shard-index=1']), { message: /out of range for 1 shard / });
  t.throws(() => shard(['--scrape.shards=3', '--scrape.shard-index-from-hostname'], { hostname: () => 'edge-box' }), {
    message:
      '--scrape.shard-index-from-hostname: host name "edge-box" does not end in -<ordinal> (a StatefulSet pod name does)',
  });
  t.throws(() => shard(['--scrape.shards=3', '--scrape.shard-index=1', '--scrape.shard-index-from-hostname']), {
    message: '--scrape.shard-index and --scrape.shard-index-from-hostname cannot be used together',
  });
  t.throws(() => shard([], { env: { OUTPOST_SCRAPE_SHARD_INDEX: '-1' } }), {
    message: 'OUTPOST_SCRAPE_SHARD_INDEX: "-1" is not a whole number',
  });
});
