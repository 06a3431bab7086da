// The design page's state, one object that every part of the page receives: which design,
// whether the user may change it, its saved revision, the document with its undo history
// and what the server last said about it. Parts that follow a change subscribe to it
// (`on("document", ...)`) instead of being called by name.

import { History } from "./history.js";
import * as model from "./model.js";

export class EditorState {
  /**
   * @param designId the design's database id
   * @param revision the number of its saved revision
   * @param draft whether that revision is a draft (saved with problems: not deployable)
   * @param canEdit whether the user may change, save and deploy it
   * @param doc the document to start from
   */
  constructor({ designId, revision, draft = false, canEdit, doc }) {
    this.designId = designId;
    this.revision = revision;
    this.draft = draft;
    this.canEdit = canEdit;
    this.history = new History(doc);
    /** The server's problems of `validated` (the document last checked). */
    this.problems = [];
    /** ... and its warnings (severity "warning": MTUs, what the site's kernel lacks). */
    this.warnings = [];
    this.validated = null;
    this.saving = false;
    /** Whether `doc` has positions computed on opening that the saved revision lacks. */
    this.pendingLayout = false;
    this.listeners = new Map();
  }

  /** The document on the canvas (the history's present). */
  get doc() {
    return this.history.present;
  }

  get readOnly() {
    return !this.canEdit;
  }

  isDirty() {
    return this.history.isDirty();
  }

  /** Call `listener(...details)` on each `emit(name)`: "document" (the document or its saved
   * state changed), "saved" (a new revision, with the API's answer). */
  on(name, listener) {
    if (!this.listeners.has(name)) this.listeners.set(name, []);
    this.listeners.get(name).push(listener);
  }

  emit(name, ...details) {
    for (const listener of this.listeners.get(name) || []) listener(...details);
  }
}

/**
 * The state of the page rendered by templates/editor/design.html: the editor element's
 * data attributes and the document embedded with json_script. Nodes without a position
 * are laid out here: opening a design never saves it nor marks it unsaved (the layout is
 * the same at every opening), but the next save keeps the positions, and Save saves them
 * even when nothing else changed (`pendingLayout`).
 */
export function readState(root) {
  const stored = JSON.parse(document.getElementById("design-document").textContent);
  const doc = model.withPositions(stored);
  const state = new EditorState({
    designId: Number(root.dataset.designId),
    revision: Number(root.dataset.revision),
    draft: root.dataset.draft === "true",
    canEdit: root.dataset.canEdit === "true",
    doc,
  });
  state.pendingLayout = doc !== stored;
  return state;
}
