// The property panel: the fields of the selected node or link (or of the design when
// nothing is selected). Every field carries the document path it edits (data-path), the
// same path the server's problems name, so a problem is shown under its own field.

import { suggestAddress } from "./addressing.js";
import { h, parentPath } from "./dom.js";
import * as model from "./model.js";
import { IMPAIRMENT_FIELDS, impairmentLabel } from "../impairment.js";

const PROTOCOLS = ["tcp", "udp"];
const SERVICE_KINDS = ["http", "tcp"];

/** "80" is a port; anything else stays text, and the server says what is wrong with it. */
function portValue(text) {
  return /^\d+$/.test(text.trim()) ? Number(text.trim()) : text;
}

/** A number field's value: a number, absent when empty, else the text (validation says why). */
function numberValue(text) {
  const trimmed = text.trim();
  if (trimmed === "") return undefined;
  return /^-?\d+(\.\d+)?$/.test(trimmed) ? Number(trimmed) : trimmed;
}

/** An impairment with `key` set to `value` (or removed); absent when nothing is left. */
function withField(impairment, key, value) {
  const result = { ...(impairment || {}), [key]: value };
  if (value === undefined) delete result[key];
  return Object.keys(result).length ? result : undefined;
}

/** A list of VLAN ids typed as `10, 20`: numbers where they are, the text where not
 * (validation says why); absent when empty. */
function vlanList(text) {
  const items = text.split(",").map((item) => item.trim()).filter((item) => item !== "");
  return items.length ? items.map((item) => numberValue(item)) : undefined;
}

function optional(text) {
  return text.trim() === "" ? undefined : text.trim();
}

export class PropertiesPanel {
  /**
   * @param root the panel element (data-testid="properties")
   * @param handlers {edit(doc, description, mergeKey), rename(oldId, newId), remove()}
   */
  constructor(root, handlers) {
    this.root = root;
    this.handlers = handlers;
    this.doc = null;
    this.selectionKey = null;
    this.problems = [];
    /** Paths of rows just added and not typed in or left yet: their problems wait. */
    this.fresh = new Set();
    /** The row whose first field takes the focus at the next redraw (a row just added). */
    this.focusRow = null;
    // A fresh row becomes an ordinary one once the user types in it or leaves it.
    root.addEventListener("input", (event) => this.#touch(event.target));
    root.addEventListener("focusout", (event) => {
      const row = event.target.closest?.("[data-fresh]");
      if (row && !row.contains(event.relatedTarget)) this.#touch(event.target);
    });
  }

  /** Whether a problem at `path` waits: it is inside a row just added and not touched yet. */
  isFresh(path) {
    for (const row of this.fresh) {
      if (path === row || path.startsWith(`${row}.`) || path.startsWith(`${row}[`)) return true;
    }
    return false;
  }

  /** Forget every fresh row (their problems show from now on, e.g. when a save was refused). */
  forgetFresh() {
    if (!this.fresh.size) return;
    this.fresh.clear();
    for (const row of this.root.querySelectorAll("[data-fresh]")) delete row.dataset.fresh;
    this.handlers.freshChanged?.();
  }

  #touch(element) {
    const row = element.closest?.("[data-fresh]");
    if (!row) return;
    this.fresh.delete(row.dataset.row);
    delete row.dataset.fresh;
    this.handlers.freshChanged?.();
  }

  /** The panel's document is `doc` already (the edit came from the panel): no redraw. */
  acknowledge(doc) {
    this.doc = doc;
  }

  /** Show the fields for `selection` in `doc`, keeping the focus on the same path. */
  show(doc, selection) {
    const key = JSON.stringify(selection);
    if (doc === this.doc && key === this.selectionKey) return;
    const focused = this.root.contains(document.activeElement) ? document.activeElement : null;
    const focusPath = focused && focused.dataset.path;
    const caret = focused && "selectionStart" in focused ? focused.selectionStart : null;
    if (key !== this.selectionKey && this.fresh.size) {
      this.fresh.clear();
      this.handlers.freshChanged?.();
    }
    this.doc = doc;
    this.selectionKey = key;
    this.selection = selection;
    this.root.replaceChildren(...this.#content(doc, selection));
    for (const row of this.fresh) {
      const element = this.root.querySelector(`[data-row="${CSS.escape(row)}"]`);
      if (element) element.dataset.fresh = "true";
    }
    this.showProblems(this.problems);
    const added = this.focusRow && this.root.querySelector(`[data-row="${CSS.escape(this.focusRow)}"]`);
    this.focusRow = null;
    if (added) {
      added.querySelector("input, select, textarea")?.focus();
    } else if (focusPath) {
      const again = this.root.querySelector(`[data-path="${CSS.escape(focusPath)}"]`);
      if (again) {
        again.focus();
        if (caret !== null && "setSelectionRange" in again) {
          try { again.setSelectionRange(caret, caret); } catch { /* not a text field */ }
        }
      }
    }
  }

  /** Mark each field that a problem is about (or its nearest enclosing field). */
  showProblems(problems) {
    this.problems = problems;
    for (const element of this.root.querySelectorAll(".field-problem")) element.remove();
    for (const element of this.root.querySelectorAll("[aria-invalid]")) {
      element.removeAttribute("aria-invalid");
    }
    for (const problem of problems) {
      let path = problem.path;
      let field = null;
      while (path && !field) {
        field = this.find(path);
        if (!field) path = parentPath(path);
      }
      if (!field) continue;
      field.setAttribute("aria-invalid", "true");
      const note = h("p", { className: "field-problem", "data-testid": "field-problem",
        dataset: { for: problem.path } }, problem.message);
      const row = field.closest(".row") || field.closest("label, fieldset") || field;
      row.after(note);
    }
  }

  /** The field editing `path`, or the row or group of fields that holds it. */
  find(path) {
    const quoted = CSS.escape(path);
    return this.root.querySelector(`[data-path="${quoted}"]`) || this.root.querySelector(`[data-row="${quoted}"]`);
  }

  #edit(doc, description, mergeKey = null) {
    this.handlers.edit(doc, description, mergeKey);
  }

  #content(doc, selection) {
    const { nodes, links } = selection;
    if (nodes.length + links.length > 1) {
      return [
        h("h2", {}, "Selection"),
        h("p", {}, `${nodes.length} node(s) and ${links.length} link(s) selected.`),
        h("p", { className: "hint" }, "Drag to move them together; Delete removes them; Ctrl+C and Ctrl+V copy them."),
        h("button", { type: "button", className: "danger", onclick: () => this.handlers.remove() }, "Delete selection"),
      ];
    }
    if (nodes.length === 1) {
      const index = model.nodeIndex(doc, nodes[0]);
      if (index >= 0) return this.#node(doc, index);
    }
    if (links.length === 1 && model.linksOf(doc)[links[0]]) return this.#link(doc, links[0]);
    return this.#design(doc);
  }

  #text(label, path, value, onValue, { merge = true, change = false, placeholder = "", testid } = {}) {
    const input = h("input", { type: "text", value: value ?? "", placeholder,
      dataset: { path }, "data-testid": testid, spellcheck: "false", autocomplete: "off" });
    input.addEventListener(change ? "change" : "input", () => onValue(input.value, merge ? path : null));
    return h("label", { className: "field" }, h("span", {}, label), input);
  }

  #design(doc) {
    const set = (field) => (value, key) =>
      this.#edit(model.updateDesign(this.doc, { [field]: field === "name" ? value.trim() : value }), `change the design's ${field}`, key);
    return [
      h("h2", {}, "Design"),
      this.#text("Name", "name", doc.name, set("name"), { testid: "design-name" }),
      this.#text("Title", "title", doc.title, set("title")),
      h("label", { className: "field" }, h("span", {}, "Description"),
        (() => {
          const area = h("textarea", { rows: 3, dataset: { path: "description" } });
          area.value = doc.description || "";
          area.addEventListener("input", () => set("description")(area.value, "description"));
          return area;
        })()),
      h("p", { className: "hint" }, "Select a node or a link to edit it. Drag a namespace or a bridge from the palette; drag a node's handle (the dot above it) to another node to link them."),
    ];
  }

  #node(doc, index) {
    const node = model.nodesOf(doc)[index];
    const base = `nodes[${index}]`;
    const id = node.id;
    const update = (changes, description, key) =>
      this.#edit(model.updateNode(this.doc, id, changes), description, key);
    const idField = this.#text("Id", `${base}.id`, node.id, (value) => {
      const wanted = value.trim();
      const problem = wanted === id ? null : model.nodeIdProblem(this.doc, wanted, id);
      this.handlers.problem(problem ? { path: `${base}.id`, message: problem } : null);
      if (wanted === id || problem) return;
      this.handlers.rename(id, wanted);
    }, { change: true, merge: false, testid: "node-id" });
    const parts = [
      h("h2", {}, `${node.kind[0].toUpperCase()}${node.kind.slice(1)} ${node.id}`),
      idField,
      this.#text("Label", `${base}.label`, node.label, (value, key) =>
        update({ label: value === "" ? undefined : value }, `label ${id}`, key)),
    ];
    if (node.kind === "bridge") {
      const holders = model.nodesOf(doc).filter((other) => other.kind !== "bridge");
      const select = h("select", { dataset: { path: `${base}.in` } },
        h("option", { value: "" }, "the host (default)"),
        holders.map((other) => h("option", { value: other.id, selected: node.in === other.id }, other.id)));
      select.addEventListener("change", () => update({ in: select.value || undefined }, `move bridge ${id}`));
      parts.push(h("label", { className: "field" }, h("span", {}, "Lives in"), select));
      parts.push(this.#list("Addresses", `${base}.addresses`, () => model.findNode(this.doc, id)?.addresses || [],
        (items, key) => update({ addresses: items }, `addresses of ${id}`, key),
        (value, path, set) => [this.#bare(path, value, set, "Address", "192.168.15.5/24", "address")],
        () => "", "address", this.#suggestButton({ bridge: id }, `${base}.addresses`)));
      const filtering = h("input", { type: "checkbox", checked: node.vlan_filtering === true,
        dataset: { path: `${base}.vlan_filtering` }, "data-testid": "vlan-filtering" });
      filtering.addEventListener("change", () =>
        update({ vlan_filtering: filtering.checked || undefined }, `VLAN filtering on ${id}`));
      parts.push(h("label", { className: "check" }, filtering, " VLAN filtering (ports' access VLAN or trunk)"));
      return parts;
    }
    parts.push(this.#text("Site", `${base}.site`, node.site, (value, key) =>
      update({ site: value.trim() || undefined }, `site of ${id}`, key),
    { placeholder: "the lab's (where it is placed)", testid: "node-site" }));
    parts.push(this.#interfaces(doc, id));
    parts.push(this.#list("VLAN sub-interfaces", `${base}.subinterfaces`, () => model.findNode(this.doc, id)?.subinterfaces || [],
      (items, key) => update({ subinterfaces: items }, `sub-interfaces of ${id}`, key),
      (sub, path, set) => [
        this.#bare(`${path}.parent`, sub.parent, (parent, key) => set((sub) => ({ ...sub, parent: parent.trim() }), key), "Parent (link end)", "eth0", "subinterface-parent"),
        this.#bare(`${path}.vlan`, sub.vlan, (vlan, key) => set((sub) => ({ ...sub, vlan: numberValue(vlan) }), key), "VLAN", "10", "subinterface-vlan"),
        this.#bare(`${path}.name`, sub.name, (name, key) => set((sub) => clean({ ...sub, name: optional(name) }), key), "Name", sub.parent && sub.vlan ? `${sub.parent}.${sub.vlan}` : "PARENT.VLAN", "subinterface-name"),
        this.#bare(`${path}.addresses`, (sub.addresses || []).join(", "), (text, key) => set((sub) => clean({ ...sub, addresses: vlanList(text)?.map(String) }), key), "Addresses", "10.0.10.1/24", "subinterface-addresses"),
      ],
      () => ({ parent: "", vlan: "" }), "sub-interface"));
    const forwarding = h("input", { type: "checkbox", checked: node.forwarding, dataset: { path: `${base}.forwarding` }, "data-testid": "forwarding" });
    forwarding.addEventListener("change", () => update({ forwarding: forwarding.checked }, `forwarding on ${id}`));
    parts.push(h("label", { className: "check" }, forwarding, " Forwarding (net.ipv4.ip_forward)"));
    const gateway = model.gatewayFor(doc, id);
    parts.push(this.#list("Routes", `${base}.routes`, () => model.findNode(this.doc, id)?.routes || [],
      (items, key) => update({ routes: items }, `routes of ${id}`, key),
      (route, path, set) => [
        this.#bare(`${path}.to`, route.to, (to, key) => set((route) => ({ ...route, to }), key), "To", "default or 10.0.0.0/24", "route-to"),
        this.#bare(`${path}.via`, route.via, (via, key) => set((route) => clean({ ...route, via: optional(via) }), key), "Via (gateway)", gateway || "192.168.15.5", "route-via"),
        this.#bare(`${path}.dev`, route.dev, (dev, key) => set((route) => clean({ ...route, dev: optional(dev) }), key), "Dev (interface)", "optional", "route-dev"),
      ],
      () => ({ to: "" }), "route",
      h("button", { type: "button", "data-testid": "default-route", disabled: !gateway,
        title: gateway ? `ip route add default via ${gateway}` : "No gateway on this node's subnets: link it to an addressed bridge or node first",
        onclick: () => this.#edit(model.setDefaultRoute(this.doc, id, gateway), `default route of ${id}`) },
      gateway ? `Default route via ${gateway}` : "Default route via the gateway")));
    parts.push(this.#list("NAT (masquerade)", `${base}.nat`, () => model.findNode(this.doc, id)?.nat || [],
      (items, key) => update({ nat: items }, `NAT of ${id}`, key),
      (nat, path, set) => [
        this.#bare(`${path}.source`, nat.source, (source, key) => set((nat) => ({ ...nat, source }), key), "Source", "192.168.15.0/24", "nat-source"),
        this.#bare(`${path}.out`, nat.out, (out, key) => set((nat) => clean({ ...nat, out: optional(out) }), key), "Out (interface)", "any", "nat-out"),
      ],
      () => ({ source: "" }), "NAT rule"));
    parts.push(this.#list("Port forwards", `${base}.port_forwards`, () => model.findNode(this.doc, id)?.port_forwards || [],
      (items, key) => update({ port_forwards: items }, `port forwards of ${id}`, key),
      (forward, path, set) => [
        this.#choice(`${path}.protocol`, forward.protocol || "tcp", PROTOCOLS, (protocol) => set((forward) => clean({ ...forward, protocol: protocol === "tcp" ? undefined : protocol })), "Protocol"),
        this.#bare(`${path}.port`, forward.port, (port, key) => set((forward) => ({ ...forward, port: portValue(port) }), key), "Port", "80", "forward-port"),
        this.#bare(`${path}.in`, forward.in, (inside, key) => set((forward) => clean({ ...forward, in: optional(inside) }), key), "In (interface)", "any", "forward-in"),
        this.#bare(`${path}.to`, forward.to, (to, key) => set((forward) => ({ ...forward, to }), key), "To (address:port)", "192.168.15.2:80", "forward-to"),
      ],
      () => ({ port: 80, to: "" }), "port forward"));
    parts.push(this.#list("Services", `${base}.services`, () => model.findNode(this.doc, id)?.services || [],
      (items, key) => update({ services: items }, `services of ${id}`, key),
      (service, path, set) => [
        this.#choice(`${path}.kind`, service.kind, SERVICE_KINDS, (kind) => set((service) => ({ ...service, kind })), "Kind"),
        this.#bare(`${path}.port`, service.port, (port, key) => set((service) => ({ ...service, port: portValue(port) }), key), "Port", "80", "service-port"),
      ],
      () => ({ kind: "http", port: 80 }), "service"));
    return parts;
  }

  #link(doc, index) {
    const link = model.linksOf(doc)[index];
    const parts = [h("h2", {}, `Link ${link.endpoints[0].node} — ${link.endpoints[1].node}`)];
    link.endpoints.forEach((end, which) => {
      const base = `links[${index}].endpoints[${which}]`;
      const node = model.findNode(doc, end.node);
      const bridge = node && node.kind === "bridge";
      const update = (changes, description, key) =>
        this.#edit(model.updateEndpoint(this.doc, index, which, changes), description, key);
      const fieldset = h("fieldset", { dataset: { row: base } },
        h("legend", {}, `End on ${end.node}${bridge ? " (a port of the bridge)" : ""}`),
        this.#text("Interface", `${base}.interface`, end.interface,
          (value, key) => update({ interface: value.trim() }, `rename interface ${end.interface}`, key),
          { testid: `interface-${which}` }));
      if (bridge && !(end.addresses || []).length) {
        fieldset.append(h("p", { className: "hint" }, "A bridge port takes no address: address the bridge itself."));
      } else {
        fieldset.append(this.#list("Addresses", `${base}.addresses`, () => model.linksOf(this.doc)[index]?.endpoints[which].addresses || [],
          (items, key) => update({ addresses: items }, `addresses of ${end.interface}`, key),
          (value, path, set) => [this.#bare(path, value, set, "Address", "192.168.15.1/24", `address-${which}`)],
          () => "", "address", this.#suggestButton({ link: index, end: which }, `${base}.addresses`)));
      }
      if (bridge) {
        fieldset.append(
          this.#text("VLAN (access port, untagged)", `${base}.vlan`, end.vlan,
            (value, key) => update({ vlan: numberValue(value) }, `VLAN of ${end.interface}`, key), { placeholder: "1", testid: `vlan-${which}` }),
          this.#text("Trunk (tagged VLANs)", `${base}.trunk`, (end.trunk || []).join(", "),
            (value, key) => update({ trunk: vlanList(value) }, `trunk of ${end.interface}`, key), { placeholder: "10, 20", testid: `trunk-${which}` }));
      }
      fieldset.append(this.#impairment(`${base}.impairment`, end.impairment,
        () => model.linksOf(this.doc)[index]?.endpoints[which].impairment, `egress of ${end.interface}`,
        (impairment, description, key) => update({ impairment }, description, key), `end-${which}-`));
      parts.push(fieldset);
    });
    parts.push(this.#linkSettings(link, index));
    parts.push(h("button", { type: "button", className: "danger", onclick: () => this.handlers.remove() }, "Delete link"));
    return parts;
  }

  /** The link's own fields: up, MTU and the impairment of both ends. */
  #linkSettings(link, index) {
    const base = `links[${index}]`;
    const name = `${link.endpoints[0].node} — ${link.endpoints[1].node}`;
    const update = (changes, description, key) =>
      this.#edit(model.updateLink(this.doc, index, changes), description, key);
    const up = h("input", { type: "checkbox", checked: link.up !== false, dataset: { path: `${base}.up` }, "data-testid": "link-up" });
    up.addEventListener("change", () => update({ up: up.checked ? undefined : false }, `link ${name} ${up.checked ? "up" : "down"}`));
    return h("fieldset", { dataset: { row: base } },
      h("legend", {}, "Both ends"),
      h("label", { className: "check" }, up, " Up (ip link set up; off: both ends down)"),
      this.#text("MTU", `${base}.mtu`, link.mtu, (value, key) => update({ mtu: numberValue(value) }, `MTU of ${name}`, key),
        { placeholder: "1500", testid: "link-mtu" }),
      this.#impairment(`${base}.impairment`, link.impairment, () => model.linksOf(this.doc)[index]?.impairment,
        "egress of both ends", (impairment, description, key) => update({ impairment }, description, key), "link-"));
  }

  /** An impairment's fields (tc netem / tbf); an end's override the link's, field by field. */
  #impairment(path, impairment, current, what, onValue, testid) {
    return h("div", { className: "impairment" },
      h("p", { className: "hint" }, `Impairment, ${what}: ${impairmentLabel(impairment) || "none"}`),
      IMPAIRMENT_FIELDS.map(({ key, label }) => this.#bare(`${path}.${key}`, impairment?.[key], (value, merge) =>
        onValue(withField(current(), key, numberValue(value)), `impairment of ${what}`, merge),
        label, "", `${testid}${key}`)));
  }

  /** A field of a row, its label above it (a placeholder only hints at a value). */
  #bare(path, value, onValue, label, placeholder, testid) {
    const input = h("input", { type: "text", value: value ?? "", placeholder,
      dataset: { path }, "data-testid": testid, spellcheck: "false", autocomplete: "off" });
    input.addEventListener("input", () => onValue(input.value, path));
    return h("label", { className: "cell" }, h("span", {}, label), input);
  }

  #choice(path, value, options, onValue, label) {
    const select = h("select", { dataset: { path } },
      options.map((option) => h("option", { value: option, selected: option === value }, option)));
    select.addEventListener("change", () => onValue(select.value));
    return h("label", { className: "cell" }, h("span", {}, label), select);
  }

  /**
   * The interfaces of a host or namespace node (data-testid="node-interfaces"): one row per
   * link end on it (its interface, the node at the other end, its addresses) and per bridge
   * it holds (the bridge's own addresses). The fields edit the link end's (or the bridge's)
   * own document fields, with the next free address of the segment offered.
   */
  #interfaces(doc, nodeId) {
    const rows = [];
    model.linksOf(doc).forEach((link, index) => {
      (link.endpoints || []).forEach((end, which) => {
        if (end.node !== nodeId) return;
        const peer = link.endpoints[1 - which];
        const base = `links[${index}].endpoints[${which}]`;
        const update = (changes, description, key) =>
          this.#edit(model.updateEndpoint(this.doc, index, which, changes), description, key);
        const peerNode = model.findNode(doc, peer?.node);
        const towards = peerNode && peerNode.kind === "bridge" ? `port ${peer.interface} of bridge ${peer.node}` : `${peer?.node ?? "?"} (${peer?.interface ?? "?"})`;
        rows.push(h("fieldset", { className: "interface", dataset: { row: base, interface: end.interface }, "data-testid": "node-interface" },
          h("legend", {}, `${end.interface} → ${peer?.node ?? "?"}`),
          this.#text("Interface", `${base}.interface`, end.interface,
            (value, key) => update({ interface: value.trim() }, `rename interface ${end.interface}`, key)),
          h("p", { className: "hint peer" }, "Linked to ", h("strong", {}, towards)),
          this.#list("Addresses", `${base}.addresses`, () => model.linksOf(this.doc)[index]?.endpoints[which].addresses || [],
            (items, key) => update({ addresses: items }, `addresses of ${end.interface}`, key),
            (value, path, set) => [this.#bare(path, value, set, "Address", suggestAddress(doc, { link: index, end: which }) || "192.168.15.1/24", "interface-address")],
            () => "", "address", this.#suggestButton({ link: index, end: which }, `${base}.addresses`))));
      });
    });
    model.nodesOf(doc).forEach((bridge, index) => {
      if (bridge.kind !== "bridge" || model.holderOf(doc, bridge) !== nodeId) return;
      const update = (items, key) => this.#edit(model.updateNode(this.doc, bridge.id, { addresses: items }), `addresses of ${bridge.id}`, key);
      rows.push(h("fieldset", { className: "interface", dataset: { row: `nodes[${index}]`, interface: bridge.id }, "data-testid": "node-interface" },
        h("legend", {}, `${bridge.id} (bridge)`),
        this.#list("Addresses", `nodes[${index}].addresses`, () => model.findNode(this.doc, bridge.id)?.addresses || [],
          update, (value, path, set) => [this.#bare(path, value, set, "Address", "192.168.15.5/24", "interface-address")],
          () => "", "address", this.#suggestButton({ bridge: bridge.id }, `nodes[${index}].addresses`))));
    });
    return h("section", { className: "node-interfaces", "data-testid": "node-interfaces" },
      h("h3", {}, "Interfaces"),
      rows.length ? rows : h("p", { className: "hint" }, "No interfaces yet: drag the dot above this node to another node to link them."));
  }

  /**
   * A button offering the next free address of the segment of `place` ({link, end} or
   * {bridge}); it fills the list's first empty address, else adds one. Hidden when there is
   * nothing to suggest.
   */
  #suggestButton(place, path) {
    const suggestion = suggestAddress(this.doc ?? {}, place);
    const button = h("button", { type: "button", className: "secondary", "data-testid": "suggest-address",
      title: "The lowest address of this segment's subnet that no interface uses yet", hidden: !suggestion },
    `Use ${suggestion ?? ""}`);
    button.addEventListener("click", () => {
      const current = model.linksOf(this.doc)[place.link]?.endpoints[place.end]?.addresses
        ?? model.findNode(this.doc, place.bridge)?.addresses ?? [];
      const address = suggestAddress(this.doc, place, current);
      if (!address) return;
      const empty = current.findIndex((text) => text.trim() === "");
      const items = current.slice();
      if (empty >= 0) items[empty] = address;
      else items.push(address);
      const position = empty >= 0 ? empty : items.length - 1;
      this.focusRow = `${path}[${position}]`;
      const doc = place.bridge !== undefined
        ? model.updateNode(this.doc, place.bridge, { addresses: items })
        : model.updateEndpoint(this.doc, place.link, place.end, { addresses: items });
      this.#edit(doc, `suggested address ${address}`);
    });
    return button;
  }

  /** A list of rows (addresses, routes...) with add and remove buttons. */
  #list(title, path, getItems, onItems, row, blank, noun, extra = null) {
    const rows = getItems().map((item, position) => {
      const itemPath = `${path}[${position}]`;
      // Read the items again at each edit: the panel is not redrawn while the user types.
      const set = (change, key = null) => {
        const next = getItems().slice();
        next[position] = typeof change === "function" ? change(next[position]) : change;
        onItems(next, key);
      };
      const remove = h("button", { type: "button", className: "icon", title: `Remove this ${noun}`,
        "aria-label": `Remove this ${noun}`, onclick: () => {
          this.forgetFresh();
          onItems(getItems().filter((_, other) => other !== position));
        } }, "×");
      return h("div", { className: "row", dataset: { row: itemPath } }, row(item, itemPath, set), remove);
    });
    // A new row is empty, takes the focus and keeps its problems to itself until it is
    // typed in or left: an empty row the user has just asked for is not an error yet.
    const add = h("button", { type: "button", className: "secondary", "data-testid": `add-${noun.replace(/\s+/g, "-").toLowerCase()}`,
      onclick: () => {
        const items = getItems();
        const added = `${path}[${items.length}]`;
        this.fresh.add(added);
        this.focusRow = added;
        onItems([...items, blank()]);
      } }, `Add ${noun}`);
    return h("fieldset", { className: "list", dataset: { row: path } }, h("legend", {}, title), rows,
      h("div", { className: "list-actions" }, add, extra));
  }
}

function clean(value) {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined));
}
