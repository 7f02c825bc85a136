import { hostname, networkInterfaces } from "node:os";
import { describe, expect, it } from "vitest";
import { acceptedHosts, hostLiteral, isHostEntry } from "../../src/http/allowed-hosts.js";

const at = (address: string, port: number) => ({ address, port, family: address.includes(":") ? "IPv6" : "IPv4" });

describe("acceptedHosts", () => {
  it("a loopback listener: its address and the loopback names, on its port only", () => {
    const set = acceptedHosts({ scheme: "https", listening: () => [at("127.0.0.1", 8443)] });
    for (const h of ["127.0.0.1:8443", "localhost:8443", "[::1]:8443"]) expect(set.has(h), h).toBe(true);
    for (const h of ["127.0.0.1", "localhost", "localhost:8444", "evil.example:8443", hostname().toLowerCase() + ":8443"]) expect(set.has(h), h).toBe(false);
  });

  it("on the scheme's default port a Host may leave the port out", () => {
    const set = acceptedHosts({ scheme: "http", listening: () => [at("127.0.0.1", 80)] });
    expect(set.has("localhost")).toBe(true);
    expect(set.has("localhost:80")).toBe(true);
  });

  it("a wildcard listener: every interface address and the machine's name", () => {
    const set = acceptedHosts({ scheme: "https", listening: () => [at("0.0.0.0", 8443)] });
    expect(set.has(`${hostname().toLowerCase()}:8443`)).toBe(true);
    for (const i of Object.values(networkInterfaces()).flat()) {
      if (i && !(i.family === "IPv6" && i.scopeid)) expect(set.has(`${hostLiteral(i.address)}:8443`), i.address).toBe(true);
    }
    expect(set.has("evil.example:8443")).toBe(false);
  });

  it("allowed names: with a port, that port; bare, the default and the listening port; IPv6 addresses in brackets", () => {
    const set = acceptedHosts({
      scheme: "https",
      allowedHosts: ["Triage.Corp", "proxy.example:9000", "2001:db8::5"],
      listening: () => [at("127.0.0.1", 8443)],
    });
    for (const h of ["triage.corp", "triage.corp:443", "triage.corp:8443", "proxy.example:9000", "[2001:db8::5]:8443"]) expect(set.has(h), h).toBe(true);
    for (const h of ["triage.corp:9000", "proxy.example", "proxy.example:8443"]) expect(set.has(h), h).toBe(false);
  });

  it("the public URL's host, with or without its default port", () => {
    const set = acceptedHosts({ scheme: "http", publicUrl: "https://triage.example", listening: () => [] });
    expect([...set].sort()).toEqual(["triage.example", "triage.example:443"]);
  });

  it("isHostEntry takes names and addresses with an optional port, nothing else", () => {
    for (const v of ["triage.corp", "triage.corp:8443", "10.0.0.1", "[::1]:8443", "::1"]) expect(isHostEntry(v), v).toBe(true);
    for (const v of ["https://triage.corp", "triage.corp/x", "a b", "", "-x.example"]) expect(isHostEntry(v), v).toBe(false);
  });
});
