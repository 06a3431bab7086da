// The canvas: Cytoscape.js drawing the document, the palette dropped onto it and links
// drawn by dragging a node's handle to another node (cytoscape-edgehandles).
//
// The canvas never edits the document: it reports gestures (a drop, a finished drag, a
// drawn link, a selection) to its owner, who makes the edit; then `render(doc)` brings the
// drawing up to date, redrawing only the nodes and links whose object changed.

import { COLOURS, STYLE, crossedSites, holderElement, linkData, linkKey, nodeData, nodeKey, sitesOf, themeStyle } from "../graph.js";
import { CELL } from "./layout.js";
import { sliceMarks } from "./live-marks.js";
import { Minimap } from "./minimap.js";
import { linksOf, nodesOf, holderOf } from "./model.js";

/** The document id of a canvas node (its key without the "n:"). */
const idOf = (element) => element.id().slice(2);

// The editor's marks over the shared drawing: the selection, problems, the live lab and the
// link being drawn.
const MARKS = [
  { selector: "node:selected", style: {
    "border-width": 3, "border-color": COLOURS.selected, "background-blacken": -0.1 } },
  { selector: "edge:selected", style: { width: 4, "line-color": COLOURS.selected } },
  { selector: ".invalid", style: { "border-width": 3, "border-color": COLOURS.bad,
    "border-style": "double" } },
  { selector: "edge.invalid", style: { "line-color": COLOURS.bad, "line-style": "dashed" } },
  // A warning refuses nothing: a plain outline in the warning colour, under a problem's.
  { selector: ".caution:not(.invalid)", style: { "border-width": 3, "border-color": COLOURS.warn } },
  { selector: "edge.caution:not(.invalid)", style: { "line-color": COLOURS.warn } },
  // The live lab: the outline says a node's state, the underlay its ping-all reachability,
  // a link's colour its interfaces' state.
  { selector: "node.live-deploying, node.live-destroying", style: {
    "outline-width": 3, "outline-color": COLOURS.busy, "outline-offset": 3, "outline-style": "dashed" } },
  { selector: "node.live-running", style: {
    "outline-width": 3, "outline-color": COLOURS.good, "outline-offset": 3 } },
  { selector: "node.live-failed", style: {
    "outline-width": 4, "outline-color": COLOURS.bad, "outline-offset": 3 } },
  { selector: "node.reach-reachable", style: {
    "underlay-color": COLOURS.good, "underlay-padding": 10, "underlay-opacity": 0.25 } },
  { selector: "node.reach-partial", style: {
    "underlay-color": COLOURS.busy, "underlay-padding": 10, "underlay-opacity": 0.35 } },
  { selector: "node.reach-unreachable", style: {
    "underlay-color": COLOURS.bad, "underlay-padding": 10, "underlay-opacity": 0.35 } },
  { selector: "edge.link-up", style: { "line-color": COLOURS.good, width: 3 } },
  { selector: "edge.link-down", style: { "line-color": COLOURS.bad, "line-style": "dashed", width: 3 } },
  { selector: ".eh-preview, .eh-ghost-edge", style: {
    "line-color": COLOURS.selected, "line-style": "dotted", width: 2 } },
  { selector: ".eh-ghost-node", style: { opacity: 0, width: 1, height: 1, label: "" } },
  { selector: ".eh-hover, .eh-target", style: { "border-width": 3, "border-color": COLOURS.selected } },
  { selector: ".eh-ghost-edge.eh-preview-active", style: { opacity: 0 } },
  // Labels: a link end's label hidden where it would cover another label or a node, and
  // every label hidden by the toolbar's toggle.
  { selector: "edge.hide-source-label", style: { "source-label": "" } },
  { selector: "edge.hide-target-label", style: { "target-label": "" } },
  { selector: "node.labels-off", style: { label: "" } },
  { selector: "edge.labels-off", style: { "source-label": "", "target-label": "", label: "" } },
];

const LIVE_MARKS = "live-deploying live-running live-failed live-destroying reach-reachable reach-partial reach-unreachable";
const LIVE_RESTYLES_PER_FRAME = 300;

// The room a link end's label takes (9px text) and a node's own, in model units.
const END_LABEL = { char: 5.2, height: 11, offset: 40 };
const NODE_LABEL = { char: 6.4, line: 14 };

export class Canvas {
  /**
   * @param container the element Cytoscape draws into (data-testid="canvas")
   * @param handlers {onMove(positions), onLink(sourceId, targetId), onSelect(selection)}
   */
  constructor(container, handlers) {
    this.container = container;
    this.handlers = handlers;
    this.doc = { nodes: [], links: [] };
    this.cy = window.cytoscape({
      container,
      style: this.#style(),
      layout: { name: "preset" },
      boxSelectionEnabled: true,
      // a click selects one element; shift or ctrl click toggles; shift drag draws a box
      selectionType: "single",
      minZoom: 0.05,
      maxZoom: 4,
      textureOnViewport: false,
      motionBlur: false,
    });
    this.selectionTimer = null;
    this.moved = new Map();
    this.labelsOff = false;
    this.#listen();
    this.#edgeHandles();
    this.minimap = new Minimap(this.cy, container.parentElement);
    window.matchMedia?.("(prefers-color-scheme: dark)").addEventListener?.("change", () => {
      this.cy.style(this.#style());
      this.minimap.update();
    });
  }

  #style() {
    return [...STYLE, ...themeStyle(this.container), ...MARKS];
  }

  #listen() {
    const cy = this.cy;
    const selectionChanged = () => {
      if (this.selectionTimer) return;
      this.selectionTimer = setTimeout(() => {
        this.selectionTimer = null;
        this.handlers.onSelect(this.selection());
      }, 0);
    };
    cy.on("select unselect", selectionChanged);
    // A drag moves every grabbed node; report them once, when the last is let go.
    cy.on("dragfree", "node", (event) => {
      const node = event.target;
      this.moved.set(idOf(node), { ...node.position() });
      clearTimeout(this.moveTimer);
      this.moveTimer = setTimeout(() => {
        const positions = Object.fromEntries(this.moved);
        this.moved.clear();
        this.handlers.onMove(positions);
      }, 0);
    });
    cy.on("mouseover", "node", (event) => this.#showHandle(event.target));
    cy.on("viewport drag", () => this.#hideHandle());
    cy.on("mouseout", "node", (event) => {
      // Leaving the node for its handle keeps the handle; so does reaching another node.
      const node = event.target;
      setTimeout(() => {
        if (!this.handleHovered && this.handleNode === node) this.#hideHandle();
      }, 30);
    });
  }

  #edgeHandles() {
    const cy = this.cy;
    this.edgeHandles = cy.edgehandles({
      canConnect: (source, target) => !source.same(target) && !target.hasClass("eh-ghost-node"),
      edgeParams: () => ({ classes: "eh-drawn" }),
      hoverDelay: 0,
      snap: true,
      snapThreshold: 20,
      snapFrequency: 30,
    });
    cy.on("ehcomplete", (event, source, target, added) => {
      added.remove();
      this.handlers.onLink(idOf(source), idOf(target));
    });
    const handle = document.createElement("div");
    handle.className = "link-handle";
    handle.title = "Drag to another node to draw a link";
    handle.dataset.testid = "link-handle";
    handle.hidden = true;
    this.container.parentElement.appendChild(handle);
    this.handle = handle;
    handle.addEventListener("mouseenter", () => { this.handleHovered = true; });
    handle.addEventListener("mouseleave", () => { this.handleHovered = false; });
    handle.addEventListener("mousedown", (event) => {
      if (event.button !== 0 || !this.handleNode) return;
      event.preventDefault();
      event.stopPropagation();
      this.edgeHandles.start(this.handleNode);
      handle.hidden = true;
      const stop = () => {
        window.removeEventListener("mouseup", stop, true);
        this.edgeHandles.stop();
      };
      window.addEventListener("mouseup", stop, true);
    });
  }

  #showHandle(node) {
    if (this.edgeHandles.active || node.hasClass("eh-ghost-node") || node.grabbed()) return;
    this.handleNode = node;
    const box = node.renderedBoundingBox({ includeLabels: false });
    const origin = this.container.getBoundingClientRect();
    const parent = this.container.parentElement.getBoundingClientRect();
    this.handle.style.left = `${origin.left - parent.left + (box.x1 + box.x2) / 2 - 7}px`;
    this.handle.style.top = `${origin.top - parent.top + box.y1 - 16}px`;
    this.handle.hidden = false;
  }

  #hideHandle() {
    this.handle.hidden = true;
    this.handleHovered = false;
  }

  /** Bring the drawing up to date with `doc`. */
  render(doc) {
    const previous = this.doc;
    if (doc === previous) return;
    const cy = this.cy;
    const before = new Map(nodesOf(previous).map((node) => [node.id, node]));
    const ids = new Set(nodesOf(doc).map((node) => node.id));
    cy.batch(() => {
      for (const id of before.keys()) if (!ids.has(id)) cy.getElementById(nodeKey(id)).remove();
      cy.edges(".holder").forEach((edge) => {
        const bridge = doc.nodes && nodesOf(doc).find((node) => nodeKey(node.id) === edge.target().id());
        if (!bridge || bridge.kind !== "bridge" || nodeKey(holderOf(doc, bridge)) !== edge.source().id()) edge.remove();
      });
      const added = [];
      for (const node of nodesOf(doc)) {
        const element = cy.getElementById(nodeKey(node.id));
        if (element.nonempty() && before.get(node.id) === node) continue;
        const data = nodeData(node);
        const position = node.position || { x: 0, y: 0 };
        if (element.empty()) {
          added.push({ group: "nodes", data, position: { ...position } });
        } else {
          element.data(data);
          const current = element.position();
          if (current.x !== position.x || current.y !== position.y) element.position({ ...position });
        }
      }
      if (added.length) cy.add(added);
      for (const node of nodesOf(doc)) {
        if (node.kind !== "bridge") continue;
        const holder = holderElement(doc, node);
        if (cy.getElementById(holder.data.id).empty() && cy.getElementById(holder.data.source).nonempty()) {
          cy.add(holder);
        }
      }
      const oldLinks = linksOf(previous);
      const links = linksOf(doc);
      const edges = [];
      const sites = sitesOf(doc);
      links.forEach((link, index) => {
        const element = cy.getElementById(linkKey(index));
        // A node pinned elsewhere changes its links without changing them: made again.
        const crossing = (crossedSites(link, sites) || []).join(" - ");
        const same = element.nonempty() && (element.data("sites") || "") === crossing;
        if (same && oldLinks[index] === link) return;
        const data = linkData(link, index, sites);
        if (same && element.data("source") === data.source && element.data("target") === data.target) {
          element.data(data);
          return;
        }
        element.remove();
        if (cy.getElementById(data.source).nonempty() && cy.getElementById(data.target).nonempty()) {
          edges.push({ group: "edges", data });
        }
      });
      for (let index = links.length; index < oldLinks.length; index += 1) cy.getElementById(linkKey(index)).remove();
      if (edges.length) cy.add(edges);
    });
    this.doc = doc;
    this.liveMarks = null; // elements were made or changed: mark every one again
    if (this.labelsOff) cy.elements().addClass("labels-off");
    this.#placeEndLabelsSoon();
  }

  #placeEndLabelsSoon() {
    clearTimeout(this.labelTimer);
    this.labelTimer = setTimeout(() => this.placeEndLabels(), 50);
  }

  /**
   * Hide each link end's label that would cover a node, a node's label or an end label
   * shown before it (links in document order). Positions only, in model units: the answer
   * holds at every zoom, so it is computed after a change, not while zooming.
   */
  placeEndLabels() {
    const cy = this.cy;
    const grid = new Map();
    const SLOT = 120;
    const cells = (box) => {
      const keys = [];
      for (let i = Math.floor(box.x1 / SLOT); i <= Math.floor(box.x2 / SLOT); i += 1) {
        for (let j = Math.floor(box.y1 / SLOT); j <= Math.floor(box.y2 / SLOT); j += 1) keys.push(`${i},${j}`);
      }
      return keys;
    };
    const hits = (box) => cells(box).some((key) => (grid.get(key) || []).some((other) =>
      box.x1 < other.x2 && box.x2 > other.x1 && box.y1 < other.y2 && box.y2 > other.y1));
    const take = (box) => {
      for (const key of cells(box)) {
        if (!grid.has(key)) grid.set(key, []);
        grid.get(key).push(box);
      }
    };
    cy.nodes().forEach((node) => {
      const p = node.position();
      const lines = String(node.data("label") || "").split("\n");
      const labelWidth = Math.max(...lines.map((line) => line.length)) * NODE_LABEL.char;
      const width = Math.max(node.width(), labelWidth);
      take({ x1: p.x - width / 2, x2: p.x + width / 2, y1: p.y - node.height() / 2,
        y2: p.y + node.height() / 2 + 5 + lines.length * NODE_LABEL.line });
    });
    const hidden = { source: [], target: [] };
    cy.edges("[sourceLabel]").forEach((edge) => {
      for (const [end, near, far] of [["source", edge.source(), edge.target()], ["target", edge.target(), edge.source()]]) {
        const a = near.position();
        const b = far.position();
        const length = Math.hypot(b.x - a.x, b.y - a.y) || 1;
        // The line leaves the node's box at its border, and the label sits beyond that.
        const ux = Math.abs(b.x - a.x) / length;
        const uy = Math.abs(b.y - a.y) / length;
        const border = Math.min(ux ? near.width() / 2 / ux : Infinity, uy ? near.height() / 2 / uy : Infinity);
        const reach = border + END_LABEL.offset;
        const x = a.x + ((b.x - a.x) / length) * reach;
        const y = a.y + ((b.y - a.y) / length) * reach;
        const width = String(edge.data(`${end}Label`)).length * END_LABEL.char;
        const box = { x1: x - width / 2, x2: x + width / 2, y1: y - END_LABEL.height / 2, y2: y + END_LABEL.height / 2 };
        if (length < 2 * reach || hits(box)) hidden[end].push(edge);
        else take(box);
      }
    });
    cy.batch(() => {
      cy.edges(".hide-source-label, .hide-target-label").removeClass("hide-source-label hide-target-label");
      for (const edge of hidden.source) edge.addClass("hide-source-label");
      for (const edge of hidden.target) edge.addClass("hide-target-label");
    });
    this.container.dataset.hiddenEndLabels = String(hidden.source.length + hidden.target.length);
  }

  /** Show or hide every label; answers whether they are shown now. */
  toggleLabels() {
    this.labelsOff = !this.labelsOff;
    this.cy.elements().toggleClass("labels-off", this.labelsOff);
    return !this.labelsOff;
  }

  /** Centre the view on a node, zoomed in to a readable size if it was further out. */
  centreOn(id) {
    const node = this.cy.getElementById(nodeKey(id));
    if (node.empty()) return;
    const cy = this.cy;
    if (cy.zoom() < 1) cy.zoom(1);
    const { x, y } = node.position(); // the node itself, not the box of it and its label
    cy.pan({ x: cy.width() / 2 - x * cy.zoom(), y: cy.height() / 2 - y * cy.zoom() });
  }

  /** The free place nearest to `point` (model units) where a new node covers none. */
  freeSpot(point) {
    const taken = this.cy.nodes().map((node) => node.position());
    const clear = (p) => taken.every((q) => Math.abs(q.x - p.x) >= CELL.width || Math.abs(q.y - p.y) >= CELL.height);
    for (let ring = 0; ring < 60; ring += 1) {
      const candidates = [];
      for (let i = -ring; i <= ring; i += 1) {
        for (let j = -ring; j <= ring; j += 1) {
          if (Math.max(Math.abs(i), Math.abs(j)) === ring) candidates.push({ x: point.x + i * CELL.width, y: point.y + j * CELL.height });
        }
      }
      candidates.sort((a, b) => Math.hypot(a.x - point.x, a.y - point.y) - Math.hypot(b.x - point.x, b.y - point.y));
      const found = candidates.find(clear);
      if (found) return { x: Math.round(found.x), y: Math.round(found.y) };
    }
    return point;
  }

  /** The selected node ids and link indices. */
  selection() {
    const nodes = this.cy.nodes(":selected").map((node) => node.id().slice(2));
    const links = this.cy.edges(":selected").not(".holder").map((edge) => Number(edge.id().slice(2)));
    return { nodes, links };
  }

  /** Select exactly these nodes and links (and centre on them when `reveal`). */
  select({ nodes = [], links = [] }, { reveal = false } = {}) {
    const cy = this.cy;
    let chosen = cy.collection();
    for (const id of nodes) chosen = chosen.union(cy.getElementById(nodeKey(id)));
    for (const index of links) chosen = chosen.union(cy.getElementById(linkKey(index)));
    cy.batch(() => {
      cy.elements(":selected").difference(chosen).unselect();
      chosen.select();
    });
    if (reveal && chosen.nonempty()) {
      const box = chosen.boundingBox();
      const extent = cy.extent();
      if (box.x1 < extent.x1 || box.x2 > extent.x2 || box.y1 < extent.y1 || box.y2 > extent.y2) {
        cy.animate({ center: { eles: chosen } }, { duration: 200 });
      }
    }
    this.handlers.onSelect(this.selection());
  }

  /** Mark the elements with problems and warnings: each maps element keys to messages. */
  markProblems(marks, warnings = new Map()) {
    const cy = this.cy;
    cy.batch(() => {
      for (const [found, mark] of [[marks, "invalid"], [warnings, "caution"]]) {
        cy.elements(`.${mark}`).forEach((element) => {
          if (!found.has(element.id())) element.removeClass(mark);
        });
        for (const key of found.keys()) cy.getElementById(key).addClass(mark);
      }
    });
  }

  /**
   * Show the live lab: `nodeStates` maps node ids to deploying, running, failed or
   * destroying; `linkStates` link indices to up or down; `reachability` node ids to
   * reachable, partial or unreachable (the last ping-all). Absent: no mark.
   * Only elements whose marks change are touched, by groups of one mark, and by slices of
   * about LIVE_RESTYLES_PER_FRAME restyles (live-marks.js): the others at the next frames,
   * from the latest marks asked for.
   */
  markLive(nodeStates, linkStates, reachability) {
    this.liveWanted = { nodeStates, linkStates, reachability };
    if (!this.liveFrame) this.#applyLiveMarks();
  }

  #applyLiveMarks() {
    this.liveFrame = null;
    const { nodeStates, linkStates, reachability } = this.liveWanted;
    const cy = this.cy;
    const items = [];
    cy.nodes().forEach((node) => {
      const id = idOf(node);
      const state = nodeStates.get(id) || "";
      const reach = reachability.get(id);
      items.push({ key: node.id(), mark: `${state} ${reach}`, element: node, state,
        classes: [state && `live-${state}`, reach && `reach-${reach}`].filter(Boolean).join(" ") });
    });
    cy.edges().forEach((edge) => {
      if (edge.hasClass("holder")) return;
      const state = linkStates.get(Number(edge.id().slice(2)));
      items.push({ key: edge.id(), mark: `link ${state}`, element: edge, classes: state ? `link-${state}` : "" });
    });
    const marked = this.liveMarks || (this.liveMarks = new Map());
    const { groups, more } = sliceMarks(items, marked, LIVE_RESTYLES_PER_FRAME,
      (item) => (item.element.isNode() ? 1 + item.element.degree(false) : 1));
    if (more) this.liveFrame = requestAnimationFrame(() => this.#applyLiveMarks());
    if (!groups.size) return; // an empty batch still has Cytoscape draw every element again
    cy.batch(() => {
      for (const taken of groups.values()) {
        const { element, state, classes } = taken[0];
        const collection = cy.collection(taken.map((item) => item.element));
        collection.removeClass(element.isNode() ? LIVE_MARKS : "link-up link-down");
        if (classes) collection.addClass(classes);
        if (element.isNode()) collection.data("live", state);
      }
    });
  }

  /** The canvas position under a point of the page (clientX, clientY). */
  modelPosition(clientX, clientY) {
    const box = this.container.getBoundingClientRect();
    const pan = this.cy.pan();
    const zoom = this.cy.zoom();
    return { x: (clientX - box.left - pan.x) / zoom, y: (clientY - box.top - pan.y) / zoom };
  }

  contains(clientX, clientY) {
    const box = this.container.getBoundingClientRect();
    return clientX >= box.left && clientX <= box.right && clientY >= box.top && clientY <= box.bottom;
  }

  /** The model position at the centre of the visible canvas. */
  centre() {
    const extent = this.cy.extent();
    return { x: (extent.x1 + extent.x2) / 2, y: (extent.y1 + extent.y2) / 2 };
  }

  fit() {
    this.cy.fit(undefined, 40);
    if (this.cy.zoom() > 1.5) {
      this.cy.zoom(1.5);
      this.cy.center();
    }
  }

  zoomBy(factor) {
    const box = this.container.getBoundingClientRect();
    this.cy.zoom({ level: this.cy.zoom() * factor,
      renderedPosition: { x: box.width / 2, y: box.height / 2 } });
  }

  /** The canvas as a PNG Blob (the whole drawing, not only the visible part). */
  png() {
    const background = getComputedStyle(this.container).getPropertyValue("--canvas").trim() || "#ffffff";
    return this.cy.png({ output: "blob", full: true, scale: 2, bg: background });
  }

  resize() {
    this.cy.resize();
  }
}

/**
 * Drag from the palette: a pointer pressed on a palette item, moved and released over the
 * canvas drops a node of that kind there; a plain click drops one in the free place nearest
 * to the canvas centre.
 */
export function bindPalette(palette, canvas, onDrop) {
  for (const item of palette.querySelectorAll("[data-kind]")) {
    item.addEventListener("pointerdown", (event) => {
      if (event.button !== 0) return;
      event.preventDefault();
      const kind = item.dataset.kind;
      const ghost = item.cloneNode(true);
      ghost.classList.add("palette-ghost");
      ghost.removeAttribute("data-testid");
      document.body.appendChild(ghost);
      const start = { x: event.clientX, y: event.clientY };
      let moved = false;
      const place = (move) => {
        ghost.style.left = `${move.clientX - 20}px`;
        ghost.style.top = `${move.clientY - 12}px`;
        if (Math.hypot(move.clientX - start.x, move.clientY - start.y) > 4) moved = true;
      };
      place(event);
      const finish = (up) => {
        window.removeEventListener("pointermove", place);
        window.removeEventListener("pointerup", finish);
        ghost.remove();
        if (!moved) onDrop(kind, canvas.freeSpot(canvas.centre()));
        else if (canvas.contains(up.clientX, up.clientY)) onDrop(kind, canvas.modelPosition(up.clientX, up.clientY));
      };
      window.addEventListener("pointermove", place);
      window.addEventListener("pointerup", finish);
    });
    item.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        onDrop(item.dataset.kind, canvas.freeSpot(canvas.centre()));
      }
    });
  }
}
