// Cytoscape.js with the fcose layout, from node_modules, as the page has them as globals
// (templates/editor/design.html): the layout tests run the real engine.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const cytoscape = require("cytoscape");
cytoscape.use(require("cytoscape-fcose"));
globalThis.cytoscape = cytoscape;

export default cytoscape;
