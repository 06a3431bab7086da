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
