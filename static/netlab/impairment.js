// A link's impairments, MTU and state as the canvas labels them; mirrors
// netlab/core/impairments.py (impairment_summary) and Link.impairment_of in the document.

export const IMPAIRMENT_FIELDS = [
  { key: "delay_ms", label: "Delay (ms)" },
  { key: "jitter_ms", label: "Jitter (ms)" },
  { key: "loss_percent", label: "Loss (%)" },
  { key: "rate_kbit", label: "Rate (kbit/s)" },
  { key: "corrupt_percent", label: "Corrupt (%)" },
  { key: "duplicate_percent", label: "Duplicate (%)" },
];

const isSet = (value) => value !== undefined && value !== null;

/** What end `end` (0 or 1) of `link` does to its egress: its own fields over the link's. */
export function endImpairment(link, end) {
  const merged = { ...(link.impairment || {}) };
  for (const [key, value] of Object.entries(link.endpoints?.[end]?.impairment || {})) {
    if (isSet(value)) merged[key] = value;
  }
  const found = Object.fromEntries(Object.entries(merged).filter(([, value]) => isSet(value)));
  return Object.keys(found).length ? found : null;
}

function rateText(kbit) {
  for (const [unit, size] of [["Gbit/s", 1_000_000], ["Mbit/s", 1000]]) {
    if (kbit >= size) return `${Math.round((kbit / size) * 100) / 100} ${unit}`;
  }
  return `${kbit} kbit/s`;
}

/** `30 ms ± 5 ms · 1% loss · 10 Mbit/s` (empty for nothing). */
export function impairmentLabel(impairment) {
  if (!impairment) return "";
  const parts = [];
  if (isSet(impairment.delay_ms)) {
    parts.push(impairment.jitter_ms ? `${impairment.delay_ms} ms ± ${impairment.jitter_ms} ms` : `${impairment.delay_ms} ms`);
  }
  for (const [key, word] of [["loss_percent", "loss"], ["corrupt_percent", "corrupt"], ["duplicate_percent", "duplicate"]]) {
    if (isSet(impairment[key])) parts.push(`${impairment[key]}% ${word}`);
  }
  if (isSet(impairment.rate_kbit)) parts.push(rateText(impairment.rate_kbit));
  return parts.join(" · ");
}

/**
 * The label in the middle of a link: its impairment (each end's, named, when they differ),
 * its MTU, and "down" for a link the design has down; empty for a plain link.
 */
export function linkLabel(link) {
  const ends = [0, 1].map((end) => impairmentLabel(endImpairment(link, end)));
  const parts = [];
  if (ends[0] === ends[1]) {
    if (ends[0]) parts.push(ends[0]);
  } else {
    ends.forEach((text, end) => { if (text) parts.push(`${link.endpoints[end].node}: ${text}`); });
  }
  if (isSet(link.mtu)) parts.push(`MTU ${link.mtu}`);
  if (link.up === false) parts.push("down");
  return parts.join(" | ");
}

/** Whether either end of `link` loses packets (drawn dashed). */
export function isLossy(link) {
  return [0, 1].some((end) => (endImpairment(link, end)?.loss_percent || 0) > 0);
}
