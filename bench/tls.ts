/**
 * The TLS a baseline serves when the benchmark measures HTTPS: the certificate chain and key Triage
 * serves from the same data directory (its local CA's), given in the files BENCH_TLS_CERT and
 * BENCH_TLS_KEY, with Node's defaults otherwise — the same transport Triage runs on. Absent: plain HTTP.
 */
import { readFileSync } from "node:fs";

export function baselineTls(): { key: string; cert: string } | null {
  const cert = process.env.BENCH_TLS_CERT;
  const key = process.env.BENCH_TLS_KEY;
  return cert && key ? { cert: readFileSync(cert, "utf8"), key: readFileSync(key, "utf8") } : null;
}
