// Capture from the page: the packets on an interface of the running lab, one line each in
// tcpdump's words (the worker decodes them), a packet's layers on a click, the capture
// saved as pcap from the frames' bytes it carried, and each packet drawn as a dot moving
// along its link on the canvas, coloured by protocol.

import { h } from "./dom.js";
import { interfacesIn, namespaceOf } from "./readers.js";
import { linkKey } from "../graph.js";

export const SHOWN_PACKETS = 500; // the list shows the latest ones (a flood is thousands)
const DOTS_EVERY_MS = 50; // at most 20 dots a second: the canvas stays fluid
const DOT_MS = 450;
const COLOURS = { arp: "#d97706", icmp: "#2563eb", icmp6: "#7c3aed", tcp: "#16a34a", udp: "#0891b2" };

/** The interfaces a node's namespace has in `doc`: its link ends, the bridges it holds
 * and their ports (netlab.core.targets.interfaces_of), loopback first; none for a bridge. */
export function interfacesOf(doc, nodeId) {
  if (namespaceOf(doc, nodeId) !== nodeId) return [];
  return ["lo", ...interfacesIn(doc, nodeId)];
}

/** The link an interface is an end of, and which end: {index, end} or null. */
export function linkOf(doc, nodeId, name) {
  const links = doc.links || [];
  for (let index = 0; index < links.length; index += 1) {
    const end = (links[index].endpoints || []).findIndex((item) => item.node === nodeId && item.interface === name);
    if (end >= 0) return { index, end };
  }
  return null;
}

/** A pcap file (Ethernet) of packets {time, length, data (base64)}, as bytes. */
export function pcapOf(packets) {
  const frames = packets.map((packet) => Uint8Array.from(atob(packet.data || ""), (char) => char.charCodeAt(0)));
  const size = 24 + frames.reduce((total, frame) => total + 16 + frame.length, 0);
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, 0xa1b2c3d4, true);
  view.setUint16(4, 2, true);
  view.setUint16(6, 4, true);
  view.setUint32(16, 262144, true); // snap length
  view.setUint32(20, 1, true); // Ethernet
  let offset = 24;
  packets.forEach((packet, index) => {
    const frame = frames[index];
    const seconds = Math.floor(packet.time);
    view.setUint32(offset, seconds, true);
    view.setUint32(offset + 4, Math.round((packet.time - seconds) * 1e6), true);
    view.setUint32(offset + 8, frame.length, true);
    view.setUint32(offset + 12, packet.length, true);
    bytes.set(frame, offset + 16);
    offset += 16 + frame.length;
  });
  return bytes;
}

export class CapturePanel {
  /**
   * @param find the page's lookup by data-testid
   * @param state the page's EditorState
   * @param panel {send(request): boolean, canvas, say(text, kind)}
   */
  constructor(find, state, panel) {
    this.find = find;
    this.state = state;
    this.panel = panel;
    this.capture = null; // {id, node, interface}
    this.packets = [];
    this.lastDot = 0;
    this.dots = []; // {from, to, started, colour}: the dots moving now
    this.find("capture").addEventListener("submit", (event) => {
      event.preventDefault();
      this.start();
    });
    this.find("capture-node").addEventListener("change", () => this.#interfaces());
    this.find("capture-stop").addEventListener("click", () => this.stop());
    this.find("capture-clear").addEventListener("click", () => this.clear());
    this.find("capture-download").addEventListener("click", () => this.download());
  }

  /** The node choices changed (the document did). */
  choices(nodes) {
    const select = this.find("capture-node");
    const value = select.value;
    select.replaceChildren(...nodes.map((id) => h("option", { value: id }, id)));
    if (nodes.includes(value)) select.value = value;
    this.#interfaces();
  }

  /** A link was selected on the canvas: offer a capture on either of its ends (an end on a
   * bridge is captured in the namespace that holds the bridge). */
  offerLink(index) {
    const link = (this.state.doc.links || [])[index];
    const offers = this.find("capture-offers");
    if (!link) {
      offers.replaceChildren();
      return;
    }
    offers.replaceChildren("Capture on ", ...(link.endpoints || []).flatMap((end, number) => {
      const where = namespaceOf(this.state.doc, end.node);
      return [number ? " or " : "", h("button", { type: "button", className: "link", "data-testid": "capture-offer",
        onclick: () => this.#choose(where, end.interface) }, `${end.node}'s ${end.interface}`)];
    }));
  }

  #choose(node, name) {
    this.find("capture-node").value = node;
    this.#interfaces();
    this.find("capture-interface").value = name;
    this.start();
  }

  #interfaces() {
    const select = this.find("capture-interface");
    const value = select.value;
    const names = interfacesOf(this.state.doc, this.find("capture-node").value).filter((name) => name !== "lo");
    select.replaceChildren(...names.map((name) => h("option", { value: name }, name)));
    if (names.includes(value)) select.value = value;
  }

  start() {
    const node = this.find("capture-node").value;
    const name = this.find("capture-interface").value;
    const filter = this.find("capture-filter").value.trim();
    const seconds = Number(this.find("capture-seconds").value) || 30;
    if (!node || !name) return;
    const request = { action: "capture", node, interface: name, seconds, ...(filter ? { filter } : {}) };
    if (this.panel.send(request)) this.#summary(`Starting a capture on ${node}'s ${name}…`);
  }

  stop() {
    if (this.capture) this.panel.send({ action: "capture.stop", capture: this.capture.id });
  }

  clear() {
    this.packets = [];
    this.find("capture-packets").replaceChildren();
    this.find("capture-layers").replaceChildren();
  }

  download() {
    const blob = new Blob([pcapOf(this.packets)], { type: "application/vnd.tcpdump.pcap" });
    const link = h("a", { href: URL.createObjectURL(blob), download: `${this.state.doc.name || "capture"}.pcap` });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  }

  /** A capture event (capture.started, packet, capture.done) or the capture's error. */
  onEvent(event) {
    if (event.type === "capture.started") {
      this.capture = { id: event.capture, node: event.node, interface: event.interface };
      this.#summary(`Capturing on ${event.node}'s ${event.interface} for ${event.seconds} s…`);
    } else if (event.type === "packet") {
      this.packets.push(event);
      const list = this.find("capture-packets");
      list.append(this.#line(event));
      while (list.childElementCount > SHOWN_PACKETS) list.firstElementChild.remove();
      this.#dot(event);
    } else if (event.type === "capture.done") {
      const hidden = event.not_shown ? `, ${event.not_shown} not shown (over the rate)` : "";
      this.#summary(`${event.packets} packets seen${hidden}.`);
      this.capture = null;
    } else if (event.type === "error") {
      this.#summary(event.message, "error");
      this.capture = null;
    }
    this.buttons(true);
  }

  buttons(running) {
    const capturing = Boolean(this.capture);
    this.find("capture-start").disabled = !running || capturing;
    this.find("capture-stop").disabled = !capturing;
    this.find("capture-download").disabled = !this.packets.length;
  }

  #line(packet) {
    const first = this.packets[0];
    const at = (packet.time - first.time).toFixed(6);
    const arrow = packet.direction === "in" ? "←" : "→";
    return h("li", { className: `packet ${packet.protocol}`, "data-testid": "capture-packet",
      onclick: () => this.#layers(packet) }, `${at} ${arrow} ${packet.summary} (${packet.length} bytes)`);
  }

  #layers(packet) {
    this.find("capture-layers").replaceChildren(...packet.layers.map((layer) => h("div", { className: "layer" },
      h("strong", {}, layer.layer), " ",
      Object.entries(layer).filter(([key]) => key !== "layer").map(([key, value]) => `${key} ${value}`).join(", "))));
  }

  #summary(text, kind = "info") {
    const element = this.find("capture-summary");
    element.textContent = text;
    element.dataset.kind = kind;
  }

  /** A dot along the packet's link, in its direction, coloured by its protocol: drawn on a
   * canvas over the graph (the graph itself is never touched), at most one per
   * DOTS_EVERY_MS. */
  #dot(packet) {
    const now = performance.now();
    if (now - this.lastDot < DOTS_EVERY_MS || !this.capture) return;
    const found = linkOf(this.state.doc, this.capture.node, packet.interface);
    if (!found) return;
    const edge = this.panel.canvas.cy.getElementById(linkKey(found.index));
    if (!edge || edge.empty()) return;
    this.lastDot = now;
    // Our end of the link is the edge's source when it is the link's first end.
    const ours = found.end === 0 ? edge.source() : edge.target();
    const theirs = found.end === 0 ? edge.target() : edge.source();
    const [from, to] = packet.direction === "out" ? [ours, theirs] : [theirs, ours];
    this.dots.push({ from, to, started: now, colour: COLOURS[packet.protocol] || "#6b7280" });
    if (this.dots.length === 1) requestAnimationFrame(() => this.#drawDots());
  }

  #drawDots() {
    const overlay = this.#overlay();
    const context = overlay.getContext("2d");
    const box = overlay.parentElement.getBoundingClientRect();
    if (overlay.width !== box.width || overlay.height !== box.height) {
      overlay.width = box.width;
      overlay.height = box.height;
    }
    context.clearRect(0, 0, overlay.width, overlay.height);
    const now = performance.now();
    this.dots = this.dots.filter((dot) => now - dot.started < DOT_MS);
    for (const dot of this.dots) {
      const share = (now - dot.started) / DOT_MS;
      const a = dot.from.renderedPosition();
      const b = dot.to.renderedPosition();
      context.fillStyle = dot.colour;
      context.beginPath();
      context.arc(a.x + (b.x - a.x) * share, a.y + (b.y - a.y) * share, 5, 0, 2 * Math.PI);
      context.fill();
    }
    if (this.dots.length) requestAnimationFrame(() => this.#drawDots());
  }

  #overlay() {
    if (!this.overlayCanvas) {
      const container = this.panel.canvas.cy.container();
      this.overlayCanvas = h("canvas", { className: "packet-dots", "data-testid": "packet-dots", "aria-hidden": "true" });
      container.append(this.overlayCanvas);
    }
    return this.overlayCanvas;
  }
}
