/**
 * Seeded PRNG for the demo-data generator: cyrb128 string hash → sfc32.
 *
 * Hand-written on purpose: it is ~30 lines, and it must stay bit-for-bit stable forever so a seed
 * reproduces the same data set on every machine and Node version. It only uses 32-bit integer
 * arithmetic (Math.imul, >>>), so results never depend on the platform's floating-point library.
 */

/** cyrb128: four 32-bit words from a string. */
function cyrb128(str: string): [number, number, number, number] {
  let h1 = 1779033703,
    h2 = 3144134277,
    h3 = 1013904242,
    h4 = 2773480762;
  for (let i = 0; i < str.length; i++) {
    const k = str.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}

/** A 32-bit hash of a string (first word of cyrb128). */
export function hash32(str: string): number {
  return cyrb128(str)[0];
}

const HEX = "0123456789abcdef";
const BYTE_HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** A generator for a seed; several parts are joined, so `new Rng(seed, "campaign", 17)` is a sub-stream. */
  constructor(...seed: (string | number)[]) {
    [this.a, this.b, this.c, this.d] = cyrb128(seed.join("\u001f"));
    for (let i = 0; i < 12; i++) this.uint32(); // warm up
  }

  /** sfc32 step: a uniformly distributed unsigned 32-bit integer. */
  uint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.uint32() / 4294967296;
  }

  /** Uniform integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** Uniform real in [min, max). */
  float(min: number, max: number): number {
    return min + this.next() * (max - min);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(arr: readonly T[]): T {
    if (arr.length === 0) throw new RangeError("pick from an empty array");
    return arr[Math.floor(this.next() * arr.length)] as T;
  }

  /** Picks a value with probability proportional to its weight. */
  weighted<T>(pairs: readonly (readonly [T, number])[]): T {
    let total = 0;
    for (const [, w] of pairs) total += w;
    let r = this.next() * total;
    for (const [v, w] of pairs) {
      if (r < w) return v;
      r -= w;
    }
    const last = pairs[pairs.length - 1];
    if (!last) throw new RangeError("weighted pick from an empty list");
    return last[0];
  }

  /** `n` lower-case hex digits. */
  hex(n: number): string {
    let out = "";
    while (out.length < n) {
      const x = this.uint32();
      out += `${BYTE_HEX[x & 255]}${BYTE_HEX[(x >>> 8) & 255]}${BYTE_HEX[(x >>> 16) & 255]}${BYTE_HEX[x >>> 24]}`;
    }
    return out.length === n ? out : out.slice(0, n);
  }

  /** A random (version 4) GUID, lower case. */
  guid(): string {
    const h = this.hex(32);
    const variant = HEX[8 + (this.uint32() & 3)];
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }
}
