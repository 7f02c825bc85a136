/** Reading a Prometheus exposition in tests. */

/** The samples of a Prometheus exposition: `name{labels}` → value. */
export function parse(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const i = line.lastIndexOf(" ");
    samples.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return samples;
}

/** The sum of every sample of `name` whose labels include each of `labels` (`key="value"`). */
export function total(samples: Map<string, number>, name: string, ...labels: string[]): number {
  let sum = 0;
  let found = false;
  for (const [key, value] of samples) {
    const bare = key.split("{")[0];
    if (bare !== name) continue;
    if (!labels.every((l) => key.includes(l))) continue;
    sum += value;
    found = true;
  }
  return found ? sum : NaN;
}
