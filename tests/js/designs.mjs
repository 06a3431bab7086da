// Designs without positions for the layout tests: the campus of issue 18 (a host, a core
// bridge, 4 routers each holding an access bridge with 13 hosts: 62 nodes), a star and a
// chain. tests/browser/designs.py builds the same campus for the browser tests.

const link = (a, aInterface, b, bInterface, addresses = [null, null]) => ({
  endpoints: [
    { node: a, interface: aInterface, ...(addresses[0] ? { addresses: [addresses[0]] } : {}) },
    { node: b, interface: bInterface, ...(addresses[1] ? { addresses: [addresses[1]] } : {}) },
  ],
});

export function campus({ routers = 4, hostsPerBridge = 13 } = {}) {
  const nodes = [
    { id: "host", kind: "host" },
    { id: "core", kind: "bridge", in: "host", addresses: ["10.0.0.254/24"] },
  ];
  const links = [];
  for (let r = 1; r <= routers; r += 1) {
    nodes.push({ id: `r${r}`, kind: "namespace", forwarding: true,
      routes: [{ to: "default", via: "10.0.0.254" }] });
    nodes.push({ id: `access${r}`, kind: "bridge", in: `r${r}`, addresses: [`10.${r}.0.1/24`] });
    links.push(link(`r${r}`, "up", "core", `core-r${r}`, [`10.0.0.${r}/24`, null]));
  }
  for (let r = 1; r <= routers; r += 1) {
    for (let h = 1; h <= hostsPerBridge; h += 1) {
      const id = `h${r}-${h}`;
      nodes.push({ id, kind: "namespace", routes: [{ to: "default", via: `10.${r}.0.1` }] });
      links.push(link(id, "eth0", `access${r}`, `p${h}`, [`10.${r}.0.${h + 1}/24`, null]));
    }
  }
  return { format: "netlab/v1", name: "campus", title: "Campus", nodes, links };
}

export function star(count = 500) {
  const nodes = [{ id: "host", kind: "host" }, { id: "hub", kind: "bridge", addresses: ["10.0.0.1/16"] }];
  const links = [];
  for (let n = 1; nodes.length < count; n += 1) {
    nodes.push({ id: `s${n}`, kind: "namespace" });
    links.push(link(`s${n}`, "eth0", "hub", `p${n}`, [`10.0.${Math.floor(n / 250)}.${(n % 250) + 2}/16`, null]));
  }
  return { format: "netlab/v1", name: "star", nodes, links };
}

export function chain(count = 500) {
  const nodes = [{ id: "host", kind: "host" }];
  const links = [];
  for (let n = 1; nodes.length < count; n += 1) {
    nodes.push({ id: `c${n}`, kind: "namespace" });
    const previous = n === 1 ? "host" : `c${n - 1}`;
    links.push(link(previous, `e${n}a`, `c${n}`, `e${n}b`));
  }
  return { format: "netlab/v1", name: "chain", nodes, links };
}
