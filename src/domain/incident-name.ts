/**
 * The name an incident gets from its alerts, in the manner of Defender: a single alert lends its
 * title; several make a "multi-stage incident" named after their categories and the assets involved.
 */
export interface NamingInput {
  alertTitles: readonly string[];
  categories: readonly string[];
  devices: number;
  accounts: number;
}

function plural(n: number, word: string): string {
  return n === 1 ? `one ${word}` : `${n} ${word}s`;
}

/** "DefenseEvasion" → "Defense evasion". */
function humanCategory(c: string): string {
  const words = c.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function incidentName(input: NamingInput): string {
  const titles = [...new Set(input.alertTitles)];
  if (titles.length <= 1) return titles[0] ?? "Incident";
  const cats = [...new Set(input.categories.filter(Boolean))].map(humanCategory);
  const what =
    cats.length === 0 ? "" : cats.length <= 2 ? ` involving ${cats.join(" & ")}` : ` involving ${cats.slice(0, 2).join(", ")} & ${cats.length - 2} more`;
  const where: string[] = [];
  if (input.devices > 0) where.push(plural(input.devices, "endpoint"));
  if (input.accounts > 0 && input.devices === 0) where.push(plural(input.accounts, "user"));
  const on = where.length ? ` on ${where.join(" and ")}` : "";
  return `Multi-stage incident${what}${on}`;
}
