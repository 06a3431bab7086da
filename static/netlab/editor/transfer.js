// Import and export: documents as JSON or YAML files (read here, checked by the server),
// the shell script (rendered by the server) and a PNG of the canvas.

import { dump, load } from "../../vendor/js-yaml/js-yaml.mjs";

/** Read a file's text as a document: JSON for .json (or text that starts with "{"), else YAML. */
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
