// The Document tab: the design as YAML text. "Apply to canvas" makes the text the document
// (one undoable edit); "Save as new revision" applies it and saves.

import * as model from "./model.js";
import * as transfer from "./transfer.js";

export class DocumentTab {
  /**
   * @param form the tab's form (data-testid="document-form")
   * @param applyButton its "Apply to canvas" button
   * @param state the page's EditorState
   * @param actions {apply(doc, description), save(), say(text, kind), problem({path, message})}
   */
  constructor(form, applyButton, state, actions) {
    this.text = form.querySelector("textarea");
    this.state = state;
    this.actions = actions;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (this.apply()) actions.save();
    });
    applyButton.addEventListener("click", () => this.apply());
  }

  /** Put the current document in the text area. */
  fill() {
    this.text.value = transfer.toYaml(this.state.doc);
  }

  /** Make the text the document; answers whether it could (the text is a design's shape). */
  apply() {
    let data;
    try {
      data = transfer.fromYaml(this.text.value);
    } catch (error) {
      this.actions.say(`Not applied: the text is not valid YAML: ${error.message.split("\n")[0]}`, "error");
      return false;
    }
    const problem = model.shapeProblem(data);
    if (problem) {
      this.actions.say(`Not applied: ${problem}.`, "error");
      this.actions.problem?.({ path: "", message: `the Document tab's text was not applied: ${problem}` });
      return false;
    }
    this.actions.apply(model.withPositions(data), "edit the document");
    this.actions.say("Applied the document to the canvas.");
    return true;
  }
}
