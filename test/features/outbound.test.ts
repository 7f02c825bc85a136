import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkUrlForm, DestinationRefused, isPublicAddress, post, resolveDestination } from "../../src/features/notifications/outbound.js";

const strict = { allowPrivateDestinations: false };
const open = { allowPrivateDestinations: true };

describe("isPublicAddress", () => {
  it("refuses loopback, private, link-local, shared, documentation, multicast and reserved addresses", () => {
    for (const a of [
      "127.0.0.1",
      "127.255.0.9",
      "10.1.2.3",
      "172.16.0.1",
      "172.31.255.255",
      "192.168.1.1",
      "169.254.169.254",
      "100.64.0.1",
      "0.0.0.0",
      "192.0.2.5",
      "198.18.0.1",
      "224.0.0.1",
      "255.255.255.255",
      "::1",
      "::",
      "::ffff:127.0.0.1",
      "::ffff:8.8.8.8",
      "fe80::1",
      "fc00::1",
      "fd12:3456::1",
      "ff02::1",
      "2001:db8::1",
      "64:ff9b::7f00:1",
      "2002:7f00:1::",
      "not an address",
    ]) {
      expect(isPublicAddress(a), a).toBe(false);
    }
  });
  it("accepts public addresses", () => {
    for (const a of ["8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "2606:4700:4700::1111", "2a00:1450:4001::200e"]) {
      expect(isPublicAddress(a), a).toBe(true);
    }
  });
});

describe("destinations", () => {
  it("needs https, no credentials and no fragment unless private destinations are allowed", () => {
    expect(() => checkUrlForm("http://example.com/hook", strict, "notificationUrl")).toThrow(/https/);
    expect(() => checkUrlForm("https://user:pw@example.com/hook", strict, "notificationUrl")).toThrow(/credentials/);
    expect(() => checkUrlForm("https://example.com/hook#x", strict, "notificationUrl")).toThrow(/fragment/);
    expect(() => checkUrlForm("not a url", strict, "notificationUrl")).toThrow(/absolute/);
    expect(checkUrlForm("https://example.com/hook?a=1", strict, "notificationUrl").search).toBe("?a=1");
    expect(checkUrlForm("http://127.0.0.1:9/hook", open, "notificationUrl").port).toBe("9");
  });
  it("refuses a name that resolves to loopback, after resolving it", async () => {
    await expect(resolveDestination(new URL("https://localhost/hook"), strict)).rejects.toThrow(DestinationRefused);
    await expect(resolveDestination(new URL("https://[::1]/hook"), strict)).rejects.toThrow(/not a public address/);
    await expect(resolveDestination(new URL("https://127.0.0.1/hook"), strict)).rejects.toThrow(/--allow-private-destinations/);
    await expect(resolveDestination(new URL("https://localhost/hook"), open)).resolves.toMatchObject({ address: expect.any(String) });
  });
});

describe("post", () => {
  let server: http.Server;
  let url: string;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.url === "/redirect") return void res.writeHead(302, { location: "/elsewhere" }).end();
      if (req.url === "/big") return void res.writeHead(200, { "content-type": "text/plain" }).end("x".repeat(1_000_000));
      if (req.url === "/slow") return void setTimeout(() => res.writeHead(200).end(), 2000);
      res.writeHead(204).end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const addr = server.address();
    url = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  const opts = { contentType: "application/json", timeoutMs: 500, maxResponseBytes: 1000, policy: open };

  it("does not follow redirects, bounds the body it reads, and gives up at the timeout", async () => {
    expect((await post(new URL(`${url}/redirect`), "{}", opts)).status).toBe(302);
    const big = await post(new URL(`${url}/big`), "{}", opts);
    expect(big.body.length).toBe(1000);
    await expect(post(new URL(`${url}/slow`), "{}", opts)).rejects.toThrow(/within 500 ms/);
    await expect(post(new URL(`${url}/ok`), "{}", { ...opts, policy: strict })).rejects.toThrow(DestinationRefused);
  });
});
