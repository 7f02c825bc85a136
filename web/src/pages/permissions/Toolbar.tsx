import { useState } from "react";
import { copyText, download, Notice } from "../../components/ui";

/** One export: a file name and its content, made when the button is pressed. */
export interface ExportFile {
  label: string;
  filename: string;
  type: string;
  content: () => string | Promise<string>;
}

/** Exports (each a download), Copy URL and Print; the last action's outcome in a live region. */
export function Toolbar({ exports, print = false, label }: { exports: ExportFile[]; print?: boolean; label: string }) {
  const [status, setStatus] = useState<{ text: string; error: boolean } | null>(null);
  const run = (fn: () => Promise<void> | void, done: string) => async () => {
    try {
      await fn();
      setStatus({ text: done, error: false });
    } catch (e) {
      setStatus({ text: e instanceof Error ? e.message : String(e), error: true });
    }
  };
  return (
    <div className="toolbar no-print" role="group" aria-label={label}>
      {exports.map((x) => (
        <button
          key={x.label}
          type="button"
          className="secondary"
          onClick={run(async () => download(x.filename, await x.content(), x.type), `${x.label}: ${x.filename} downloaded.`)}
        >
          {x.label}
        </button>
      ))}
      <button type="button" className="secondary" onClick={run(() => copyText(location.href), "Link copied to the clipboard.")}>
        Copy URL
      </button>
      {print && (
        <button type="button" className="secondary" onClick={() => window.print()}>
          Print
        </button>
      )}
      {status && <Notice text={status.text} tone={status.error ? "error" : "ok"} />}
    </div>
  );
}

export async function fetchText(path: string): Promise<string> {
  const res = await fetch(path, { headers: { accept: "text/csv" } });
  if (!res.ok) throw new Error(`Export failed: HTTP ${res.status}`);
  return res.text();
}
