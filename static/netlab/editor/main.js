// The design page's editor: one document, its undo history, and the parts that show and
// edit it (canvas, property panel, problem list, toolbar). Every edit goes through
// `apply`, which records it, redraws what changed and asks the server to check it.

import * as api from "./api.js";
import { Canvas, bindPalette } from "./canvas.js";
import { h, parentPath } from "./dom.js";
import { History } from "./history.js";
import { LivePanel } from "./live.js";
import * as model from "./model.js";
import { ProblemList, problemsByElement } from "./problems.js";
import { PropertiesPanel } from "./properties.js";
import { bindToolbar } from "./toolbar.js";
import * as transfer from "./transfer.js";

const VALIDATE_DELAY_MS = 250;

class Editor {
  constructor(root) {
    this.root = root;
    this.designId = Number(root.dataset.designId);
    this.revision = Number(root.dataset.revision);
    // A reader who may not edit (a viewer, a public design) sees the design, runs nothing
    // and changes nothing: every edit goes through `apply`, which refuses them.
    this.readOnly = root.dataset.canEdit !== "true";
    const stored = JSON.parse(document.getElementById("design-document").textContent);
    // Nodes without a position are laid out here, for the eye only: opening a design never
    // saves it, and the positions are kept when the user next saves.
    this.history = new History(model.withPositions(stored));
    this.problems = [];
    this.validated = null;
    this.validation = null;
    this.clipboard = null;
    this.pastes = 0;
    this.find = (testid) => root.querySelector(`[data-testid="${testid}"]`);

    this.canvas = new Canvas(this.find("canvas"), {
      onMove: (positions) => this.apply(model.moveNodes(this.doc, positions), "move"),
      onLink: (source, target) => this.link(source, target),
      onSelect: (selection) => {
        this.panel.show(this.doc, selection);
        this.live?.selectionChanged(selection);
      },
    });
    if (this.readOnly) {
      this.canvas.cy.autoungrabify(true);
      this.canvas.edgeHandles.disable();
    }
    bindPalette(root.querySelector(".palette"), this.canvas, (kind, position) => this.addNode(kind, position));
    this.panel = new PropertiesPanel(this.find("properties"), {
      // Typing (an edit with a merge key) keeps the panel as it is; adding or removing a row redraws it.
      edit: (doc, description, mergeKey) =>
        this.apply(doc, description, mergeKey, { fromPanel: Boolean(mergeKey) }),
      rename: (oldId, newId) => this.rename(oldId, newId),
      remove: () => this.remove(),
    });
    this.problemList = new ProblemList(this.find("problems"), this.find("problem-summary"),
      (target, path) => this.reveal(target, path));
    bindToolbar(root, {
      undo: () => this.undo(),
      redo: () => this.redo(),
      save: () => this.save(),
      copy: () => this.copy(),
      paste: () => this.paste(),
      selectAll: () => this.canvas.cy.elements().not(".holder").select(),
      remove: () => this.remove(),
      layout: () => this.layout(),
      fit: () => this.canvas.fit(),
      zoomIn: () => this.canvas.zoomBy(1.25),
      zoomOut: () => this.canvas.zoomBy(0.8),
      export: () => this.find("export-menu").toggleAttribute("hidden"),
      exportJson: () => this.exportAs("json"),
      exportYaml: () => this.exportAs("yaml"),
      exportPng: () => this.exportAs("png"),
      import: () => this.find("import-file").click(),
    });
    this.#bindFiles();
    this.#bindDocumentTab();
    this.#bindTabs();
    window.addEventListener("beforeunload", (event) => {
      if (!this.history.isDirty()) return;
      event.preventDefault();
      event.returnValue = "";
    });
    window.addEventListener("resize", () => this.canvas.resize());

    this.canvas.render(this.doc);
    this.canvas.fit();
    this.panel.show(this.doc, this.canvas.selection());
    this.refresh();
    this.validateSoon(0);
    const editor = this;
    this.live = new LivePanel(root, {
      get doc() { return editor.doc; },
      canvas: this.canvas,
      isDirty: () => this.history.isDirty(),
      save: () => this.save(),
      say: (text, kind) => this.say(text, kind),
      openTab: (name) => this.#openTab(name),
    });
    root.dataset.readyMs = String(Math.round(performance.now()));
    root.dataset.ready = "true";
  }

  get doc() {
    return this.history.present;
  }

  /** Record `doc` as an edit and show it everywhere. */
  apply(doc, description, mergeKey = null, { fromPanel = false } = {}) {
    if (this.readOnly) {
      this.say("Read-only: you may not change this design. Fork it to make your own copy.", "warning");
      return false;
    }
    if (!this.history.push(doc, description, mergeKey)) return false;
    this.show({ fromPanel });
    return true;
  }

  show({ fromPanel = false } = {}) {
    const doc = this.doc;
    this.canvas.render(doc);
    if (fromPanel) this.panel.acknowledge(doc);
    else this.panel.show(doc, this.canvas.selection());
    this.refresh();
    this.validateSoon();
    this.live?.documentChanged();
  }

  refresh() {
    const dirty = this.history.isDirty();
    this.find("dirty").hidden = !dirty;
    document.title = `${dirty ? "• " : ""}${this.doc.name || "design"} · netlab`;
    const undo = this.find("undo");
    undo.disabled = !this.history.canUndo();
    undo.title = this.history.canUndo() ? `Undo ${this.history.undoDescription()} (Ctrl+Z)` : "Nothing to undo";
    const redo = this.find("redo");
    redo.disabled = !this.history.canRedo();
    redo.title = this.history.canRedo() ? `Redo ${this.history.redoDescription()} (Ctrl+Y)` : "Nothing to redo";
    this.find("save").classList.toggle("pending", dirty);
  }

  say(text, kind = "info") {
    const status = this.find("status");
    status.textContent = text;
    status.dataset.kind = kind;
  }

  // Validation: the server's own messages, a moment after the last edit

  validateSoon(delay = VALIDATE_DELAY_MS) {
    clearTimeout(this.validateTimer);
    this.problemList.show(this.doc, this.problems, { pending: true });
    this.validateTimer = setTimeout(() => this.validateNow().catch(() => {}), delay);
  }

  /** Ask the server for the current document's problems; resolves to them. */
  async validateNow() {
    clearTimeout(this.validateTimer);
    const doc = this.doc;
    if (this.validated === doc) return this.problems;
    if (this.validation && this.validation.doc === doc) return this.validation.promise;
    if (this.validation) this.validation.controller.abort();
    const controller = new AbortController();
    const promise = api.validate(doc, { signal: controller.signal }).then((problems) => {
      if (this.validation && this.validation.doc === doc) this.validation = null;
      if (doc === this.doc) this.showProblems(doc, problems);
      return problems;
    }, (error) => {
      if (this.validation && this.validation.doc === doc) this.validation = null;
      if (error.name !== "AbortError") this.problemList.show(doc, this.problems, { error: error.message });
      throw error;
    });
    this.validation = { doc, controller, promise };
    return promise;
  }

  showProblems(doc, problems) {
    this.validated = doc;
    this.problems = problems;
    this.problemList.show(doc, problems);
    this.panel.showProblems(problems);
    this.canvas.markProblems(problemsByElement(doc, problems));
  }

  /** Select the element a problem is about and put the focus on its field. */
  reveal(target, path) {
    if (target.kind === "node") this.canvas.select({ nodes: [target.id] }, { reveal: true });
    else if (target.kind === "link") this.canvas.select({ links: [target.index] }, { reveal: true });
    else this.canvas.select({});
    this.#openTab("properties");
    let field = null;
    for (let at = path; at && !field; at = parentPath(at)) {
      field = this.panel.find(at);
    }
    if (field) {
      const input = field.matches("input, select, textarea") ? field : field.querySelector("input, select, textarea");
      (input || field).focus();
    }
  }

  // Edits

  addNode(kind, position) {
    const { doc, id } = model.addNode(this.doc, kind, position);
    this.apply(doc, `add ${kind} ${id}`);
    this.canvas.select({ nodes: [id] });
    this.say(`Added ${kind} ${id}. Drag the dot above a node to another node to link them.`);
  }

  link(source, target) {
    const { doc, index } = model.addLink(this.doc, source, target);
    this.apply(doc, `link ${source} and ${target}`);
    this.canvas.select({ links: [index] });
    const [a, b] = doc.links[index].endpoints;
    this.say(`Linked ${a.node} (${a.interface}) and ${b.node} (${b.interface}).`);
  }

  rename(oldId, newId) {
    const selected = this.canvas.selection();
    this.apply(model.updateNode(this.doc, oldId, { id: newId }), `rename ${oldId} to ${newId}`);
    if (selected.nodes.includes(oldId)) this.canvas.select({ nodes: [newId] });
  }

  remove() {
    const { nodes, links } = this.canvas.selection();
    if (!nodes.length && !links.length) return;
    const { doc, kept } = model.removeElements(this.doc, nodes, links);
    const changed = model.nodesOf(doc).length !== model.nodesOf(this.doc).length
      || model.linksOf(doc).length !== model.linksOf(this.doc).length;
    if (changed) {
      this.canvas.select({});
      this.apply(doc, `delete ${nodes.length + links.length} element(s)`);
    }
    if (kept.length) this.say("The host is always present: it was not deleted.", "warning");
  }

  copy() {
    const { nodes } = this.canvas.selection();
    const clipboard = model.copyElements(this.doc, nodes);
    if (!clipboard.nodes.length) {
      this.say("Select the nodes to copy (the host cannot be copied).", "warning");
      return;
    }
    this.clipboard = clipboard;
    this.pastes = 0;
    this.say(`Copied ${clipboard.nodes.length} node(s) and ${clipboard.links.length} link(s).`);
  }

  paste() {
    if (!this.clipboard) return;
    this.pastes += 1;
    const shift = 40 * this.pastes;
    const { doc, ids } = model.pasteElements(this.doc, this.clipboard, { x: shift, y: shift });
    this.apply(doc, `paste ${ids.length} node(s)`);
    this.canvas.select({ nodes: ids });
    this.say(`Pasted ${ids.join(", ")} (addresses are not copied: they must stay unique).`);
  }

  layout() {
    this.apply(model.moveNodes(this.doc, model.layeredPositions(this.doc)), "automatic layout");
    this.canvas.fit();
  }

  undo() {
    const description = this.history.undo();
    if (description === null) return;
    this.show();
    this.say(`Undid ${description}.`);
  }

  redo() {
    const description = this.history.redo();
    if (description === null) return;
    this.show();
    this.say(`Redid ${description}.`);
  }

  // Saving

  async save() {
    if (this.saving) return;
    if (this.readOnly) {
      this.say("Read-only: you may not save this design. Fork it to make your own copy.", "warning");
      return;
    }
    const doc = this.doc;
    if (!this.history.isDirty()) {
      this.say("Nothing to save: no changes since the last save.");
      return;
    }
    this.saving = true;
    const started = performance.now();
    this.say("Saving…");
    try {
      const problems = await this.validateNow();
      if (problems.length) {
        this.say(`Not saved: the design has ${problems.length} problem${problems.length > 1 ? "s" : ""}. Fix them first (see the list).`, "error");
        this.#openTab("properties");
        return;
      }
      const answer = await api.saveDesign(this.designId, doc);
      this.history.markSaved(doc);
      this.revision = answer.revision;
      this.root.dataset.revision = String(answer.revision);
      this.#addRevision(answer);
      this.refresh();
      this.live?.documentChanged();
      const elapsed = Math.round(performance.now() - started);
      this.root.dataset.lastSaveMs = String(elapsed);
      this.say(`Saved revision ${answer.revision}.`, "ok");
    } catch (error) {
      if (error.problems && error.problems.length) this.showProblems(doc, error.problems);
      this.say(`Not saved: ${error.message}.`, "error");
    } finally {
      this.saving = false;
    }
  }

  #addRevision(answer) {
    const list = this.find("revisions");
    const url = `/designs/${this.designId}/revisions/${answer.revision}/`;
    list.prepend(h("li", {}, h("a", { href: url }, `r${answer.revision}`), " just now by you"));
    const label = this.find("revision-number");
    if (label) label.textContent = `revision ${answer.revision}`;
  }

  // Import and export

  async importFile(file) {
    let data;
    try {
      data = transfer.parseDocument(file.name, await file.text());
    } catch (error) {
      this.say(`Not imported: ${error.message}`, "error");
      return;
    }
    this.load(data, `import ${file.name}`);
  }

  /** Put a document read from a file or typed as YAML on the canvas, as an unsaved edit. */
  load(data, description) {
    const problem = model.shapeProblem(data);
    if (problem) {
      this.say(`Not loaded: ${problem}.`, "error");
      return false;
    }
    // The design keeps its name: the document replaces its content, not another design.
    const doc = model.withPositions({ ...data, name: this.doc.name });
    this.canvas.select({});
    this.apply(doc, description);
    this.canvas.fit();
    this.say(`Loaded ${description.replace(/^import /, "")} as unsaved changes; save to keep it.`);
    return true;
  }

  exportAs(format) {
    this.find("export-menu").hidden = true;
    const name = this.doc.name || "design";
    if (format === "json") transfer.download(new Blob([transfer.toJson(this.doc)], { type: "application/json" }), `${name}.json`);
    else if (format === "yaml") transfer.download(new Blob([transfer.toYaml(this.doc)], { type: "application/yaml" }), `${name}.yaml`);
    else if (format === "png") transfer.download(this.canvas.png(), `${name}.png`);
  }

  #bindFiles() {
    const input = this.find("import-file");
    input.addEventListener("change", () => {
      if (input.files[0]) this.importFile(input.files[0]);
      input.value = "";
    });
    transfer.bindFileDrop(document.body, (file) => this.importFile(file));
  }

  #bindDocumentTab() {
    const form = this.find("document-form");
    const area = form.querySelector("textarea");
    this.documentText = area;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (this.applyDocumentText()) this.save();
    });
    this.find("apply-document").addEventListener("click", () => this.applyDocumentText());
  }

  applyDocumentText() {
    let data;
    try {
      data = transfer.fromYaml(this.documentText.value);
    } catch (error) {
      this.say(`Not applied: the text is not valid YAML: ${error.message.split("\n")[0]}`, "error");
      return false;
    }
    const problem = model.shapeProblem(data);
    if (problem) {
      this.say(`Not applied: ${problem}.`, "error");
      return false;
    }
    this.apply(model.withPositions(data), "edit the document");
    this.say("Applied the document to the canvas.");
    return true;
  }

  #bindTabs() {
    for (const tab of this.root.querySelectorAll("[role=tab]")) {
      tab.addEventListener("click", () => this.#openTab(tab.dataset.tab));
    }
    if (this.root.dataset.formErrors === "true") this.#openTab("document", { keepText: true });
  }

  #openTab(name, { keepText = false } = {}) {
    for (const tab of this.root.querySelectorAll("[role=tab]")) {
      const active = tab.dataset.tab === name;
      tab.setAttribute("aria-selected", String(active));
      this.root.querySelector(`#tab-${tab.dataset.tab}`).hidden = !active;
    }
    if (name === "document" && !keepText) this.documentText.value = transfer.toYaml(this.doc);
  }
}

window.netlabEditor = new Editor(document.getElementById("editor"));
