// Undo and redo over whole documents. Documents are immutable and share their unchanged
// parts, so a history entry costs one array of references, whatever the edit was
// (a move, a typed address, an import): every edit is undoable the same way.

export const HISTORY_LIMIT = 500;

export class History {
  /** A history whose present is `doc`; `saved` is the document last saved. */
  constructor(doc, limit = HISTORY_LIMIT) {
    this.past = [];
    this.present = doc;
    this.future = [];
    this.saved = doc;
    this.limit = limit;
  }

  /**
   * Make `doc` the present, after `description` (shown in the undo button's title).
   * An edit with the same `mergeKey` as the previous one replaces it (typing a word is one
   * edit, not one per key). Returns false when `doc` is the present already.
   */
  push(doc, description = "edit", mergeKey = null) {
    if (doc === this.present) return false;
    const last = this.past[this.past.length - 1];
    if (mergeKey && last && last.mergeKey === mergeKey && this.future.length === 0 && this.present !== this.saved) {
      this.present = doc;
      return true;
    }
    this.past.push({ doc: this.present, description, mergeKey });
    if (this.past.length > this.limit) this.past.shift();
    this.present = doc;
    this.future = [];
    return true;
  }

  canUndo() {
    return this.past.length > 0;
  }

  canRedo() {
    return this.future.length > 0;
  }

  /** Step back; returns the description of the undone edit, or null. */
  undo() {
    const entry = this.past.pop();
    if (!entry) return null;
    this.future.push({ doc: this.present, description: entry.description });
    this.present = entry.doc;
    return entry.description;
  }

  /** Step forward again; returns the description of the redone edit, or null. */
  redo() {
    const entry = this.future.pop();
    if (!entry) return null;
    this.past.push({ doc: this.present, description: entry.description, mergeKey: null });
    this.present = entry.doc;
    return entry.description;
  }

  undoDescription() {
    return this.canUndo() ? this.past[this.past.length - 1].description : null;
  }

  redoDescription() {
    return this.canRedo() ? this.future[this.future.length - 1].description : null;
  }

  /** Mark the present as saved (`doc` replaces it when the server answered another shape). */
  markSaved(doc = this.present) {
    if (doc !== this.present) this.present = doc;
    this.saved = doc;
  }

  isDirty() {
    return this.present !== this.saved;
  }
}
