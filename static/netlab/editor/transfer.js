// Import and export: documents as JSON or YAML files (read here, checked by the server),
// the shell script (rendered by the server) and a PNG of the canvas; and the toolbar's
// Import… and Export menu that offers them.

import { dump, load } from "../../vendor/js-yaml/js-yaml.mjs";
import * as api from "./api.js";
import * as model from "./model.js";

/** Whether `data` (a file read as YAML or JSON) is a netlab document rather than a file the
 * server translates (a containerlab topology has `topology`; a script reads as no mapping). */
export function isDesign(data) {
  return data !== null && typeof data === "object" && !Array.isArray(data) &&
    !("topology" in data && !("format" in data)) && ["format", "name", "nodes", "links"].some((key) => key in data);
}

/** Read a file's text as a document: JSON for .json (or text that starts with "{"), else YAML.
 * Only a preview: the canvas shows it as unsaved edits, and the server decides on save (the
 * same checks as services.import_document, the dashboard's and the CLI's import). */
export function parseDocument(name, text) {
  const json = /\.json$/i.test(name) || /^\s*\{/.test(text);
  try {
    return json ? JSON.parse(text) : load(text);
  } catch (error) {
    const kind = json ? "JSON" : "YAML";
    throw new Error(`${name} is not valid ${kind}: ${error.message.split("\n")[0]}`);
  }
}

export function toJson(doc) {
  return `${JSON.stringify(doc, null, 2)}\n`;
}

export function toYaml(doc) {
  return dump(doc, { noRefs: true, lineWidth: 100 });
}

export function fromYaml(text) {
  return load(text);
}

/** Offer `blob` as a download named `filename`. */
export function download(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** Call `onFile(file)` for a file dropped anywhere on `target`, with a visible drop zone. */
export function bindFileDrop(target, onFile) {
  const hasFiles = (event) => [...(event.dataTransfer?.types || [])].includes("Files");
  target.addEventListener("dragover", (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    target.classList.add("dropping");
  });
  target.addEventListener("dragleave", (event) => {
    if (event.target === target || !target.contains(event.relatedTarget)) target.classList.remove("dropping");
  });
  target.addEventListener("drop", (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    target.classList.remove("dropping");
    const file = event.dataTransfer.files[0];
    if (file) onFile(file);
  });
}

export class FileMenu {
  /**
   * The Import… button's file input, files dropped on the page and the Export menu.
   * @param find the page's element by data-testid
   * @param state the page's EditorState
   * @param canvas the Canvas (a loaded document is fitted; the PNG is its picture)
   * @param actions {apply(doc, description), say(text, kind), problem({path, message}),
   *   report(filename, notes): what a translated file left out}
   */
  constructor(find, state, canvas, actions) {
    this.find = find;
    this.state = state;
    this.canvas = canvas;
    this.actions = actions;
    const input = find("import-file");
    input.addEventListener("change", () => {
      if (input.files[0]) this.importFile(input.files[0]);
      input.value = "";
    });
    bindFileDrop(document.body, (file) => this.importFile(file));
    // The script is fetched and offered as a file: following the link would leave the page,
    // and with unsaved changes the page would ask whether to leave it.
    for (const testid of ["export-sh", "export-clab"]) {
      const link = find(testid);
      link?.addEventListener("click", (event) => {
        event.preventDefault();
        this.exportScript(link.href);
      });
    }
  }

  /** Download the saved revision's shell script or containerlab topology from `url`, without
   * leaving the page. */
  async exportScript(url) {
    this.find("export-menu").hidden = true;
    let response;
    try {
      response = await fetch(url, { credentials: "same-origin" });
    } catch (error) {
      this.actions.say(`Not exported: the server cannot be reached (${error.message}).`, "error");
      return;
    }
    if (!response.ok) {
      const reason = response.status === 422 ? "the saved revision no longer passes validation" : response.statusText;
      this.actions.say(`Not exported: ${reason}.`, "error");
      return;
    }
    const disposition = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "");
    const filename = disposition ? disposition[1] : `${this.state.doc.name || "design"}.sh`;
    download(await response.blob(), filename);
    this.actions.say(this.state.isDirty()
      ? `Downloaded ${filename}, of the saved revision: your unsaved changes are not in it until you save.`
      : `Downloaded ${filename}, of the saved revision.`);
  }

  /** Open the file chooser (the Import… button). */
  choose() {
    this.find("import-file").click();
  }

  toggleExportMenu() {
    this.find("export-menu").toggleAttribute("hidden");
  }

  async importFile(file) {
    const text = await file.text();
    let data = null;
    try {
      data = parseDocument(file.name, text);
    } catch (error) {
      if (/\.(json|ya?ml)$/i.test(file.name) && !/\.clab\.ya?ml$/i.test(file.name)) {
        this.actions.say(`Not imported: ${error.message}`, "error");
        return;
      }
    }
    if (isDesign(data)) {
      this.load(data, file.name);
      return;
    }
    // A containerlab topology or a command script: the server translates it (saving nothing).
    let answer;
    try {
      answer = await api.importText({ text, filename: file.name, dry_run: true });
    } catch (error) {
      this.actions.say(`Not imported: ${error.message}`, "error");
      this.actions.report?.(file.name, (error.problems || []).slice(1).map((problem) => ({ message: problem.message })));
      return;
    }
    if (this.load(answer.document, file.name)) this.actions.report?.(file.name, answer.notes);
  }

  /** Put a document read from `filename` on the canvas, as an unsaved edit. */
  load(data, filename) {
    const problem = model.shapeProblem(data);
    if (problem) {
      this.actions.say(`Not loaded: ${problem}.`, "error");
      this.actions.problem?.({ path: "", message: `${filename} was not loaded: ${problem}` });
      return false;
    }
    // The design keeps its name: the document replaces its content, not another design.
    const doc = model.withPositions({ ...data, name: this.state.doc.name });
    this.canvas.select({});
    if (!this.actions.apply(doc, `import ${filename}`)) return false;
    this.canvas.fit();
    this.actions.say(`Loaded ${filename} as unsaved changes; save to keep it.`);
    return true;
  }

  exportAs(format) {
    this.find("export-menu").hidden = true;
    const doc = this.state.doc;
    const name = doc.name || "design";
    if (format === "json") download(new Blob([toJson(doc)], { type: "application/json" }), `${name}.json`);
    else if (format === "yaml") download(new Blob([toYaml(doc)], { type: "application/yaml" }), `${name}.yaml`);
    else if (format === "png") download(this.canvas.png(), `${name}.png`);
  }
}
