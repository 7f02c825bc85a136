import { alertSeverity, type AlertSeverity } from "../schema/enums.js";

/** The highest of the given severities (unknown when there are none). */
export function highestSeverity(severities: Iterable<AlertSeverity>): AlertSeverity {
  let best: AlertSeverity = "unknown";
  for (const s of severities) {
    if (s === "unknownFutureValue") continue;
    if (alertSeverity.members.indexOf(s) > alertSeverity.members.indexOf(best)) best = s;
  }
  return best;
}
