/** The sign-in pages of the token service: plain, accessible HTML forms (one script: form_post's auto-submit). */

import { createHash } from "node:crypto";

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

const STYLE = `
body{font:16px/1.5 system-ui,sans-serif;background:#f4f5f7;color:#1b1f24;margin:0;display:grid;place-items:center;min-height:100vh}
main{background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002;width:min(24rem,90vw)}
h1{font-size:1.3rem;margin:0 0 1rem}label{display:block;margin:.75rem 0 .25rem;font-weight:600}
input{width:100%;box-sizing:border-box;padding:.5rem;font:inherit;border:1px solid #8a939e;border-radius:4px}
button{margin-top:1.25rem;padding:.55rem 1.2rem;font:inherit;background:#0b5cad;color:#fff;border:0;border-radius:4px;cursor:pointer}
button:focus,input:focus{outline:3px solid #f2b700;outline-offset:1px}.error{color:#a4000f;font-weight:600}.muted{color:#5a6470;font-size:.9rem}
`;

function sourceHash(text: string): string {
  return `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;
}

/** The one script of these pages: response_mode=form_post submits its form on load. */
const AUTO_SUBMIT = "document.forms[0].submit()";

/**
 * The headers of every page here: a CSP that allows only this page's own style (and the form_post
 * page's one script) by hash, forms posting only where `formAction` says, and no framing
 * (clickjacking a sign-in form). Chrome checks form-action on the redirect that follows a post too,
 * so the sign-in page allows the client's (already validated) redirect URI besides itself.
 */
export function pageHeaders(opts: { formAction?: readonly string[]; script?: boolean } = {}): Record<string, string> {
  const formAction = opts.formAction?.length ? opts.formAction.join(" ") : "'none'";
  const csp = [
    "default-src 'none'",
    `style-src ${sourceHash(STYLE)}`,
    opts.script ? `script-src ${sourceHash(AUTO_SUBMIT)}` : "script-src 'none'",
    "img-src 'self'",
    `form-action ${formAction}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join("; ");
  return {
    "content-security-policy": csp,
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
  };
}

/** A redirect URI as a CSP source: its origin, or its scheme for a non-web (app) scheme; null when unparseable. */
export function cspSourceOf(uri: string): string | null {
  try {
    const u = new URL(uri);
    if (u.protocol === "http:" || u.protocol === "https:") return u.origin;
    return /^[a-z][a-z0-9+.-]*:$/i.test(u.protocol) ? u.protocol : null;
  } catch {
    return null;
  }
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Triage</title>
<style>${STYLE}</style></head><body><main>${body}</main></body></html>`;
}

function hidden(fields: Record<string, string | undefined>): string {
  return Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v!)}">`)
    .join("");
}

export function signInPage(opts: {
  appName: string;
  tenantId: string;
  action: string;
  fields: Record<string, string | undefined>;
  error?: string;
  username?: string;
}): string {
  return page(
    "Sign in",
    `<h1>Sign in to ${escapeHtml(opts.appName)}</h1>
<p class="muted">Tenant ${escapeHtml(opts.tenantId)}</p>
${opts.error ? `<p class="error" role="alert">${escapeHtml(opts.error)}</p>` : ""}
<form method="post" action="${escapeHtml(opts.action)}">${hidden(opts.fields)}
<label for="username">User name</label><input id="username" name="username" autocomplete="username" required value="${escapeHtml(opts.username ?? "")}" autofocus>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button></form>`,
  );
}

export function deviceCodePage(opts: { action: string; error?: string; done?: string; userCode?: string }): string {
  if (opts.done) return page("Signed in", `<h1>You are signed in</h1><p>${escapeHtml(opts.done)} You can close this window.</p>`);
  return page(
    "Enter code",
    `<h1>Enter the code shown on your device</h1>
${opts.error ? `<p class="error" role="alert">${escapeHtml(opts.error)}</p>` : ""}
<form method="post" action="${escapeHtml(opts.action)}">
<label for="code">Code</label><input id="code" name="code" required autocomplete="one-time-code" value="${escapeHtml(opts.userCode ?? "")}" autofocus>
<label for="username">User name</label><input id="username" name="username" autocomplete="username" required>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button></form>`,
  );
}

export function errorPage(message: string): string {
  return page("Sign-in error", `<h1>Sign-in error</h1><p class="error" role="alert">${escapeHtml(message)}</p>`);
}

/** response_mode=form_post: the browser posts the result to the client. */
export function formPostPage(action: string, fields: Record<string, string | undefined>): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>Signing in…</title></head>
<body><form method="post" action="${escapeHtml(action)}">${hidden(fields)}<noscript><button type="submit">Continue</button></noscript></form><script>${AUTO_SUBMIT}</script></body></html>`;
}
