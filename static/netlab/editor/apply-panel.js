// Live changes from the page: when the saved revision differs from the one the running lab
// reflects, Apply changes asks the server for the plan (`apply` with `dry_run`), shows its
// steps and their commands, marks the nodes they touch on the canvas, and runs it on
// confirmation (`apply`); its steps then stream into the step log like a deploy's.

import { nodeKey } from "../graph.js";
import { h } from "./dom.js";
import { nodesNamedIn } from "./live-state.js";

const CHANGED = "pending-change";

/** Whether the page should offer to apply: the lab runs an older saved revision. */
export function applicable(deployment, savedRevision) {
  return deployment.state === "running" && Number.isInteger(deployment.revision)
    && deployment.revision !== savedRevision;
}

/** The ids of the nodes a plan's steps name (what the change touches), in `doc`. */
export function touchedNodes(doc, plan) {
  const touched = new Set();
  for (const step of plan.steps) for (const id of nodesNamedIn(doc, step.description)) touched.add(id);
  return touched;
}

export class ApplyPanel {
  /**
   * @param find the page's lookup by data-testid
   * @param state the page's EditorState
   * @param panel {send(request): boolean, say(text, kind), canvas, openTab(name), askToSave(what)}
   */
  constructor(find, state, panel) {
    this.find = find;
    this.state = state;
    this.panel = panel;
    this.plan = null; // the last plan the server answered, while it is shown
    this.find("apply").addEventListener("click", () => this.preview());
  }

  /** Ask for the plan of the saved revision (unsaved edits are saved first, as for Deploy). */
  preview() {
    if (this.state.isDirty()) {
      this.panel.askToSave("apply");
      return;
    }
    if (this.panel.send({ action: "apply", dry_run: true })) {
      this.panel.say(`Planning the change to revision ${this.state.revision}…`);
    }
  }

  /** The server's `plan` answer: show it, and mark the nodes it touches. */
  showPlan(plan) {
    this.plan = plan;
    const steps = plan.steps;
    const box = this.find("apply-preview");
    const summary = steps.length
      ? `Applying revision ${plan.revision} runs ${steps.length} step${steps.length === 1 ? "" : "s"} on the running lab; nothing else in it changes.`
      : `Revision ${plan.revision} changes nothing the kernel holds (positions, labels): applying it only records the revision.`;
    box.replaceChildren(
      h("p", {}, summary),
      h("ol", { className: "steps", "data-testid": "apply-steps" }, steps.map((step) => h("li", {},
        h("span", { className: "description" }, step.description),
        h("pre", { className: "shell" }, step.shell.join("\n"))))),
      ...(plan.recreated.length
        ? [h("p", { className: "hint" }, "Made again:"),
          h("ul", { "data-testid": "apply-recreated" }, plan.recreated.map((line) => h("li", {}, line)))]
        : []),
      h("button", { type: "button", "data-testid": "apply-confirm", onclick: () => this.run() },
        steps.length ? `Apply ${steps.length} step${steps.length === 1 ? "" : "s"}` : "Apply"),
      h("button", { type: "button", className: "secondary", "data-testid": "apply-cancel",
        onclick: () => this.close() }, "Cancel"));
    box.hidden = false;
    const touched = touchedNodes(this.state.doc, plan);
    this.#mark(touched);
    this.panel.say(steps.length
      ? `The change to revision ${plan.revision}: ${steps.length} step${steps.length === 1 ? "" : "s"} (${[...touched].join(", ") || "no node"} marked on the canvas).`
      : `Revision ${plan.revision} changes nothing in the kernel.`);
    this.panel.openTab("live");
  }

  run() {
    if (this.panel.send({ action: "apply" })) {
      this.panel.say(`Applying revision ${this.plan ? this.plan.revision : this.state.revision} to the running lab…`);
      this.close();
    }
  }

  close() {
    this.plan = null;
    this.find("apply-preview").hidden = true;
    this.find("apply-preview").replaceChildren();
    this.#mark(new Set());
  }

  /** Show or hide the button as the lab's revision and the saved one differ. */
  update(deployment, { open, busy }) {
    const button = this.find("apply");
    const offered = this.state.canEdit && applicable(deployment, this.state.revision);
    button.hidden = !offered;
    button.disabled = !offered || !open || busy;
    button.title = offered
      ? `The lab runs revision ${deployment.revision}: change it in place to the saved revision ${this.state.revision}`
      : "";
    if (!offered && this.plan) this.close();
  }

  #mark(ids) {
    const cy = this.panel.canvas.cy;
    if (!this.styled) {
      cy.style().selector(`node.${CHANGED}`).style({ "border-color": "#d97706", "border-width": 4,
        "border-style": "double" }).update();
      this.styled = true;
    }
    cy.batch(() => {
      cy.nodes(`.${CHANGED}`).removeClass(CHANGED);
      for (const id of ids) cy.getElementById(nodeKey(id)).addClass(CHANGED);
    });
  }
}
