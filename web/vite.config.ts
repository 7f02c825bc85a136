import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

/**
 * The web app, built into dist/web/client (served by Triage at /). `npm run build` runs this after the
 * server's tsc. For development, `npx vite --config web/vite.config.ts` serves it with hot reload and
 * proxies the API to a running Triage (TRIAGE_URL, default https://127.0.0.1:8443); the sign-in
 * redirect comes back to the dev server's own origin.
 */
const triage = process.env.TRIAGE_URL ?? "https://127.0.0.1:8443";
const proxied = { target: triage, secure: false, changeOrigin: false };

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "/",
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL("../dist/web/client", import.meta.url)),
    emptyOutDir: true,
    target: "es2022",
    sourcemap: true,
    chunkSizeWarningLimit: 800,
  },
  server: {
    proxy: {
      "/v1.0": proxied,
      "/beta": proxied,
      "/triage": proxied,
      "/permissions": proxied,
      "/web/": proxied,
      "/devicelogin": proxied,
      "^/[0-9a-fA-F-]{36}/": proxied,
    },
  },
});
