// Copy and paste of selected nodes with the links between them (Ctrl+C, Ctrl+V). The
// clipboard is the page's own: each paste lands a little further down and to the right.

import * as model from "./model.js";

const PASTE_SHIFT = 40;

export class Clipboard {
  /**
   * @param state the page's EditorState
   * @param canvas the Canvas (its selection is what is copied; pasted nodes get selected)
   * @param actions {apply(doc, description), say(text, kind)}
   */
  constructor(state, canvas, actions) {
    this.state = state;
    this.canvas = canvas;
    this.actions = actions;
    this.content = null;
    this.pastes = 0;
  }

  copy() {
    const { nodes } = this.canvas.selection();
    const content = model.copyElements(this.state.doc, nodes);
    if (!content.nodes.length) {
      this.actions.say("Select the nodes to copy (the host cannot be copied).", "warning");
      return;
    }
    this.content = content;
    this.pastes = 0;
    this.actions.say(`Copied ${content.nodes.length} node(s) and ${content.links.length} link(s).`);
  }

  paste() {
    if (!this.content) return;
    this.pastes += 1;
    const shift = PASTE_SHIFT * this.pastes;
    const { doc, ids } = model.pasteElements(this.state.doc, this.content, { x: shift, y: shift });
    if (!this.actions.apply(doc, `paste ${ids.length} node(s)`)) return;
    this.canvas.select({ nodes: ids });
    this.actions.say(`Pasted ${ids.join(", ")} (addresses are not copied: they must stay unique).`);
  }
}
