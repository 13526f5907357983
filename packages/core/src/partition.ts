/**
 * Partitions of a chunked training set in mode local (issue 18 §2): each member owns a fixed set of
 * chunks and trains only their examples, so it fetches only those chunks. Within an epoch every
 * example is trained exactly once whoever joins or leaves: the book counts, per chunk, how many of
 * its examples (in the chunk's own shuffled order) have been handed out. That count array is the
 * whole of an epoch's progress, so a checkpoint of it resumes with nothing missed or repeated.
 *
 * Pure: no I/O; the same calls in the same order give the same batches.
 */
import { GradroomError } from './errors.js';
import { rngFor } from './prng.js';

/** Random stream of the partition draws (prng.ts keeps 1-4; a new stream never shifts another). */
const STREAM_PARTITION = 5;
/** Chunks a member draws from at once (its mini-batches mix them). */
const WINDOW = 2;

/** What a checkpoint keeps: the epoch and, per chunk, its examples already handed out in it. */
export interface PartitionProgress {
  epoch: number;
  trained: number[];
}

export class PartitionBook {
  readonly chunks: number;
  private readonly owner: Int32Array;
  private trained: Uint32Array;
  private epoch = -1;
  /** Each chunk's shuffled order for the current epoch, made when first needed. */
  private orders = new Map<number, Uint32Array>();
  /** Member ids in the order they got their first chunks (an id's index in `owner`). */
  private ids: string[] = [];

  /** Ids the book keeps: members present at the last sync, and any that still own a chunk. */
  get knownMembers(): number {
    return this.ids.length;
  }

  constructor(
    readonly examples: number,
    readonly chunkExamples: number,
    private readonly seed: number,
  ) {
    if (!(Number.isSafeInteger(examples) && examples > 0 && Number.isSafeInteger(chunkExamples) && chunkExamples > 0))
      throw new GradroomError(
        'BAD_CONFIG',
        `partitions need positive example counts, got ${examples} / ${chunkExamples}`,
      );
    this.chunks = Math.ceil(examples / chunkExamples);
    this.owner = new Int32Array(this.chunks).fill(-1);
    this.trained = new Uint32Array(this.chunks);
  }

  /** Examples in chunk c. */
  size(c: number): number {
    return Math.min(this.examples, (c + 1) * this.chunkExamples) - c * this.chunkExamples;
  }

  /** Examples of chunk c not yet handed out this epoch. */
  left(c: number): number {
    return this.size(c) - this.trained[c];
  }

  /** Starts `epoch` (nothing handed out yet) unless it is the epoch in progress. */
  startEpoch(epoch: number): void {
    if (epoch === this.epoch) return;
    this.epoch = epoch;
    this.trained = new Uint32Array(this.chunks);
    this.orders.clear();
  }

  /** The chunks `member` owns. */
  chunksOf(member: string): number[] {
    const k = this.ids.indexOf(member);
    const out: number[] = [];
    for (let c = 0; c < this.chunks; c++) if (k >= 0 && this.owner[c] === k) out.push(c);
    return out;
  }

  /** The member that owns the chunk of example i, if any. */
  ownerOf(i: number): string | undefined {
    const k = this.owner[Math.floor(i / this.chunkExamples)];
    return k >= 0 ? this.ids[k] : undefined;
  }

  /** Examples `member` has left this epoch, in its own chunks. */
  remaining(member: string): number {
    return this.chunksOf(member).reduce((a, c) => a + this.left(c), 0);
  }

  /** Examples not yet handed out this epoch, in all. */
  untrained(): number {
    let n = 0;
    for (let c = 0; c < this.chunks; c++) n += this.left(c);
    return n;
  }

  /**
   * Brings ownership up to date with the members present. At the start every chunk is dealt in
   * contiguous blocks; a member that left hands its chunks (untrained ones first) to whoever has the
   * least left; a newcomer takes over part of the untrained chunks of the member with the most left.
   */
  sync(members: readonly string[]): void {
    this.deal(members);
    if (members.length > 0) this.forget(new Set(members));
  }

  /**
   * Forgets members gone that own no chunk (their chunks went to others): a room's churn, every
   * volunteer that ever joined, would otherwise grow `ids` and `held` for the run's life. Keeps the
   * order of the rest, so nothing else changes.
   */
  private forget(present: ReadonlySet<string>): void {
    const owns = new Set<number>();
    for (let c = 0; c < this.chunks; c++) if (this.owner[c] >= 0) owns.add(this.owner[c]);
    if (this.ids.every((m, k) => present.has(m) || owns.has(k))) return;
    const to = new Int32Array(this.ids.length).fill(-1);
    const ids: string[] = [];
    const held = new Map<number, Set<number>>();
    this.ids.forEach((m, k) => {
      if (!(present.has(m) || owns.has(k))) return;
      to[k] = ids.length;
      const h = this.held.get(k);
      if (h) held.set(ids.length, h);
      ids.push(m);
    });
    for (let c = 0; c < this.chunks; c++) if (this.owner[c] >= 0) this.owner[c] = to[this.owner[c]];
    this.ids = ids;
    this.held = held;
  }

  private deal(members: readonly string[]): void {
    const present = new Set(members);
    const idx = (m: string) => {
      let k = this.ids.indexOf(m);
      if (k < 0) k = this.ids.push(m) - 1;
      return k;
    };
    if (members.length === 0) return;
    let anyOwned = false;
    for (let c = 0; c < this.chunks; c++)
      if (this.owner[c] >= 0 && present.has(this.ids[this.owner[c]])) anyOwned = true;
    if (!anyOwned) {
      const sorted = [...members].sort();
      for (let c = 0; c < this.chunks; c++) this.give(c, idx(sorted[Math.floor((c * sorted.length) / this.chunks)]));
      return;
    }
    // orphans: chunks of members gone (or never assigned), the most untrained first
    const orphans: number[] = [];
    for (let c = 0; c < this.chunks; c++)
      if (this.owner[c] < 0 || !present.has(this.ids[this.owner[c]])) orphans.push(c);
    const newcomers = members.filter((m) => this.chunksOf(m).length === 0);
    orphans.sort((a, b) => this.left(b) - this.left(a) || a - b);
    for (const c of orphans) this.give(c, idx(this.poorest(members)));
    if (this.untrained() === this.examples) this.rebalance(members, idx);
    for (const m of newcomers) {
      if (this.remaining(m) > 0) continue; // given orphans above
      const rich = this.richest(members.filter((x) => x !== m));
      if (rich === undefined) continue;
      // take untrained chunks of the richest until the two hold about as much; whole chunks only
      const theirs = this.chunksOf(rich).sort((a, b) => this.left(b) - this.left(a) || a - b);
      let mine = 0;
      let left = this.remaining(rich);
      for (const c of theirs) {
        if (this.left(c) === 0 || mine + this.left(c) > left - this.left(c)) continue;
        this.give(c, idx(m));
        mine += this.left(c);
        left -= this.left(c);
      }
    }
  }

  /**
   * At an epoch's start: evens out the members' partitions (takeovers at the last epoch's end left
   * them uneven, and the poorer would run out first and take over again), moving chunks the
   * receiver held before where it can, so that what moves was most likely fetched already.
   */
  private rebalance(members: readonly string[], idx: (m: string) => number): void {
    for (let guard = 0; guard < this.chunks; guard++) {
      const rich = this.richest(members);
      const poor = this.poorest(members);
      if (rich === undefined || this.remaining(rich) - this.remaining(poor) <= this.chunkExamples) return;
      const had = this.held.get(idx(poor));
      const theirs = this.chunksOf(rich);
      const c = theirs.find((x) => had?.has(x)) ?? theirs[theirs.length - 1];
      this.give(c, idx(poor));
    }
  }

  private poorest(ms: readonly string[]): string {
    let best = ms[0];
    for (const m of ms) {
      const d = this.remaining(m) - this.remaining(best);
      if (d < 0 || (d === 0 && this.chunksOf(m).length < this.chunksOf(best).length)) best = m;
    }
    return best;
  }

  private richest(ms: readonly string[]): string | undefined {
    let best: string | undefined;
    for (const m of ms)
      if (this.remaining(m) > 0 && (best === undefined || this.remaining(m) > this.remaining(best))) best = m;
    return best;
  }

  /** Chunk c's examples in this epoch's order, a permutation by (seed, epoch, chunk). */
  private order(c: number): Uint32Array {
    let o = this.orders.get(c);
    if (!o) {
      const n = this.size(c);
      o = new Uint32Array(n);
      for (let i = 0; i < n; i++) o[i] = c * this.chunkExamples + i;
      const rng = rngFor(this.seed, STREAM_PARTITION, this.epoch, c);
      for (let i = n - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        const t = o[i];
        o[i] = o[j];
        o[j] = t;
      }
      this.orders.set(c, o);
    }
    return o;
  }

  /**
   * The next `n` examples for `member`, from its own chunks: drawn from the first WINDOW chunks with
   * examples left, in an order of chunks shuffled by (seed, epoch), each in its own shuffled order.
   * Chunks drain a few at a time, not all together, so a chunk taken over near the epoch's end is
   * still mostly untrained (a fetch that pays). When its chunks hold fewer than `n`, the member
   * first takes over a chunk of the member with the most left. Fewer than `n` only when the epoch
   * has fewer left.
   */
  take(member: string, n: number, steal: 'fresh' | 'any' = 'any'): Uint32Array {
    if (this.epoch < 0) throw new GradroomError('BAD_STATE', 'partition book: startEpoch first');
    if (!this.ids.includes(member)) this.ids.push(member);
    const k = this.ids.indexOf(member);
    while (this.remaining(member) < n && this.untrained() > this.remaining(member))
      if (!this.steal(k, steal)) return new Uint32Array(0);
    const out = new Uint32Array(Math.min(n, this.remaining(member)));
    const rank = this.chunkRank();
    const mine = this.chunksOf(member)
      .filter((c) => this.left(c) > 0)
      .sort((a, b) => rank[a] - rank[b]);
    // the draw depends on the epoch and how far it is, so a resumed run draws the same
    const rng = rngFor(this.seed, STREAM_PARTITION, this.epoch, this.chunks + this.examples - this.untrained());
    for (let i = 0; i < out.length; i++) {
      while (this.left(mine[0]) === 0) mine.shift();
      const window = mine.slice(0, WINDOW);
      // a chunk of the window with probability proportional to what it has left
      let r = rng.int(window.reduce((a, c) => a + this.left(c), 0));
      let c = window[0];
      for (const w of window) {
        if (r < this.left(w)) {
          c = w;
          break;
        }
        r -= this.left(w);
      }
      out[i] = this.order(c)[this.trained[c]++];
    }
    return out;
  }

  private rank?: { epoch: number; of: Uint32Array };
  /** Each chunk's place in this epoch's order of chunks. */
  private chunkRank(): Uint32Array {
    if (this.rank?.epoch !== this.epoch) {
      const perm = new Uint32Array(this.chunks);
      for (let i = 0; i < perm.length; i++) perm[i] = i;
      const rng = rngFor(this.seed, STREAM_PARTITION, this.epoch, 2 ** 31 + 1);
      for (let i = perm.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [perm[i], perm[j]] = [perm[j], perm[i]];
      }
      const of = new Uint32Array(this.chunks);
      perm.forEach((c, i) => {
        of[c] = i;
      });
      this.rank = { epoch: this.epoch, of };
    }
    return this.rank.of;
  }

  /**
   * Gives member k a chunk of another: 'fresh' only one nobody has drawn from this epoch (its owner
   * has not fetched it for this epoch's work); 'any' also a started one, preferring chunks k owned
   * before (already fetched), then the one with the most left. False when there is none.
   */
  private steal(k: number, how: 'fresh' | 'any'): boolean {
    let best = -1;
    let bestKey = -1;
    for (let c = 0; c < this.chunks; c++) {
      if (this.owner[c] === k || this.left(c) === 0) continue;
      const fresh = this.trained[c] === 0;
      if (how === 'fresh' && !fresh) continue;
      const key = (this.held.get(k)?.has(c) ? 2 * this.chunkExamples : 0) + this.left(c);
      if (key > bestKey) {
        best = c;
        bestKey = key;
      }
    }
    if (best < 0) return false;
    this.give(best, k);
    return true;
  }

  /** Chunks each member index has owned in this book's life (fetched, most likely). */
  private held = new Map<number, Set<number>>();
  private give(c: number, k: number): void {
    this.owner[c] = k;
    const h = this.held.get(k) ?? new Set<number>();
    h.add(c);
    this.held.set(k, h);
  }

  /**
   * One round of mode local: up to `h` mini-batches for each member (or `h(member)`: a slower member
   * may run fewer), in order, with the sizes in `sizes` (the epoch plan's next mini-batches). A member whose partition runs short takes over a
   * fresh chunk or sits the rest of the round out. If nobody could take any (an epoch's last
   * examples, a few left in many chunks), one member takes them, started chunks of others too: one
   * of the run's own workers where the round has one (`own`: its fetches cross no shared link),
   * else the member with the most left. A volunteer taking them drew 5 mini-batches from 13 chunks
   * at the end of every epoch, and fetched 0.37 of Fashion-MNIST in 3 epochs where the others
   * fetched 0.1.
   */
  round(
    members: readonly string[],
    h: number | ((member: string) => number),
    sizes: readonly number[],
    own: ReadonlySet<string> = new Set(),
  ): { member: string; batches: Uint32Array[] }[] {
    const groups: { member: string; batches: Uint32Array[] }[] = [];
    const stepsOf = typeof h === 'number' ? () => h : h;
    let k = 0;
    for (const m of members) {
      const batches: Uint32Array[] = [];
      const steps = stepsOf(m);
      while (batches.length < steps && k < sizes.length) {
        const b = this.take(m, sizes[k], 'fresh');
        if (b.length === 0) break;
        batches.push(b);
        k++;
      }
      if (batches.length > 0) groups.push({ member: m, batches });
    }
    if (k === 0 && sizes.length > 0 && members.length > 0) {
      // one taker (two would take chunks from each other): an own worker where the round has one
      const richestFirst = [...members].sort(
        (a, b) => Number(own.has(b)) - Number(own.has(a)) || this.remaining(b) - this.remaining(a),
      );
      const m = richestFirst[0];
      const batches: Uint32Array[] = [];
      const steps = stepsOf(m);
      while (batches.length < steps && k < sizes.length) batches.push(this.take(m, sizes[k++], 'any'));
      groups.push({ member: m, batches });
    }
    return groups;
  }

  /**
   * One example of each chunk `member` will draw from next (its chunks with examples left, in this
   * epoch's order: the window and `extra` beyond it), for the member to fetch ahead of need.
   */
  upcoming(member: string, extra = WINDOW): Uint32Array {
    const rank = this.chunkRank();
    const next = this.chunksOf(member)
      .filter((c) => this.left(c) > 0)
      .sort((a, b) => rank[a] - rank[b])
      .slice(0, WINDOW + extra);
    return Uint32Array.from(next, (c) => c * this.chunkExamples);
  }

  /** The epoch's progress, for a checkpoint. */
  progress(): PartitionProgress {
    return { epoch: this.epoch, trained: Array.from(this.trained) };
  }

  /** Restores an epoch's progress (ownership starts afresh: the members are new). */
  load(p: PartitionProgress): void {
    if (!(Number.isSafeInteger(p.epoch) && Array.isArray(p.trained) && p.trained.length === this.chunks))
      throw new GradroomError(
        'BAD_STATE',
        `partition progress for ${p.trained?.length} chunks, the data set has ${this.chunks}`,
      );
    p.trained.forEach((t, c) => {
      if (!(Number.isSafeInteger(t) && t >= 0 && t <= this.size(c)))
        throw new GradroomError('BAD_STATE', `partition progress: chunk ${c} has ${t} of ${this.size(c)} trained`);
    });
    this.epoch = p.epoch;
    this.trained = Uint32Array.from(p.trained);
    this.orders.clear();
    this.owner.fill(-1);
  }

  /** A copy of the counts, to put back if a round is abandoned (see rollback). */
  mark(): Uint32Array {
    return this.trained.slice();
  }

  /** Puts back the counts of `mark()`: the round that took examples since then did not happen. */
  rollback(m: Uint32Array): void {
    this.trained = m.slice();
  }
}
