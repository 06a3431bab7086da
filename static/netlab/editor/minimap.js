// The minimap (data-testid="minimap"): the whole design small, drawn on a <canvas> from
// the nodes' positions, with the visible part as a rectangle; a click or a drag in it
// moves the view there.

const SIZE = { width: 180, height: 120 };
const PAD = 6;

export class Minimap {
  /** Draw `cy`'s nodes into a new canvas element appended to `parent`. */
  constructor(cy, parent) {
    this.cy = cy;
    const element = document.createElement("canvas");
    element.className = "minimap";
    element.dataset.testid = "minimap";
    element.title = "Overview: click or drag to move the view";
    const ratio = window.devicePixelRatio || 1;
    element.width = SIZE.width * ratio;
    element.height = SIZE.height * ratio;
    element.setAttribute("aria-label", "Overview of the whole design");
    element.setAttribute("role", "img");
    parent.appendChild(element);
    this.element = element;
    this.ratio = ratio;
    this.frame = null;
    this.scene = null; // model box -> minimap transform, of the last drawing
    cy.on("viewport resize", () => this.update());
    cy.on("add remove position", () => this.update({ nodes: true }));
    element.addEventListener("pointerdown", (event) => {
      if (event.button !== 0) return;
      event.preventDefault();
      element.setPointerCapture(event.pointerId);
      this.dragging = true;
      this.#centreAt(event);
      const move = (next) => this.#centreAt(next);
      const stop = () => {
        this.dragging = false;
        this.update();
        element.removeEventListener("pointermove", move);
        element.removeEventListener("pointerup", stop);
      };
      element.addEventListener("pointermove", move);
      element.addEventListener("pointerup", stop);
    });
    this.update({ nodes: true });
  }

  /** Draw again at the next frame (the nodes' box is measured again when `nodes`). */
  update({ nodes = false } = {}) {
    if (nodes) this.nodesBox = null;
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = null;
      this.draw();
    });
  }

  draw() {
    const cy = this.cy;
    const context = this.element.getContext("2d");
    const { width, height } = SIZE;
    context.setTransform(this.ratio, 0, 0, this.ratio, 0, 0);
    context.clearRect(0, 0, width, height);
    const nodes = cy.nodes();
    if (!this.nodesBox) this.nodesBox = nodes.nonempty() ? nodes.boundingBox({ includeLabels: false }) : null;
    const view = cy.extent();
    const box = this.nodesBox
      ? { x1: Math.min(this.nodesBox.x1, view.x1), y1: Math.min(this.nodesBox.y1, view.y1),
        x2: Math.max(this.nodesBox.x2, view.x2), y2: Math.max(this.nodesBox.y2, view.y2) }
      : view;
    // While the pointer drags the view, the picture holds still under it.
    if (!this.dragging) {
      const scale = Math.min((width - 2 * PAD) / (box.x2 - box.x1 || 1), (height - 2 * PAD) / (box.y2 - box.y1 || 1));
      this.scene = { scale,
        dx: PAD + ((width - 2 * PAD) - (box.x2 - box.x1) * scale) / 2 - box.x1 * scale,
        dy: PAD + ((height - 2 * PAD) - (box.y2 - box.y1) * scale) / 2 - box.y1 * scale };
    }
    const { scale, dx, dy } = this.scene;
    const style = getComputedStyle(this.element);
    const colours = {
      bridge: style.getPropertyValue("--bridge").trim() || "#ef8f00",
      host: style.getPropertyValue("--host").trim() || "#37474f",
      namespace: style.getPropertyValue("--namespace").trim() || "#4a7bd0",
    };
    const dot = Math.max(1.5, Math.min(4, 30 * scale));
    for (const kind of ["namespace", "bridge", "host"]) {
      context.fillStyle = colours[kind];
      context.beginPath();
      nodes.filter(`[kind = "${kind}"]`).forEach((node) => {
        const p = node.position();
        context.rect(p.x * scale + dx - dot / 2, p.y * scale + dy - dot / 2, dot, dot);
      });
      context.fill();
    }
    context.strokeStyle = style.getPropertyValue("--accent").trim() || "#1f6feb";
    context.lineWidth = 1.5;
    context.strokeRect(view.x1 * scale + dx, view.y1 * scale + dy,
      (view.x2 - view.x1) * scale, (view.y2 - view.y1) * scale);
    this.element.dataset.view = [view.x1, view.y1, view.x2, view.y2].map(Math.round).join(" ");
  }

  /** Centre the view on the model point under a pointer event. */
  #centreAt(event) {
    if (!this.scene) return;
    const rect = this.element.getBoundingClientRect();
    const { scale, dx, dy } = this.scene;
    const x = ((event.clientX - rect.left) * (SIZE.width / rect.width) - dx) / scale;
    const y = ((event.clientY - rect.top) * (SIZE.height / rect.height) - dy) / scale;
    const zoom = this.cy.zoom();
    this.cy.pan({ x: this.cy.width() / 2 - x * zoom, y: this.cy.height() / 2 - y * zoom });
  }
}
