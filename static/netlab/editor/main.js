// The design page's editor: the page's state (state.js) and the parts that show and edit
// it: canvas, property panel, problem list, toolbar, tabs, clipboard, files, the Document
// tab and the live lab. Every edit goes through `apply`, which records it in the history,
// redraws what changed and asks the server to check it.

import * as api from "./api.js";
import { Canvas, bindPalette } from "./canvas.js";
import { Clipboard } from "./clipboard.js";
import { DocumentTab } from "./document-tab.js";
import { bindFindNode } from "./find.js";
import { ImportDialog } from "./import-dialog.js";
import { h, parentPath } from "./dom.js";
import { LessonPanel } from "./lesson-panel.js";
import { LivePanel } from "./live.js";
import * as model from "./model.js";
import { ProblemList, problemsByElement } from "./problems.js";
import { PropertiesPanel } from "./properties.js";
import { readState } from "./state.js";
import { Tabs } from "./tabs.js";
import { bindToolbar } from "./toolbar.js";
import { FileMenu } from "./transfer.js";

const VALIDATE_DELAY_MS = 250;

const plural = (count, word) => `${count} ${word}${count === 1 ? "" : "s"}`;

class Editor {
  constructor(root) {
    this.root = root;
    this.state = readState(root);
    const state = this.state;
    this.validation = null;
    this.localProblems = [];
    this.find = (testid) => root.querySelector(`[data-testid="${testid}"]`);
    const say = (text, kind) => this.say(text, kind);
    const apply = (doc, description) => this.apply(doc, description);
    // A problem found in the page itself (a document it could not load, an id already
    // taken) is listed with the server's until the next edit or selection.
    const problem = (found) => {
      this.localProblems = found ? [found] : [];
      this.displayProblems();
    };

    this.canvas = new Canvas(this.find("canvas"), {
      onMove: (positions) => this.apply(model.moveNodes(state.doc, positions), "move"),
      onLink: (source, target) => this.link(source, target),
      onSelect: (selection) => {
        this.localProblems = [];
        this.panel.show(state.doc, selection);
        this.live?.selectionChanged(selection);
      },
    });
    // A reader who may not edit (a viewer, a public design) sees the design, runs nothing
    // and changes nothing: every edit goes through `apply`, which refuses them.
    if (state.readOnly) {
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
      problem,
      freshChanged: () => this.displayProblems(),
    });
    this.problemList = new ProblemList(this.find("problems"), this.find("problem-summary"),
      (target, path) => this.reveal(target, path));
    this.documentTab = new DocumentTab(this.find("document-form"), this.find("apply-document"), state,
      { apply, save: () => this.save(), say, problem });
    this.tabs = new Tabs(root, (name, { keepText = false }) => {
      if (name === "document" && !keepText) this.documentTab.fill();
    });
    this.clipboard = new Clipboard(state, this.canvas, { apply, say });
    this.importDialog = new ImportDialog(this.find("import-dialog"), state,
      { apply, say, fit: () => this.canvas.fit() });
    const report = (filename, notes) => this.importDialog.report(filename, notes);
    this.files = new FileMenu(this.find, state, this.canvas, { apply, say, problem, report });
    bindToolbar(root, {
      undo: () => this.undo(),
      redo: () => this.redo(),
      save: () => this.save(),
      copy: () => this.clipboard.copy(),
      paste: () => this.clipboard.paste(),
      selectAll: () => this.canvas.cy.elements().not(".holder").select(),
      remove: () => this.remove(),
      layout: () => this.layout(),
      fit: () => this.canvas.fit(),
      zoomIn: () => this.canvas.zoomBy(1.25),
      zoomOut: () => this.canvas.zoomBy(0.8),
      labels: () => this.find("labels").setAttribute("aria-pressed", String(this.canvas.toggleLabels())),
      export: () => this.files.toggleExportMenu(),
      exportJson: () => this.files.exportAs("json"),
      exportYaml: () => this.files.exportAs("yaml"),
      exportPng: () => this.files.exportAs("png"),
      import: () => this.files.choose(),
      pasteCommands: () => this.importDialog.paste(),
    });
    bindFindNode(this.find("find-node"), this.canvas, () => this.doc, say);
    // A document the server refused on the Document tab's form comes back in its text.
    if (root.dataset.formErrors === "true") this.tabs.open("document", { keepText: true });
    window.addEventListener("beforeunload", (event) => {
      if (!state.isDirty()) return;
      event.preventDefault();
      event.returnValue = "";
    });
    window.addEventListener("resize", () => this.canvas.resize());
    state.on("saved", (answer) => this.#addRevision(answer));
    // The header and the tab show the saved title: the one everyone else sees.
    this.savedTitle = state.doc.title || state.doc.name;
    state.on("saved", (answer) => this.#showSavedTitle(answer));

    this.canvas.render(state.doc);
    this.canvas.fit();
    this.panel.show(state.doc, this.canvas.selection());
    this.refresh();
    if (state.pendingLayout && !state.readOnly) {
      this.say("Placed the nodes that had no position: Save keeps this layout.");
    }
    this.validateSoon(0);
    if (state.draft) this.#revisionLabel();
    this.live = new LivePanel(root, state, {
      canvas: this.canvas,
      apply: (doc, description) => this.apply(doc, description),
      adoptSaved: (revision) => this.adoptSaved(revision),
      save: () => this.save(),
      say,
      openTab: (name) => this.tabs.open(name),
    });
    if (document.getElementById("lesson-steps")) {
      this.lesson = new LessonPanel(root, state, {
        apply: (doc, description) => this.apply(doc, description), save: () => this.save(), live: this.live, say });
    }
    root.dataset.readyMs = String(Math.round(performance.now()));
    root.dataset.ready = "true";
  }

  get doc() {
    return this.state.doc;
  }

  /** Record `doc` as an edit and show it everywhere; answers whether it was recorded. */
  apply(doc, description, mergeKey = null, { fromPanel = false } = {}) {
    if (this.state.readOnly) {
      this.say("Read-only: you may not change this design. Fork it to make your own copy.", "warning");
      return false;
    }
    if (!this.state.history.push(doc, description, mergeKey)) return false;
    this.localProblems = [];
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
    this.state.emit("document");
  }

  refresh() {
    const history = this.state.history;
    const dirty = history.isDirty();
    this.find("dirty").hidden = !dirty;
    document.title = `${dirty ? "• " : ""}${this.savedTitle || "design"} · netlab`;
    const undo = this.find("undo");
    undo.disabled = !history.canUndo();
    undo.title = history.canUndo() ? `Undo ${history.undoDescription()} (Ctrl+Z)` : "Nothing to undo";
    const redo = this.find("redo");
    redo.disabled = !history.canRedo();
    redo.title = history.canRedo() ? `Redo ${history.redoDescription()} (Ctrl+Y)` : "Nothing to redo";
    this.find("save").classList.toggle("pending", dirty || this.state.pendingLayout);
  }

  say(text, kind = "info") {
    const status = this.find("status");
    status.textContent = text;
    status.title = text; // the line is cut to the toolbar's one line: the whole text on hover
    status.dataset.kind = kind;
  }

  // Validation: the server's own messages, a moment after the last edit

  validateSoon(delay = VALIDATE_DELAY_MS) {
    clearTimeout(this.validateTimer);
    this.problemList.show(this.doc, this.visibleProblems(), { pending: true });
    this.validateTimer = setTimeout(() => this.validateNow(), delay);
  }

  /** Ask the server for the current document's problems and show them. */
  validateNow() {
    const doc = this.doc;
    if (this.state.validated === doc || this.validation?.doc === doc) return;
    this.validation?.controller.abort();
    const controller = new AbortController();
    this.validation = { doc, controller };
    api.validate(doc, { signal: controller.signal }, this.state.designId).then(({ problems, warnings }) => {
      if (doc === this.doc) this.showProblems(doc, problems, warnings);
    }, (error) => {
      if (error.name !== "AbortError") this.problemList.show(doc, this.state.problems, { error: error.message });
    }).finally(() => {
      if (this.validation?.doc === doc) this.validation = null;
    });
  }

  showProblems(doc, problems, warnings = []) {
    this.state.validated = doc;
    this.state.problems = problems;
    this.state.warnings = warnings;
    this.displayProblems();
  }

  /** The server's problems but those of rows just added (PropertiesPanel.isFresh), and the panel's own. */
  visibleProblems() {
    return [...this.localProblems, ...this.state.problems.filter((problem) => !this.panel.isFresh(problem.path))];
  }

  displayProblems() {
    const doc = this.state.validated || this.doc;
    const problems = this.visibleProblems();
    const warnings = this.state.warnings;
    this.problemList.show(doc, problems, { pending: this.state.validated !== this.doc, warnings });
    this.panel.showProblems(problems);
    this.canvas.markProblems(problemsByElement(doc, problems), problemsByElement(doc, warnings));
  }

  /** Select the element a problem is about and put the focus on its field. */
  reveal(target, path) {
    if (target.kind === "node") this.canvas.select({ nodes: [target.id] }, { reveal: true });
    else if (target.kind === "link") this.canvas.select({ links: [target.index] }, { reveal: true });
    else this.canvas.select({});
    this.tabs.open("properties");
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
    if (!this.apply(doc, `add ${kind} ${id}`)) return;
    this.canvas.select({ nodes: [id] });
    this.say(`Added ${kind} ${id}. Drag the dot above a node to another node to link them.`);
  }

  link(source, target) {
    const { doc, index } = model.addLink(this.doc, source, target);
    if (!this.apply(doc, `link ${source} and ${target}`)) return;
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

  /** Lay out every node (layout.js): an edit like any other, undone and saved as one. */
  layout() {
    const started = performance.now();
    const doc = model.moveNodes(this.doc, model.computePositions(this.doc));
    this.root.dataset.lastLayoutMs = String(Math.round(performance.now() - started));
    if (doc === this.doc) this.say("Already laid out: no node moved.");
    else if (this.apply(doc, "automatic layout")) this.say("Laid out every node (Undo puts them back).");
    this.canvas.fit();
  }

  undo() {
    const description = this.state.history.undo();
    if (description === null) return;
    this.show();
    this.say(`Undid ${description}.`);
  }

  redo() {
    const description = this.state.history.redo();
    if (description === null) return;
    this.show();
    this.say(`Redid ${description}.`);
  }

  // Saving: the PUT itself answers 422 with the problems of a document it refuses

  async save() {
    const state = this.state;
    if (state.saving) return;
    if (state.readOnly) {
      this.say("Read-only: you may not save this design. Fork it to make your own copy.", "warning");
      return;
    }
    const doc = this.doc;
    if (!state.isDirty() && !state.pendingLayout) {
      this.say("Nothing to save: no changes since the last save.");
      return;
    }
    state.saving = true;
    const started = performance.now();
    this.say("Saving…");
    try {
      // Half-done work is never lost: a design with problems is saved as a draft revision,
      // which the server refuses to deploy until a later revision is valid.
      const answer = await api.saveDesign(state.designId, doc, "", { draft: true });
      state.history.markSaved(doc);
      state.pendingLayout = false;
      state.revision = answer.revision;
      state.draft = answer.draft === true;
      this.refresh();
      state.emit("saved", answer);
      state.emit("document");
      this.root.dataset.lastSaveMs = String(Math.round(performance.now() - started));
      this.root.dataset.draft = String(state.draft);
      if (state.draft) {
        this.showProblems(doc, answer.problems);
        this.say(`Saved revision ${answer.revision} as a draft: the design has ${plural(answer.problems.length, "problem")}, `
          + "so it cannot be deployed until they are fixed (see the list).", "warning");
      } else {
        this.say(`Saved revision ${answer.revision}.`, "ok");
      }
    } catch (error) {
      if (error.status === 422 && error.problems.length) {
        this.panel.forgetFresh();
        this.showProblems(doc, error.problems);
        this.say(`Not saved: the design has ${plural(error.problems.length, "problem")}. Fix them first (see the list).`, "error");
        this.tabs.open("properties");
      } else {
        this.say(`Not saved: ${error.message}.`, "error");
      }
    } finally {
      state.saving = false;
    }
  }

  /** A revision saved elsewhere (a console line on this lab): shown as the saved design,
   * undoable, unless there are unsaved edits, which are kept. */
  async adoptSaved(revision) {
    if (this.state.isDirty()) {
      this.say(`The console saved revision ${revision}; your unsaved edits are kept (reload to see it).`, "warning");
      return;
    }
    const answer = await api.readDesign(this.state.designId);
    const doc = model.withPositions(answer.document);
    if (!this.state.history.push(doc, `revision ${answer.revision} (console)`)) return;
    this.state.history.markSaved(doc);
    this.state.revision = answer.revision;
    this.show();
    this.state.emit("saved", answer);
  }

  #showSavedTitle(answer) {
    this.savedTitle = answer.title || answer.name;
    const heading = this.find("design-title");
    if (heading) {
      heading.textContent = this.savedTitle;
      heading.title = `${answer.owner}/${answer.name}`;
    }
    this.refresh();
  }

  #addRevision(answer) {
    const list = this.find("revisions");
    const url = `/designs/${this.state.designId}/revisions/${answer.revision}/`;
    const draft = answer.draft === true;
    list.prepend(h("li", draft ? { "data-draft": "true" } : {}, h("a", { href: url }, `r${answer.revision}`),
      ...(draft ? [" ", h("span", { className: "draft-mark", "data-testid": "revision-draft",
        title: "saved with problems: not deployable" }, "draft")] : []),
      " just now by you"));
    this.#revisionLabel();
  }

  /** The toolbar's "revision N", saying "(draft)" for a draft. */
  #revisionLabel() {
    const label = this.find("revision-number");
    if (label) label.textContent = `revision ${this.state.revision}${this.state.draft ? " (draft)" : ""}`;
  }
}

const editor = new Editor(document.getElementById("editor"));

// A read-only hook for the browser tests and the editor's benchmark (tests/browser), which
// read the document, the canvas's positions and the live state through it. The page's own
// modules never use it: they receive the state.
window.netlabEditor = Object.freeze({
  get doc() { return editor.state.doc; },
  get validated() { return editor.state.validated; },
  get history() { return editor.state.history; },
  get saving() { return editor.state.saving; },
  canvas: editor.canvas,
  live: editor.live,
});
