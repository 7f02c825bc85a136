import SQLite from "better-sqlite3";

/** Copies a consistent snapshot of the SQLite store at `file` to `out` (SQLite's online backup: safe while the server writes). */
export async function backupSqliteFile(file: string, out: string): Promise<void> {
  const source = new SQLite(file, { readonly: true, fileMustExist: true });
  try {
    await source.backup(out);
  } finally {
    source.close();
  }
}
