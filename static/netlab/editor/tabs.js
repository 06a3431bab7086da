// The side panel's tabs (Properties, Document, Live lab): one open at a time.

export class Tabs {
  /**
   * @param root the element holding the `[role=tab][data-tab]` buttons and the `#tab-<name>` panels
   * @param onOpen called with the tab's name and the options given to `open`
   */
  constructor(root, onOpen = () => {}) {
    this.root = root;
    this.onOpen = onOpen;
    for (const tab of this.#tabs()) {
      tab.addEventListener("click", () => this.open(tab.dataset.tab));
    }
  }

  #tabs() {
    return this.root.querySelectorAll("[role=tab][data-tab]"); // not the consoles' tabs
  }

  open(name, options = {}) {
    for (const tab of this.#tabs()) {
      const active = tab.dataset.tab === name;
      tab.setAttribute("aria-selected", String(active));
      this.root.querySelector(`#tab-${tab.dataset.tab}`).hidden = !active;
    }
    this.onOpen(name, options);
  }
}
