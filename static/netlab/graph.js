// How a design is drawn with Cytoscape.js, the one place for it: the element builders and
// the styles shared by the editor's canvas (editor/canvas.js) and the read-only pictures of
// examples, revisions and diffs (preview.js). Each adds only the styles of its own marks
// (selection, problems and the live lab; a diff's changes).

import { holderOf, nodesOf, linksOf } from "./editor/model.js";

/** Colours by meaning, so a node kind or a state looks the same everywhere. */
export const COLOURS = {
  namespace: "#4a7bd0",
  host: "#37474f",
  bridge: "#ef8f00",
  link: "#8aa0b6",
  holder: "#c0c8d0",
  label: "#415566",
  selected: "#1f6feb",
  good: "#2e7d32",
  bad: "#c62828",
  busy: "#f0a800",
  changed: "#f9a825",
  moved: "#8e24aa",
};

/** Canvas element ids: a node by its id, a link by its index, a bridge's holder edge. */
export const nodeKey = (id) => `n:${id}`;
export const linkKey = (index) => `l:${index}`;
export const holderKey = (bridgeId) => `h:${bridgeId}`;

export function nodeLabel(node) {
  return node.label ? `${node.id}\n${node.label}` : node.id;
}

/** A link end's label: its interface and addresses (`veth-red 192.168.15.1/24`). */
export function endLabel(end) {
  const addresses = end.addresses && end.addresses.length ? ` ${end.addresses.join(",")}` : "";
  return `${end.interface}${addresses}`;
}

export function nodeData(node) {
  return { id: nodeKey(node.id), label: nodeLabel(node), kind: node.kind };
}

export function linkData(link, index) {
  const [a, b] = link.endpoints;
  return { id: linkKey(index), source: nodeKey(a.node), target: nodeKey(b.node),
    sourceLabel: endLabel(a), targetLabel: endLabel(b) };
}

/** The dashed edge from the namespace node holding a bridge to the bridge. */
export function holderElement(doc, bridge) {
  return { group: "edges", classes: "holder",
    data: { id: holderKey(bridge.id), source: nodeKey(holderOf(doc, bridge)), target: nodeKey(bridge.id) } };
}

/** Every element of `doc`: its nodes (at their positions), its links and the bridges' holders. */
export function elements(doc) {
  return [
    ...nodesOf(doc).map((node) => ({ group: "nodes", data: nodeData(node), position: { ...node.position } })),
    ...linksOf(doc).map((link, index) => ({ group: "edges", data: linkData(link, index) })),
    ...nodesOf(doc).filter((node) => node.kind === "bridge").map((bridge) => holderElement(doc, bridge)),
  ];
}

/** The styles of nodes, links and holders, before any mark. */
export const STYLE = [
  { selector: "node", style: {
    label: "data(label)", "text-wrap": "wrap", "text-valign": "bottom", "text-margin-y": 6,
    "font-size": 12, "min-zoomed-font-size": 7, "background-color": COLOURS.namespace,
    width: 34, height: 34, "border-width": 0 } },
  { selector: 'node[kind = "host"]', style: {
    shape: "round-rectangle", "background-color": COLOURS.host, width: 54 } },
  { selector: 'node[kind = "bridge"]', style: {
    shape: "rectangle", "background-color": COLOURS.bridge, height: 18, width: 70 } },
  { selector: "edge", style: {
    width: 2, "line-color": COLOURS.link, "curve-style": "bezier" } },
  { selector: "edge[sourceLabel]", style: {
    "source-label": "data(sourceLabel)", "target-label": "data(targetLabel)", "font-size": 9,
    "min-zoomed-font-size": 8, "source-text-offset": 46, "target-text-offset": 46,
    color: COLOURS.label, "text-background-color": "#fff", "text-background-opacity": 0.8,
    "text-background-padding": 1 } },
  { selector: "edge.holder", style: {
    "line-style": "dashed", width: 1, "line-color": COLOURS.holder, events: "no" } },
];
