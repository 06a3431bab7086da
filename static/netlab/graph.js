// How a design is drawn with Cytoscape.js, the one place for it: the element builders and
// the styles shared by the editor's canvas (editor/canvas.js) and the read-only pictures of
// examples, revisions and diffs (preview.js). Each adds only the styles of its own marks
// (selection, problems and the live lab; a diff's changes).

import { holderOf, nodesOf, linksOf } from "./editor/model.js";
import { isLossy, linkLabel } from "./impairment.js";

/** Colours by meaning, so a node kind or a state looks the same everywhere. */
export const COLOURS = {
  namespace: "#4a7bd0",
  router: "#2a5aa8",
  ink: "#1d2733",
  canvas: "#ffffff",
  host: "#37474f",
  bridge: "#ef8f00",
  link: "#8aa0b6",
  holder: "#c0c8d0",
  label: "#415566",
  selected: "#1f6feb",
  good: "#2e7d32",
  bad: "#c62828",
  warn: "#b26a00",
  busy: "#f0a800",
  changed: "#f9a825",
  moved: "#8e24aa",
  tunnel: "#00838f",
};

/** Canvas element ids: a node by its id, a link by its index, a bridge's holder edge. */
export const nodeKey = (id) => `n:${id}`;
export const linkKey = (index) => `l:${index}`;
export const holderKey = (bridgeId) => `h:${bridgeId}`;

/** A node's label: its id, its own label, its site, and a bridge's own addresses. */
export function nodeLabel(node) {
  const lines = [node.id];
  if (node.label) lines.push(node.label);
  if (node.site) lines.push(`site ${node.site}`);
  if (node.kind === "bridge" && Array.isArray(node.addresses) && node.addresses.length) {
    lines.push(node.addresses.join(", "));
  }
  return lines.join("\n");
}

/** What a node is to the eye: host, router (a namespace that forwards), namespace or bridge. */
export function nodeRole(node) {
  if (node.kind === "namespace" && node.forwarding) return "router";
  return node.kind;
}

// Icons by role, our own SVG drawn in white over the node's colour (data: URIs, CSP-safe).
const svg = (body, size = 24) => `data:image/svg+xml;utf8,${encodeURIComponent(
  `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 24 24" fill="none" stroke="#fff" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round">${body}</svg>`)}`;
export const ICONS = {
  host: svg('<rect x="3" y="4" width="18" height="12" rx="1.5"/><path d="M8 20h8M12 16v4"/>'),
  namespace: svg('<path d="M12 3l8 4.5v9L12 21l-8-4.5v-9z"/><path d="M4 7.5l8 4.5 8-4.5M12 12v9"/>'),
  router: svg('<path d="M4 9h13l-3-3M20 15H7l3 3"/>'),
  bridge: svg('<path d="M3 12h18M7 8l-4 4 4 4M17 8l4 4-4 4"/>', 24),
};

/** The badges of a node: NAT, port forwards, services and forwarding (a router's icon says it). */
export function nodeBadges(node) {
  const badges = [];
  if (node.forwarding && node.kind !== "namespace") badges.push("F");
  if (Array.isArray(node.nat) && node.nat.length) badges.push("N");
  if (Array.isArray(node.port_forwards) && node.port_forwards.length) badges.push("P");
  if (Array.isArray(node.services) && node.services.length) badges.push("S");
  return badges;
}

/** Each badge's letter, meaning (the palette's legend) and colour. */
export const BADGES = {
  F: { meaning: "forwarding", colour: "#6a1b9a" },
  N: { meaning: "NAT", colour: "#00796b" },
  P: { meaning: "port forward", colour: "#c2185b" },
  S: { meaning: "service", colour: "#2e7d32" },
};
const badgeImages = new Map();

/** One picture of a row of badges (a letter in a disc each), made once per combination. */
export function badgeImage(badges) {
  const key = badges.join(" ");
  if (!badgeImages.has(key)) {
    let x = 0;
    const pills = badges.map((badge) => {
      const pill = `<circle cx="${x + 6}" cy="6" r="5.6" fill="${BADGES[badge].colour}" stroke="#fff" stroke-width=".8"/>`
        + `<text x="${x + 6}" y="9" font-family="sans-serif" font-size="8" font-weight="700" fill="#fff" text-anchor="middle">${badge}</text>`;
      x += 11.5;
      return pill;
    });
    x = Math.ceil(x + 0.5);
    badgeImages.set(key, {
      url: `data:image/svg+xml;utf8,${encodeURIComponent(`<svg xmlns="http://www.w3.org/2000/svg" width="${x}" height="12" viewBox="0 0 ${x} 12">${pills.join("")}</svg>`)}`,
      width: x,
    });
  }
  return badgeImages.get(key);
}

/** A link end's label: its interface and addresses (`veth-red 192.168.15.1/24`). */
export function endLabel(end) {
  const addresses = end.addresses && end.addresses.length ? ` ${end.addresses.join(",")}` : "";
  return `${end.interface}${vlanLabel(end)}${addresses}`;
}

/** A bridge port's VLANs as its end label shows them: ` VLAN 10`, ` trunk 10,20`. */
export function vlanLabel(end) {
  if (end.vlan !== undefined && end.vlan !== null) return ` VLAN ${end.vlan}`;
  if (end.trunk && end.trunk.length) return ` trunk ${end.trunk.join(",")}`;
  return "";
}

export function nodeData(node) {
  const role = nodeRole(node);
  const data = { id: nodeKey(node.id), label: nodeLabel(node), kind: node.kind, role };
  const badges = nodeBadges(node);
  if (badges.length) data.badges = badges.join(" ");
  return data;
}

/** Each node's pinned site (a host's or namespace's own, a bridge's holder's), else null. */
export function sitesOf(doc) {
  const byId = new Map(nodesOf(doc).map((node) => [node.id, node]));
  const sites = new Map();
  for (const node of byId.values()) {
    const owner = node.kind === "bridge" ? byId.get(holderOf(doc, node)) : node;
    sites.set(node.id, (owner && owner.site) || null);
  }
  return sites;
}

/** The two sites a link joins when its ends are pinned to two (a VXLAN tunnel), else null. */
export function crossedSites(link, sites) {
  const [a, b] = link.endpoints.map((end) => sites.get(end.node) || null);
  return a && b && a !== b ? [a, b] : null;
}

/** A link's canvas data; `sites` (``sitesOf``) tells a link between two sites. */
export function linkData(link, index, sites = null) {
  const [a, b] = link.endpoints;
  const data = { id: linkKey(index), source: nodeKey(a.node), target: nodeKey(b.node),
    sourceLabel: endLabel(a), targetLabel: endLabel(b) };
  // Impairments, MTU and state: a label in the middle, dashed for loss, faded when down; a
  // link between two sites, cased in the tunnel's colour, names them.
  const crossing = sites ? crossedSites(link, sites) : null;
  if (crossing) {
    data.tunnel = true;
    data.sites = crossing.join(" - ");
  }
  const label = [crossing ? `VXLAN ${data.sites}` : "", linkLabel(link)].filter(Boolean).join(" · ");
  if (label) data.linkLabel = label;
  if (isLossy(link)) data.lossy = true;
  if (link.up === false) data.down = true;
  return data;
}

/** The dashed edge from the namespace node holding a bridge to the bridge. */
export function holderElement(doc, bridge) {
  return { group: "edges", classes: "holder",
    data: { id: holderKey(bridge.id), source: nodeKey(holderOf(doc, bridge)), target: nodeKey(bridge.id) } };
}

/** Every element of `doc`: its nodes (at their positions), its links and the bridges' holders. */
export function elements(doc) {
  const sites = sitesOf(doc);
  return [
    ...nodesOf(doc).map((node) => ({ group: "nodes", data: nodeData(node), position: { ...node.position } })),
    ...linksOf(doc).map((link, index) => ({ group: "edges", data: linkData(link, index, sites) })),
    ...nodesOf(doc).filter((node) => node.kind === "bridge").map((bridge) => holderElement(doc, bridge)),
  ];
}

function badgeRules() {
  const rules = [];
  const all = Object.keys(BADGES);
  for (let set = 1; set < 2 ** all.length; set += 1) {
    const badges = all.filter((_, index) => set & (2 ** index));
    for (const [role, icon] of Object.entries(ICONS)) {
      rules.push({ selector: `node[role = "${role}"][badges = "${badges.join(" ")}"]`, style: {
        "background-image": [icon, badgeImage(badges).url],
        "background-width": ["62%", "auto"], "background-height": ["62%", "auto"],
        "background-position-x": ["50%", "100%"], "background-position-y": ["50%", "0%"] } });
    }
  }
  return rules;
}

/** The styles of nodes, links and holders, before any mark. */
export const STYLE = [
  { selector: "node", style: {
    label: "data(label)", "text-wrap": "wrap", "text-valign": "bottom", "text-margin-y": 5,
    "font-size": 11, "min-zoomed-font-size": 8, color: COLOURS.ink, "line-height": 1.25,
    "background-color": COLOURS.namespace, width: 34, height: 34, "border-width": 0,
    "background-width": "62%", "background-height": "62%", "background-clip": "none" } },
  ...Object.entries(ICONS).map(([role, url]) => ({ selector: `node[role = "${role}"]`, style: { "background-image": url } })),
  { selector: 'node[role = "router"]', style: { "background-color": COLOURS.router } },
  { selector: 'node[kind = "host"]', style: {
    shape: "round-rectangle", "background-color": COLOURS.host, width: 54, height: 36 } },
  { selector: 'node[kind = "bridge"]', style: {
    shape: "round-rectangle", "background-color": COLOURS.bridge, height: 20, width: 72,
    "background-width": 18, "background-height": 18 } },
  // The badges: a second picture in the node's top right corner, one rule for each
  // role and set of badges (a list of pictures cannot take its items from the data).
  ...badgeRules(),
  { selector: "edge", style: {
    width: 2, "line-color": COLOURS.link, "curve-style": "bezier" } },
  { selector: "edge[sourceLabel]", style: {
    "source-label": "data(sourceLabel)", "target-label": "data(targetLabel)", "font-size": 9,
    "min-zoomed-font-size": 8, "source-text-offset": 40, "target-text-offset": 40,
    color: COLOURS.label, "text-background-color": COLOURS.canvas, "text-background-opacity": 0.85,
    "text-background-padding": 1 } },
  { selector: "edge[linkLabel]", style: {
    label: "data(linkLabel)", "font-size": 9, "min-zoomed-font-size": 8, "text-rotation": "autorotate",
    color: COLOURS.label, "text-background-color": COLOURS.canvas, "text-background-opacity": 0.85,
    "text-background-padding": 1 } },
  // A tunnel between sites: the link cased in the tunnel's colour, as a cable in a duct.
  { selector: "edge[?tunnel]", style: { "line-outline-width": 2, "line-outline-color": COLOURS.tunnel } },
  { selector: "edge[?lossy]", style: { "line-style": "dashed" } },
  { selector: "edge[?down]", style: { "line-style": "dotted", opacity: 0.45 } },
  { selector: "edge.holder", style: {
    "line-style": "dashed", width: 1, "line-color": COLOURS.holder, events: "no" } },
];

/**
 * The drawing's colours from the page's CSS variables (theme.css), so the canvas follows
 * the light or dark theme of the system (the editor's canvas and the previews).
 */
export function themeStyle(element) {
  const css = getComputedStyle(element);
  const read = (name, fallback) => css.getPropertyValue(name).trim() || fallback;
  const ink = read("--ink", COLOURS.ink);
  const canvas = read("--canvas", COLOURS.canvas);
  return [
    { selector: "node", style: { color: ink } },
    { selector: 'node[kind = "namespace"]', style: { "background-color": read("--namespace", COLOURS.namespace) } },
    { selector: 'node[role = "router"]', style: { "background-color": read("--router", COLOURS.router) } },
    { selector: 'node[kind = "host"]', style: { "background-color": read("--host", COLOURS.host) } },
    { selector: 'node[kind = "bridge"]', style: { "background-color": read("--bridge", COLOURS.bridge) } },
    { selector: "edge", style: { "line-color": read("--link", COLOURS.link) } },
    { selector: "edge[sourceLabel]", style: { color: read("--label", COLOURS.label), "text-background-color": canvas } },
    { selector: "edge[linkLabel]", style: { color: read("--label", COLOURS.label), "text-background-color": canvas } },
    { selector: "edge.holder", style: { "line-color": read("--holder", COLOURS.holder) } },
  ];
}
