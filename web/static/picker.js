// picker.js: an entity picker — a combobox over search() with a listbox of hits that
// the arrow keys walk, Enter picks and Escape closes (WAI-ARIA combobox pattern).

import { search } from "./api.js";

let counter = 0;

/**
 * EntityPicker wires an <input role=combobox> to a <ul role=listbox>. onPick(entity)
 * runs when a hit is chosen; `value` is the picked entity's id ("" when none).
 */
export class EntityPicker {
  constructor(input, list, onPick = () => {}) {
    this.input = input;
    this.list = list;
    this.onPick = onPick;
    this.hits = [];
    this.active = -1;
    this.value = "";
    this.seq = 0;
    this.prefix = `opt${++counter}`;
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", list.id);
    input.setAttribute("autocomplete", "off");
    list.setAttribute("role", "listbox");
    let timer;
    input.addEventListener("input", () => {
      this.value = "";
      clearTimeout(timer);
      timer = setTimeout(() => this.lookup(), 180);
    });
    input.addEventListener("keydown", (ev) => this.key(ev));
    // A picker that holds a choice selects it on focus, so that typing replaces it.
    input.addEventListener("focus", () => setTimeout(() => input.select()));
    input.addEventListener("blur", () => setTimeout(() => this.close(), 150));
    list.addEventListener("mousedown", (ev) => ev.preventDefault()); // keep focus in the input
    list.addEventListener("click", (ev) => {
      const li = ev.target.closest("[role=option]");
      if (li) this.pick(Number(li.dataset.index));
    });
  }

  /** Sets the picker to an entity without searching. */
  set(entity) {
    this.value = entity ? entity.id : "";
    this.input.value = entity ? entity.name : "";
  }

  async lookup() {
    const text = this.input.value.trim();
    const seq = ++this.seq;
    if (!text) return this.close();
    try {
      const hits = await search(text, 10);
      if (seq !== this.seq) return; // a newer search is on its way
      this.show(hits.map((h) => h.entity));
    } catch (err) {
      if (seq === this.seq) this.show([], err.message);
    }
  }

  show(entities, error = "") {
    this.hits = entities;
    this.active = entities.length ? 0 : -1;
    this.list.replaceChildren();
    entities.forEach((e, i) => {
      const li = document.createElement("li");
      li.id = `${this.prefix}-${i}`;
      li.setAttribute("role", "option");
      li.dataset.index = i;
      li.dataset.id = e.id;
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = e.name;
      const meta = document.createElement("span");
      meta.className = "meta";
      meta.textContent = [e.kind, e.country].filter(Boolean).join(" · ");
      li.append(name, meta);
      const alias = (e.aliases || []).find((a) => a.toLowerCase().includes(this.input.value.trim().toLowerCase()) && a !== e.name);
      if (alias) {
        const a = document.createElement("span");
        a.className = "alias";
        a.textContent = alias;
        li.append(a);
      }
      this.list.appendChild(li);
    });
    if (!entities.length) {
      const li = document.createElement("li");
      li.className = "empty";
      li.setAttribute("aria-disabled", "true");
      li.textContent = error ? `Search failed: ${error}` : "Nothing found";
      this.list.appendChild(li);
    }
    this.list.hidden = false;
    this.input.setAttribute("aria-expanded", "true");
    this.mark();
  }

  close() {
    this.list.hidden = true;
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
    this.active = -1;
  }

  mark() {
    [...this.list.children].forEach((li, i) => li.setAttribute("aria-selected", String(i === this.active)));
    if (this.active >= 0) {
      const li = this.list.children[this.active];
      this.input.setAttribute("aria-activedescendant", li.id);
      li.scrollIntoView({ block: "nearest" });
    } else this.input.removeAttribute("aria-activedescendant");
  }

  key(ev) {
    const open = !this.list.hidden && this.hits.length;
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      ev.preventDefault();
      if (!open) return this.lookup();
      const d = ev.key === "ArrowDown" ? 1 : -1;
      this.active = (this.active + d + this.hits.length) % this.hits.length;
      this.mark();
    } else if (ev.key === "Enter") {
      if (open && this.active >= 0) {
        ev.preventDefault();
        this.pick(this.active);
      }
    } else if (ev.key === "Escape") {
      this.close();
    }
  }

  pick(i) {
    const e = this.hits[i];
    if (!e) return;
    this.set(e);
    this.close();
    this.onPick(e);
  }
}
