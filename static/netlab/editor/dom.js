// A small helper to build DOM elements: h("input", {type: "text", dataset: {path}}, ...children).

export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "dataset") Object.assign(element.dataset, value);
    else if (key.startsWith("on")) element.addEventListener(key.slice(2), value);
    else if (key === "className") element.className = value;
    else if (key === "value") element.value = value;
    else if (key === "checked") element.checked = Boolean(value);
    else element.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** A path one step up: `nodes[1].routes[0].via` -> `nodes[1].routes[0]` -> `nodes[1].routes`. */
export function parentPath(path) {
  const match = /^(.*?)(\.[^.[\]]+|\[\d+\])$/.exec(path);
  return match ? match[1] : "";
}

// The element patchChildren made for each item: its key and the value it was made from.
const made = new WeakMap();

/**
 * Bring `parent`'s children to `items` ([{key, value, make()}], in order): an element is
 * made (make()) only for an item whose key is new or whose value is another than the one
 * its element was made from; the others stay where they are. A long list that changes at
 * its ends (a step log) then costs the browser what changed, not a whole new list to lay
 * out and paint.
 */
export function patchChildren(parent, items) {
  const wanted = new Map(items.map((item) => [item.key, item]));
  const kept = new Map();
  for (const child of [...parent.children]) {
    const was = made.get(child);
    const item = was && wanted.get(was.key);
    if (item && item.value === was.value && !kept.has(was.key)) kept.set(was.key, child);
    else child.remove();
  }
  let cursor = parent.firstElementChild;
  for (const item of items) {
    let element = kept.get(item.key);
    if (!element) {
      element = item.make();
      made.set(element, { key: item.key, value: item.value });
    }
    if (element === cursor) cursor = cursor.nextElementSibling;
    else parent.insertBefore(element, cursor);
  }
}
