// The ping-all's results as a matrix to read: rows are sources, columns the addresses
// pinged (with the node owning each), sorted and filtered as the reader asks. No DOM here
// (pingall-dialog.js draws it): tests/js/pingall-matrix.test.mjs runs it under node.

/** The orders a matrix can be read in; the first is the default. */
export const SORTS = Object.freeze({
  name: "name",
  failures: "most failures first",
  rtt: "slowest first",
});

const collator = new Intl.Collator("en", { numeric: true, sensitivity: "base" });

/** Compare two node ids as a reader would: h2 before h10. */
export function compareNames(a, b) {
  return collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}

/** Compare two addresses: IPv4 by their numbers, others as text, IPv4 first. */
export function compareAddresses(a, b) {
  const numbers = (text) => /^\d+\.\d+\.\d+\.\d+$/.test(text) ? text.split(".").map(Number) : null;
  const left = numbers(a);
  const right = numbers(b);
  if (left && right) {
    for (let index = 0; index < 4; index += 1) if (left[index] !== right[index]) return left[index] - right[index];
    return 0;
  }
  if (left || right) return left ? -1 : 1;
  return compareNames(a, b);
}

function tally() {
  return { failed: 0, measured: 0, slowest: -1 };
}

function count(entry, cell) {
  entry.measured += 1;
  if (!cell.reachable) entry.failed += 1;
  else if (cell.rtt_ms !== null && cell.rtt_ms !== undefined) entry.slowest = Math.max(entry.slowest, cell.rtt_ms);
}

/**
 * The matrix of `cells` (pingall.cell events), read in order `sort` (a key of SORTS), with
 * only the rows and columns that hold a failure when `failuresOnly`. `planned` ({sources,
 * columns [{target, address}]}) adds the rows and columns expected before their cells come.
 *
 * Answers {sources: [id], columns: [{key, target, address}], cell(source, address): the
 * cell or null, failed: the number of failed cells, measured: the number of cells,
 * hidden: {sources, columns} left out by the filter}.
 */
export function matrixView(cells, { sort = "name", failuresOnly = false, planned = null } = {}) {
  const byKey = new Map();
  const rows = new Map();
  const columns = new Map();
  let failed = 0;
  // Rows and columns known before their cells (the lab's namespaces and addresses): a
  // matrix that keeps its shape while it fills in.
  for (const source of planned?.sources || []) rows.set(source, tally());
  for (const { target, address } of planned?.columns || []) {
    if (!columns.has(address)) columns.set(address, { key: address, target, address, ...tally() });
  }
  for (const cell of cells) {
    byKey.set(`${cell.source}|${cell.address}`, cell);
    if (!rows.has(cell.source)) rows.set(cell.source, tally());
    if (!columns.has(cell.address)) columns.set(cell.address, { key: cell.address, target: cell.target, address: cell.address, ...tally() });
    count(rows.get(cell.source), cell);
    count(columns.get(cell.address), cell);
    if (!cell.reachable) failed += 1;
  }
  let sources = [...rows.keys()];
  let targets = [...columns.values()];
  const allSources = sources.length;
  const allColumns = targets.length;
  if (failuresOnly) {
    sources = sources.filter((source) => rows.get(source).failed > 0);
    targets = targets.filter((column) => column.failed > 0);
  }
  const byName = (a, b) => compareNames(a, b);
  const columnsByName = (a, b) => compareNames(a.target, b.target) || compareAddresses(a.address, b.address);
  if (sort === "failures") {
    sources.sort((a, b) => rows.get(b).failed - rows.get(a).failed || byName(a, b));
    targets.sort((a, b) => b.failed - a.failed || columnsByName(a, b));
  } else if (sort === "rtt") {
    sources.sort((a, b) => rows.get(b).slowest - rows.get(a).slowest || byName(a, b));
    targets.sort((a, b) => b.slowest - a.slowest || columnsByName(a, b));
  } else {
    sources.sort(byName);
    targets.sort(columnsByName);
  }
  return {
    sources,
    columns: targets.map(({ key, target, address }) => ({ key, target, address })),
    cell: (source, address) => byKey.get(`${source}|${address}`) || null,
    failed,
    measured: byKey.size,
    hidden: { sources: allSources - sources.length, columns: allColumns - targets.length },
  };
}

/** "n of N" for a ping-all's progress ({done, total, reachable}), with what failed so far. */
export function progressText(progress) {
  if (!progress) return "";
  const failed = progress.done - progress.reachable;
  return `${progress.done} of ${progress.total} pairs${failed ? `, ${failed} unreachable` : ""}`;
}
