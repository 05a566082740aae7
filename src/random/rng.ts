// Seeded randomness. Every random choice in a run derives from the config's seed through named streams,
// so adding a new consumer of randomness does not shift the numbers any other consumer sees.

/** A 32-bit seed for the stream `label` of a run seeded with `seed` (FNV-1a over "seed:label", then mixed). */
export function deriveSeed(seed: number, label: string): number {
  let hash = 0x811c9dc5;
  for (const char of `${seed}:${label}`) {
    hash = Math.imul(hash ^ char.charCodeAt(0), 0x01000193);
  }
  return mix32(hash);
}

function mix32(value: number): number {
  let x = value >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/** Everything an Rng's future draws depend on, as plain JSON for checkpoints. */
export interface RngState {
  words: [number, number, number, number];
  spareNormal: number | null;
}

/** A small, fast, seeded generator (sfc32) with the draws the runner needs. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spareNormal: number | undefined;

  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 15; i++) this.nextUint32(); // warm up: sfc32's first outputs are correlated with the seed
  }

  /** The current state: an Rng restored from it draws the same numbers from here on. */
  state(): RngState {
    return { words: [this.a, this.b, this.c, this.d], spareNormal: this.spareNormal ?? null };
  }

  restore(state: RngState): void {
    [this.a, this.b, this.c, this.d] = state.words.map((word) => word | 0);
    this.spareNormal = state.spareNormal ?? undefined;
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Box-Muller; the second value of each pair is kept for the next call). */
  normal(): number {
    if (this.spareNormal !== undefined) {
      const value = this.spareNormal;
      this.spareNormal = undefined;
      return value;
    }
    const u = 1 - this.next(); // (0, 1]: log(0) is never taken
    const v = this.next();
    const radius = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = radius * Math.sin(2 * Math.PI * v);
    return radius * Math.cos(2 * Math.PI * v);
  }

  /** `count` standard normals in a Float32Array. */
  normals(count: number, mean = 0, std = 1): Float32Array {
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = mean + std * this.normal();
    return out;
  }

  /** A Fisher-Yates permutation of 0..n-1. */
  permutation(n: number): Uint32Array {
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    return order;
  }
}
