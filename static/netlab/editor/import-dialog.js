// Paste commands, and the report of an import: a tutorial's commands replayed onto the
// design by the server (POST /api/import, dry run, onto the canvas's document), and
// the notes of what a file or a paste left out, each with its line.

import { h } from "./dom.js";
import * as api from "./api.js";
import * as model from "./model.js";

/** The notes as list items (as text: a note quotes the file, which anyone may have written). */
export function noteItems(notes) {
  return notes.map((note) => h("li", { className: note.imported ? "adjusted" : "left-out" }, note.message));
}

export class ImportDialog {
  /**
   * @param dialog the <dialog> (templates/editor/design/import_dialog.html)
   * @param state the page's EditorState
   * @param actions {apply(doc, description): boolean, say(text, kind), fit()}
   */
  constructor(dialog, state, actions) {
    this.dialog = dialog;
    this.state = state;
    this.actions = actions;
    this.find = (testid) => dialog.querySelector(`[data-testid="${testid}"]`);
    this.find("import-dialog-close").addEventListener("click", () => dialog.close());
    this.find("paste-replay").addEventListener("click", () => this.replay());
  }

  /** Open for pasting commands. */
  paste() {
    this.#show("Paste commands", true);
    this.find("paste-text").focus();
  }

  /** Show what importing `filename` left out (nothing to show: stays closed). */
  report(filename, notes) {
    if (!notes.length) return;
    this.#show(`Imported ${filename}`, false);
    this.#notes(notes, `${notes.filter((note) => !note.imported).length} items not imported; ` +
      `${notes.filter((note) => note.imported).length} completed, as said`);
  }

  async replay() {
    const text = this.find("paste-text").value;
    if (!text.trim()) return;
    const button = this.find("paste-replay");
    button.disabled = true;
    try {
      const answer = await api.importText({ text, filename: "pasted.sh", dry_run: true, onto: this.state.doc });
      if (this.actions.apply(model.withPositions(answer.document), "paste commands")) {
        this.actions.fit();
        this.actions.say("Replayed the pasted commands as unsaved changes; save to keep them.");
      }
      this.#notes(answer.notes, answer.notes.length ? "Replayed; these lines were not, or were completed:" : "Every line replayed.");
    } catch (error) {
      this.#notes((error.problems || []).slice(1).map((problem) => ({ message: problem.message })),
        `Nothing replayed: ${error.message}`);
    } finally {
      button.disabled = false;
    }
  }

  #show(title, pasting) {
    this.find("import-dialog-title").textContent = title;
    this.find("paste-area").hidden = !pasting;
    this.#notes([], "");
    if (!this.dialog.open) this.dialog.showModal();
  }

  #notes(notes, summary) {
    this.find("import-summary").textContent = summary;
    this.find("import-notes").replaceChildren(...noteItems(notes));
  }
}
