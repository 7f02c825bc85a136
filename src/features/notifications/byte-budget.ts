/**
 * The bytes that the bodies of deliveries in flight may hold on one node, together. Many deliveries
 * may be in flight at once (each mostly waits for its receiver), but a body may be as large as
 * `maxPostBytes`: the budget, not the number of deliveries, bounds their memory. A delivery holds
 * the largest body it may build before it reads what goes in it, gives back what its body did not
 * need once built, and the rest when its POST has ended. Waiters are served in order, so a large
 * hold is not passed over for ever by small ones.
 */
export class ByteBudget {
  private used = 0;
  private readonly waiting: { bytes: number; resolve(): void }[] = [];

  constructor(readonly capacity: number) {
    if (!(capacity > 0)) throw new Error("A byte budget needs a positive capacity.");
  }

  /**
   * Resolves once `bytes` are held (no more than the whole budget: a larger hold waits for all of
   * it); returns what is held, to be given back with `release`.
   */
  async hold(bytes: number): Promise<number> {
    const held = Math.min(Math.max(0, Math.ceil(bytes)), this.capacity);
    if (this.waiting.length === 0 && this.used + held <= this.capacity) {
      this.used += held;
      return held;
    }
    await new Promise<void>((resolve) => this.waiting.push({ bytes: held, resolve }));
    return held;
  }

  /** Gives back `bytes` of a hold, and lets the waiters that now fit go, in order. */
  release(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
    while (this.waiting.length > 0 && this.used + this.waiting[0]!.bytes <= this.capacity) {
      const next = this.waiting.shift()!;
      this.used += next.bytes;
      next.resolve();
    }
  }

  /** Bytes held now, and holds waiting (for metrics and tests). */
  use(): { used: number; waiting: number } {
    return { used: this.used, waiting: this.waiting.length };
  }
}
