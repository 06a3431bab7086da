// What the live panel draws from a LiveState, as elements: the step log, a node's tables.
// Pure functions of their arguments, so the panel (live.js) only decides when to draw.

import { h } from "./dom.js";
import { interfaceName, interfaceUp, plannedInterfaces } from "./live-state.js";

export function milliseconds(value) {
  if (value === null || value === undefined) return "";
  return value < 10 ? `${value.toFixed(2)} ms` : `${Math.round(value)} ms`;
}

function cellText(value) {
  if (value === null || value === undefined || value === "") return "—";
  if (Array.isArray(value)) return value.join("\n") || "—";
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

// A lab of 1000 namespaces has 4000 steps: the log shows the latest ones, and says how many
// came before (drawing them all, every frame of a deploy, froze the page for seconds).
export const SHOWN_STEPS = 300;
const PHASES = { deploy: "Deploy", apply: "Apply (a live change)", destroy: "Destroy" };

/** The step log's items, for patchChildren ([{key, value, make()}]): a heading per action,
 * then each step with its shell line; only the last SHOWN_STEPS steps, after a line
 * counting the others. A step's element is made again only when its event is replaced (it
 * started, then is done), so that a deploy's frames add the new steps, not a new log. */
export function stepEntries(allSteps) {
  const steps = allSteps.slice(-SHOWN_STEPS);
  const hidden = allSteps.length - steps.length;
  let action = null;
  const entries = hidden
    ? [{ key: "earlier", value: hidden, make: () => h("li", { className: "hint", "data-testid": "earlier-steps" },
      `${hidden} earlier steps, done (the CLI and the exported script list them all)`) }]
    : [];
  for (const step of steps) {
    if (step.action !== action) {
      const heading = step.action;
      action = heading;
      entries.push({ key: `phase:${heading}`, value: heading, make: () => h("li", { className: "phase" }, PHASES[heading] || heading) });
    }
    entries.push({ key: `${step.action}:${step.index}`, value: step, make: () => stepItem(step) });
  }
  if (!entries.length) {
    entries.push({ key: "empty", value: "empty", make: () => h("li", { className: "empty hint" },
      "No steps yet: Deploy shows each step here as the worker runs it.") });
  }
  return entries;
}

function stepItem(step) {
  const outcome = step.outcome === "started" ? "…" : step.outcome === "done" ? "✓" : "✗";
  return h("li", { className: "step", dataset: { outcome: step.outcome, action: step.action, index: String(step.index) } },
    h("div", { className: "line" },
      h("span", { className: "outcome", "aria-label": step.outcome }, outcome),
      h("span", { className: "index" }, `${step.index}/${step.total}`),
      h("span", { className: "description" }, step.description),
      h("span", { className: "time" }, milliseconds(step.duration_ms))),
    step.shell ? h("pre", { className: "shell" }, step.shell) : null,
    step.error ? h("p", { className: "step-error", "data-testid": "step-error" }, step.error) : null);
}

/** The tables of one node: its interfaces, routes and neighbours, live or as designed. */
export function nodeTables(doc, live, node) {
  if (!node) return [h("p", { className: "hint" }, "This design has no namespace yet.")];
  const tables = live.tables;
  const running = live.state === "running";
  const netns = live.deployment.namespaces?.[node];
  const parts = [];
  parts.push(h("p", { className: "hint" }, running && netns !== undefined
    ? `${node} lives in the namespace ${netns ?? "of the machine itself (host mode)"}.`
    : `${node} as designed; deploy the lab to see it live.`));

  const interfaces = tables.links.get(node);
  const counters = tables.counters.get(node);
  const countersBy = new Map((counters ? counters.rows : []).map((row) => [interfaceName(row), row]));
  if (interfaces) {
    parts.push(table("Interfaces", "interfaces", ["name", "state", "MAC", "addresses", "rx/tx pkts"],
      interfaces.rows.map((row) => {
        const count = countersBy.get(interfaceName(row));
        const traffic = count ? `${count.rx_packets ?? count.rx_bytes ?? "?"}/${count.tx_packets ?? count.tx_bytes ?? "?"}` : "";
        const addresses = row.master ? [...(row.addresses || []), `port of ${row.master}`] : row.addresses;
        return { cells: [interfaceName(row), interfaceUp(row) ? "up" : String(row.state || "down").toLowerCase(), row.mac, addresses, traffic],
          className: interfaceUp(row) ? "up" : "down" };
      })));
  } else {
    parts.push(table("Interfaces (designed)", "interfaces", ["name", "addresses", ""],
      plannedInterfaces(doc, node).map((row) => ({
        cells: [row.name, row.addresses, row.bridge ? "bridge" : row.port ? `port of ${row.port}` : ""] }))));
  }

  const routes = tables.routes.get(node);
  if (routes) {
    const columns = ["to", "via", "dev"];
    parts.push(table("Routes", "routes", columns, routes.rows.map((row) => ({
      cells: [row.to ?? row.destination ?? row.dst ?? "default", row.via ?? row.gateway, row.dev ?? row.interface ?? row.oif] }))));
  } else {
    const designed = (doc.nodes.find((item) => item.id === node)?.routes) || [];
    parts.push(table("Routes (designed; the kernel adds one per subnet)", "routes", ["to", "via", "dev"],
      designed.map((route) => ({ cells: [route.to, route.via, route.dev] }))));
  }

  const neighbours = tables.neighbours.get(node);
  const fresh = live.fresh.get(node) || new Set();
  const neighbourRows = neighbours ? neighbours.rows.map((row) => ({
    cells: [row.address, row.mac, row.interface, row.state],
    className: fresh.has(row.address) ? "fresh" : "",
    testid: "neighbour" })) : [];
  parts.push(table("Neighbours (ARP/NDP)", "neighbours", ["address", "MAC", "interface", "state"], neighbourRows,
    running ? "No neighbours yet: ping from or to this node to fill its table." : "Shown while the lab runs."));
  return parts;
}

function table(title, testid, headings, rows, empty = "None.") {
  const body = rows.length
    ? rows.map((row) => h("tr", { className: row.className || "", "data-testid": row.testid },
      row.cells.map((cell) => h("td", {}, cellText(cell)))))
    : [h("tr", {}, h("td", { colspan: String(headings.length), className: "hint" }, empty))];
  return h("div", { className: "live-table" }, h("h4", {}, title),
    h("table", { className: "tight", "data-testid": testid },
      h("thead", {}, h("tr", {}, headings.map((heading) => h("th", {}, heading)))),
      h("tbody", {}, body)));
}
