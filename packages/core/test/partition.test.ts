import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PartitionBook } from '../src/partition.js';

/** The size of mini-batch b of an epoch of n examples (the epoch plan's: the last one holds the rest). */
const batchSize = (n: number, B: number, b: number) => Math.min(B, n - b * B);

/**
 * A mode-local run over the book as the coordinator drives it: each round syncs the members present,
 * gives each a group of up to H mini-batches from its own partition, and some groups fail (their
 * work goes to another member unchanged). Returns every example trained, per epoch, and what each
 * member trained outside the chunks it owned when it took them.
 */
function simulate(opts: {
  examples: number;
  chunk: number;
  B: number;
  H: number;
  epochs: number;
  seed: number;
  churn: { join: boolean; at: number; who: number }[];
  resumeAt?: number;
  /** Steps by speed: each member's own count (at most H) in place of H. */
  stepsOf?: (member: string) => number;
}) {
  const { examples, chunk, B, H } = opts;
  const batches = Math.ceil(examples / B);
  let book = new PartitionBook(examples, chunk, opts.seed);
  let members = ['m0', 'm1'];
  let next = 2;
  const trained: number[][] = [];
  let foreign = 0;
  let round = 0;
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    const seen: number[] = [];
    trained.push(seen);
    book.startEpoch(epoch);
    let b = 0;
    while (b < batches) {
      for (const c of opts.churn.filter((x) => x.at === round)) {
        if (c.join) members.push(`m${next++}`);
        else if (members.length > 1) members = members.filter((_, i) => i !== c.who % members.length);
      }
      if (opts.resumeAt === round) {
        // a checkpoint and a resumed coordinator: a new book from the saved progress alone
        const saved = JSON.parse(JSON.stringify(book.progress()));
        book = new PartitionBook(examples, chunk, opts.seed);
        book.load(saved);
      }
      book.sync(members);
      const stepsOf = opts.stepsOf ?? (() => H);
      const m = Math.min(
        members.reduce((a, x) => a + stepsOf(x), 0),
        batches - b,
      );
      const sizes = Array.from({ length: m }, (_, k) => batchSize(examples, B, b + k));
      const groups = book.round(members, opts.stepsOf ?? H, sizes);
      let k = 0;
      for (const g of groups) {
        expect(g.batches.length).toBeLessThanOrEqual(stepsOf(g.member));
        const own = new Set(book.chunksOf(g.member));
        for (const idx of g.batches) {
          expect(idx.length).toBe(sizes[k++]);
          for (const i of idx) if (!own.has(Math.floor(i / chunk))) foreign++;
          seen.push(...idx);
        }
      }
      expect(k).toBeGreaterThan(0);
      b += k;
      round++;
    }
    expect(book.untrained()).toBe(0);
  }
  return { trained, foreign, book };
}

/** A room's run for the property tests: data set, chunks, mini-batch, H, seed and who joins or leaves when. */
const roomShape = {
  examples: fc.integer({ min: 1, max: 3000 }),
  chunk: fc.integer({ min: 1, max: 700 }),
  B: fc.integer({ min: 1, max: 90 }),
  H: fc.integer({ min: 1, max: 6 }),
  seed: fc.integer({ min: 0, max: 2 ** 31 }),
  churn: fc.array(fc.record({ join: fc.boolean(), at: fc.integer({ min: 0, max: 40 }), who: fc.nat(10) }), {
    maxLength: 12,
  }),
};

describe('PartitionBook', () => {
  it('trains every example of every epoch exactly once, with members joining and leaving at random rounds and a resume', () => {
    fc.assert(
      fc.property(
        fc.record({
          ...roomShape,
          resumeAt: fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined }),
        }),
        (o) => {
          const { trained, foreign } = simulate({ ...o, epochs: 2 });
          for (const seen of trained) {
            const sorted = [...seen].sort((a, b) => a - b);
            expect(sorted).toEqual(Array.from({ length: o.examples }, (_, i) => i));
          }
          // every example a member trained was in a chunk it owned by then
          expect(foreign).toBe(0);
        },
      ),
      { numRuns: 150, seed: 18 },
    );
  });

  it('with steps by speed (a count per member, some below H) every example of every epoch is still trained once, from its owner', () => {
    fc.assert(
      fc.property(
        fc.record({
          ...roomShape,
          slowness: fc.integer({ min: 1, max: 5 }),
        }),
        (o) => {
          // members with an odd number run H / slowness steps (at least 1), as a slower laptop would
          const stepsOf = (m: string) => (Number(m.slice(1)) % 2 ? Math.max(1, Math.floor(o.H / o.slowness)) : o.H);
          const { trained, foreign } = simulate({ ...o, epochs: 2, stepsOf });
          for (const seen of trained)
            expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: o.examples }, (_, i) => i));
          expect(foreign).toBe(0);
        },
      ),
      { numRuns: 150, seed: 19 },
    );
  });

  it("an epoch's last crumbs go to the run's own worker, so no volunteer collects other members' chunks", () => {
    // Fashion-MNIST's shape: 60 chunks of 1,000, 9 members (the host's thread and 8 volunteers),
    // H = 8, mini-batches of 64, 3 epochs, each member fetching what it draws and is told is next
    const run = (own: ReadonlySet<string>) => {
      const members = ['thread-1', ...Array.from({ length: 8 }, (_, i) => `v${i}`)];
      const N = 60_000;
      const batches = Math.ceil(N / 64);
      const book = new PartitionBook(N, 1000, 1);
      const fetched = new Map(members.map((m) => [m, new Set<number>()]));
      for (let epoch = 0; epoch < 3; epoch++) {
        book.startEpoch(epoch);
        for (let b = 0; b < batches; ) {
          book.sync(members);
          const sizes = Array.from({ length: Math.min(72, batches - b) }, (_, k) => batchSize(N, 64, b + k));
          const groups = book.round(members, 8, sizes, own);
          for (const g of groups) {
            for (const idx of g.batches) for (const i of idx) fetched.get(g.member)?.add(Math.floor(i / 1000));
            for (const i of book.upcoming(g.member)) fetched.get(g.member)?.add(Math.floor(i / 1000));
            b += g.batches.length;
          }
        }
        expect(book.untrained()).toBe(0);
      }
      return members.map((m) => fetched.get(m)?.size ?? 0);
    };
    const withOwn = run(new Set(['thread-1']));
    // each volunteer: its own 6-7 chunks and a takeover or two, over the 3 epochs
    expect(Math.max(...withOwn.slice(1))).toBeLessThanOrEqual(9);
    // the host's thread took the crumbs (its fetches cross no link)
    expect(withOwn[0]).toBeGreaterThan(12);
    // without an own worker in the round the member with the most left takes them, as before
    const without = run(new Set());
    expect(Math.max(...without)).toBeGreaterThan(12);
  });

  it("upcoming names the chunks of a member's next round (a round taking at most a chunk's worth), from its own", () => {
    fc.assert(
      fc.property(
        fc.record({
          chunk: fc.integer({ min: 20, max: 300 }),
          perMember: fc.integer({ min: 2, max: 6 }),
          members: fc.integer({ min: 1, max: 5 }),
          seed: fc.integer({ min: 0, max: 2 ** 31 }),
        }),
        (o) => {
          const examples = o.chunk * o.perMember * o.members;
          const book = new PartitionBook(examples, o.chunk, o.seed);
          const ids = Array.from({ length: o.members }, (_, i) => `m${i}`);
          const B = Math.max(1, Math.floor(o.chunk / 4));
          book.startEpoch(0);
          book.sync(ids);
          let hints = new Map<string, Set<number>>();
          let checked = 0;
          for (let round = 0; round < 200 && book.untrained() > 0; round++) {
            const sizes = Array.from({ length: 4 * o.members }, () => B);
            const before = new Map(ids.map((m) => [m, new Set(book.chunksOf(m))]));
            for (const g of book.round(ids, 4, sizes)) {
              const hint = hints.get(g.member);
              // only while the member still draws from its own partition (no takeover this round)
              const own = before.get(g.member) ?? new Set<number>();
              const chunks = new Set(g.batches.flatMap((b) => Array.from(b, (i) => Math.floor(i / o.chunk))));
              if (hint && [...chunks].every((c) => own.has(c))) {
                for (const c of chunks) expect(hint.has(c)).toBe(true);
                checked++;
              }
            }
            hints = new Map(ids.map((m) => [m, new Set(Array.from(book.upcoming(m), (i) => Math.floor(i / o.chunk)))]));
            for (const [m, h] of hints) for (const c of h) expect(book.chunksOf(m)).toContain(c);
          }
          expect(checked).toBeGreaterThan(0);
        },
      ),
      { numRuns: 100, seed: 5 },
    );
  });

  it('deals each member about 1/k of the chunks, and a steady room keeps them', () => {
    // Fashion-MNIST's shape: 60 chunks of 1,000, 8 members, H = 4 at 64 a mini-batch, 2 epochs
    const { book } = simulate({ examples: 60_000, chunk: 1000, B: 64, H: 4, epochs: 2, seed: 3, churn: [] });
    const per = Array.from({ length: 8 }, (_, i) => book.chunksOf(`m${i}`).length);
    // no churn here beyond the two starting members: check the deal of a room of 8 separately
    expect(per.slice(0, 2).reduce((a, b) => a + b)).toBe(60);
    const room = new PartitionBook(60_000, 1000, 3);
    const ids = Array.from({ length: 8 }, (_, i) => `v${i}`);
    room.startEpoch(0);
    room.sync(ids);
    const fetched = new Map(ids.map((m) => [m, new Set(room.chunksOf(m))]));
    for (let epoch = 0; epoch < 2; epoch++) {
      room.startEpoch(epoch);
      for (let b = 0; b < 938; ) {
        room.sync(ids);
        const sizes = Array.from({ length: Math.min(32, 938 - b) }, (_, k) => Math.min(64, 60_000 - (b + k) * 64));
        for (const g of room.round(ids, 4, sizes))
          for (const idx of g.batches) {
            b++;
            for (const i of idx) fetched.get(g.member)?.add(Math.floor(i / 1000));
          }
      }
    }
    console.log('chunks fetched per member, 2 epochs:', ids.map((m) => fetched.get(m)?.size).join(' '));
    for (const m of ids) expect(fetched.get(m)?.size).toBeLessThanOrEqual(12); // 0.2 of 60 chunks
  });

  it('hands a leaver’s untrained chunks to the others and gives a newcomer part of the richest', () => {
    const book = new PartitionBook(10_000, 1000, 1);
    book.startEpoch(0);
    book.sync(['a', 'b']);
    expect(book.chunksOf('a')).toEqual([0, 1, 2, 3, 4]);
    expect(book.chunksOf('b')).toEqual([5, 6, 7, 8, 9]);
    book.take('a', 2500);
    book.sync(['a', 'b', 'c']);
    // c takes whole untrained chunks of b (the richest) until it holds no more than b
    expect(book.remaining('c')).toBe(2000);
    expect(book.remaining('b')).toBe(3000);
    book.sync(['a', 'c']);
    expect(book.chunksOf('b')).toEqual([]);
    expect(book.remaining('a') + book.remaining('c')).toBe(7500);
  });

  it('forgets members that left once their chunks went to others: a room’s churn does not grow the book', () => {
    const book = new PartitionBook(8000, 1000, 1);
    book.startEpoch(0);
    book.sync(['a', 'b']);
    for (let i = 0; i < 5000; i++) {
      const v = `volunteer-${i}`;
      book.sync(['a', 'b', v]);
      if (i % 100 === 0) book.take(v, 10);
      book.sync(['a', 'b']);
    }
    expect(book.knownMembers).toBe(2);
    // the two that stayed hold every chunk, and every example is still there to be trained once
    expect([...book.chunksOf('a'), ...book.chunksOf('b')].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(book.remaining('a') + book.remaining('b')).toBe(book.untrained());
    const seen = new Set<number>();
    for (const m of ['a', 'b']) for (const i of book.take(m, 8000)) seen.add(i);
    expect(seen.size + 50 * 10).toBe(8000);
  });

  it('refuses progress that does not fit the data set', () => {
    const book = new PartitionBook(2500, 1000, 1);
    expect(() => book.load({ epoch: 0, trained: [0, 0] })).toThrow(/3/);
    expect(() => book.load({ epoch: 0, trained: [0, 0, 501] })).toThrow(/chunk 2 has 501 of 500/);
  });
});
