/** Stops Triage and removes its temporary folder. */
export default async function globalTeardown() {
  await globalThis.triage?.stop();
}
