import { describe, expect, it } from "vitest";
import { ByteBudget } from "../../src/features/notifications/byte-budget.js";

/** The bytes of delivery bodies in flight on a node, bounded together (byte-budget.ts). */
const settled = () => new Promise((resolve) => setImmediate(resolve));

describe("the in-flight byte budget", () => {
  it("grants holds that fit at once, and makes the next wait until enough is given back", async () => {
    const budget = new ByteBudget(100);
    expect(await budget.hold(60)).toBe(60);
    expect(await budget.hold(40)).toBe(40);
    let third = false;
    const held = budget.hold(30).then((n) => ((third = true), n));
    await settled();
    expect(third).toBe(false);
    expect(budget.use()).toEqual({ used: 100, waiting: 1 });
    budget.release(20);
    await settled();
    expect(third).toBe(false);
    budget.release(10);
    expect(await held).toBe(30);
    expect(budget.use()).toEqual({ used: 100, waiting: 0 });
  });

  it("serves waiters in order: a small hold does not pass a large one waiting before it", async () => {
    const budget = new ByteBudget(100);
    await budget.hold(90);
    const order: string[] = [];
    const large = budget.hold(80).then(() => order.push("large"));
    const small = budget.hold(5).then(() => order.push("small"));
    await settled();
    expect(order).toEqual([]);
    budget.release(90);
    await Promise.all([large, small]);
    expect(order).toEqual(["large", "small"]);
    expect(budget.use().used).toBe(85);
  });

  it("holds the whole budget for a body larger than it, so such a body is never refused for ever", async () => {
    const budget = new ByteBudget(100);
    expect(await budget.hold(250)).toBe(100);
    const next = budget.hold(1);
    budget.release(100);
    expect(await next).toBe(1);
  });

  it("gives back part of a hold: a body smaller than the most it could be leaves room for others", async () => {
    const budget = new ByteBudget(100);
    const held = await budget.hold(100);
    const other = budget.hold(50);
    budget.release(held - 30);
    expect(await other).toBe(50);
    expect(budget.use()).toEqual({ used: 80, waiting: 0 });
  });

  it("refuses a budget of nothing", () => {
    expect(() => new ByteBudget(0)).toThrow(/positive/);
  });
});
