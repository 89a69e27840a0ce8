// graphview.js: draws a graph as SVG and lets a person move around it. Ownership edges
// carry their share (label and width), controllers are starred, countries are colours
// with a legend; click selects, double-click (or Enter+E on a focused node) expands,
// dragging the background pans, the wheel zooms. Exports SVG and PNG.

import { layered, force } from "./layout.js";
import { esc } from "./util.js";

const SVGNS = "http://www.w3.org/2000/svg";
const PALETTE = ["#d1495b", "#2e86ab", "#edae49", "#66a182", "#8d6a9f", "#e07a5f", "#3d405b", "#00798c",
  "#a26769", "#6b9080", "#c9a227", "#5c80bc", "#b56576", "#4f772d"];
const NO_COUNTRY = "#9aa0a6";
const EDGE_COLOURS = { OWNS: "#1f3b73", SUPPLIES: "#c8553d", OPERATES: "#6c757d", CONTROLS: "#7b2cbf" };

function el(name, attrs = {}, parent = null) {
  const e = document.createElementNS(SVGNS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

function clip(s, n) {
  return s.length > n ? s.slice(0, n - 1) + "…" : s;
}

/**
 * Short labels of at most n characters for names, distinct where the names are: a name
 * that clips to the same text as another keeps more of its end instead ("China Northern
 * Rare Earth Group" and "… Earth Tech" become "China Northern…Group" and "…Tech").
 */
export function distinctLabels(names, n) {
  const out = names.map((s) => clip(s, n));
  for (let tail = 4; tail < n - 2; tail += 2) {
    const seen = new Map();
    out.forEach((l, i) => seen.set(l, [...(seen.get(l) || []), i]));
    const clash = [...seen.values()].filter((is) => is.length > 1 && new Set(is.map((i) => names[i])).size > 1).flat();
    if (!clash.length) break;
    for (const i of clash) {
      const s = names[i];
      if (s.length > n) out[i] = s.slice(0, n - 1 - tail) + "…" + s.slice(s.length - tail);
    }
  }
  return out;
}

const boxesMeet = (a, b, gap = 1) => a.x < b.x + b.width + gap && b.x < a.x + a.width + gap && a.y < b.y + b.height + gap && b.y < a.y + a.height + gap;

/** A percentage for a share in 0..1: 40 %, 12.5 %. */
export function percent(x) {
  if (x === null || x === undefined) return "";
  const p = Math.round(x * 1000) / 10;
  return `${p}%`;
}

function shareLabel(r) {
  if (r.shareMin !== null && r.shareMin !== undefined && r.shareMax !== null && r.shareMax !== undefined) {
    return `${percent(r.shareMin)}–${percent(r.shareMax)}`;
  }
  return percent(r.share);
}

/**
 * GraphView owns one <svg>. setGraph draws {entities, relationships} with a layout:
 * "ownership" (layered, owners above: OWNS and CONTROLS rank), "supply" (layered, left
 * to right: SUPPLIES ranks, an operator sits just before its facility) or "force".
 * Callbacks: onSelect(id), onSelectEdge(id), onExpand(id).
 */
export class GraphView {
  constructor(svg, legend, { onSelect, onSelectEdge, onExpand } = {}) {
    this.svg = svg;
    this.legend = legend;
    this.onSelect = onSelect || (() => {});
    this.onSelectEdge = onSelectEdge || (() => {});
    this.onExpand = onExpand || (() => {});
    this.view = { x: 0, y: 0, k: 1 };
    this.bounds = { minX: 0, minY: 0, width: 0, height: 0 };
    this.selected = null;
    this.colours = new Map();
    el("defs", {}, svg).innerHTML = Object.entries({ ...EDGE_COLOURS, other: "#adb5bd", hl: "#f77f00" })
      .map(([k, c]) => `<marker id="arrow-${k}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" markerUnits="userSpaceOnUse" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="${c}"/></marker>`)
      .join("");
    this.viewport = el("g", { class: "viewport" }, svg);
    this.bindPanZoom();
  }

  /** Draws a graph. opts: layout, root, controllers (Set), highlight {nodes:Set, edges:Set}. */
  setGraph(graph, opts = {}) {
    this.graph = graph;
    this.opts = { layout: "force", root: null, controllers: new Set(), highlight: { nodes: new Set(), edges: new Set() }, ...opts };
    const ids = graph.entities.map((e) => e.id);
    if (this.opts.root && ids.includes(this.opts.root)) ids.unshift(...ids.splice(ids.indexOf(this.opts.root), 1));
    const edges = graph.relationships.map((r) => ({ from: r.from.id, to: r.to.id, rank: this.ranks(r.type) }));
    const layout = this.opts.layout;
    this.labelSize = 12;
    const t0 = performance.now();
    let res;
    if (layout === "ownership") res = layered(ids, edges, { nodeW: 170, nodeH: 44, layerGap: 80 });
    else if (layout === "supply") res = layered(ids, edges, { horizontal: true, nodeW: 170, nodeH: 44, gap: 14, layerGap: 90 });
    else res = force(ids, edges);
    this.layoutMillis = performance.now() - t0;
    this.pos = res.pos;
    this.bounds = res;
    this.assignColours(graph.entities);
    this.draw();
    this.fit({ readable: true });
    if (layout === "force") {
      // A wide drawing fits only zoomed out: its labels grow to stay 12 px on the
      // screen (fewer of them then fit, and the collision pass hides the rest).
      const size = 12 / Math.min(1, this.view.k);
      for (const t of this.viewport.querySelectorAll(".node-label, .edge-label")) {
        t.setAttribute("font-size", size.toFixed(1));
        t.setAttribute("stroke-width", (3 * size / 12).toFixed(1));
        if (t.classList.contains("node-label")) t.setAttribute("y", 24 + size - 12);
      }
      this.labelSize = size;
    }
    this.placeLabels();
    this.drawLegend();
  }

  /** Empties the drawing (after a failed load: nothing stale stays on screen). */
  clear() {
    this.graph = null;
    this.viewport.replaceChildren();
    this.legend.replaceChildren();
    this.svg.setAttribute("aria-label", "Graph (empty)");
  }

  /**
   * Keeps labels apart: share labels first, then node names by importance (root,
   * selected answer, controllers, then the most connected). Each node name tries below,
   * above, right and left of its node and is hidden (its full name stays on hover) when
   * all four would cover a label already placed or another node.
   */
  placeLabels() {
    const placed = [];
    const free = (b) => !placed.some((p) => boxesMeet(p, b));
    const nodes = [...this.viewport.querySelectorAll(".node")];
    const dots = nodes.map((g) => { const r = g.firstChild.getBBox(); const p = this.pos.get(g.dataset.id); return { x: p.x + r.x, y: p.y + r.y, width: r.width, height: r.height }; });
    const clear = (b) => free(b) && !dots.some((d) => boxesMeet(d, b, 0));
    // Edge labels first, moved along y by up to a line when a node or a label is in the way.
    for (const t of this.viewport.querySelectorAll(".edge-label")) {
      const y0 = Number(t.getAttribute("y"));
      const step = (this.labelSize || 12) * 0.6;
      let ok = false;
      for (const dy of [0, -step, step, -2 * step, 2 * step]) {
        t.setAttribute("y", y0 + dy);
        const b = t.getBBox();
        if (clear(b)) { placed.push(b); ok = true; break; }
      }
      if (!ok) { t.setAttribute("y", y0); t.classList.add("crowded"); }
    }
    if (this.opts.layout !== "force") return;
    const degree = new Map();
    for (const r of this.graph.relationships) for (const id of [r.from.id, r.to.id]) degree.set(id, (degree.get(id) || 0) + 1);
    const weight = (g) => (g.classList.contains("root") ? 1e6 : 0) + (g.classList.contains("hl") ? 1e5 : 0) + (g.classList.contains("controller") ? 1e4 : 0) + (degree.get(g.dataset.id) || 0);
    for (const g of nodes.sort((a, b) => weight(b) - weight(a))) {
      const t = g.querySelector(".node-label");
      const p = this.pos.get(g.dataset.id);
      const self = g.firstChild.getBBox();
      let ok = false;
      const s = this.labelSize || 12;
      for (const [x, y, anchor] of [[0, self.height / 2 + s, "middle"], [0, -self.height / 2 - s / 3, "middle"], [self.width / 2 + 4, s / 3, "start"], [-self.width / 2 - 4, s / 3, "end"]]) {
        t.setAttribute("x", x); t.setAttribute("y", y); t.setAttribute("text-anchor", anchor);
        const r = t.getBBox();
        const b = { x: p.x + r.x, y: p.y + r.y, width: r.width, height: r.height };
        if (clear(b)) { placed.push(b); ok = true; break; }
      }
      if (!ok) t.classList.add("crowded");
    }
  }

  ranks(type) {
    if (this.opts.layout === "ownership") return type === "OWNS" || type === "CONTROLS";
    if (this.opts.layout === "supply") return type === "SUPPLIES";
    return false;
  }

  assignColours(entities) {
    const count = new Map();
    for (const e of entities) if (e.country) count.set(e.country, (count.get(e.country) || 0) + 1);
    // Colours stay with a country across redraws while the palette lasts.
    const byCount = [...count.keys()].sort((a, b) => count.get(b) - count.get(a) || a.localeCompare(b));
    for (const c of byCount) {
      if (!this.colours.has(c)) this.colours.set(c, this.colours.size < PALETTE.length ? PALETTE[this.colours.size] : NO_COUNTRY);
    }
    this.countryCount = count;
  }

  colour(e) {
    return e.country ? this.colours.get(e.country) || NO_COUNTRY : NO_COUNTRY;
  }

  draw() {
    const vp = this.viewport;
    vp.replaceChildren();
    const boxed = this.opts.layout !== "force";
    const W = 170, H = 44;
    const hl = this.opts.highlight;
    const edgeLayer = el("g", { class: "edges" }, vp);
    const labelLayer = el("g", { class: "edge-labels" }, vp);
    const nodeLayer = el("g", { class: "nodes" }, vp);
    const byId = new Map(this.graph.entities.map((e) => [e.id, e]));
    const shortNames = distinctLabels(this.graph.entities.map((e) => e.name), boxed ? 19 : 26);
    const short = new Map(this.graph.entities.map((e, i) => [e.id, shortNames[i]]));
    // Parallel edges between the same two entities fan out.
    const pairCount = new Map();
    for (const r of this.graph.relationships) {
      const a = this.pos.get(r.from.id), b = this.pos.get(r.to.id);
      if (!a || !b || r.from.id === r.to.id) continue;
      const key = [r.from.id, r.to.id].sort().join("|");
      const nth = pairCount.get(key) || 0;
      pairCount.set(key, nth + 1);
      const owns = r.type === "OWNS";
      const isHl = hl.edges.has(r.id);
      const colour = isHl ? "#f77f00" : EDGE_COLOURS[r.type] || "#adb5bd";
      const marker = isHl ? "hl" : EDGE_COLOURS[r.type] ? r.type : "other";
      const width = owns && r.share !== null && r.share !== undefined ? 1.5 + 10 * r.share : r.type === "SUPPLIES" ? 2 : 1.2;
      const [x1, y1, x2, y2] = boxed ? clipBox(a, b, W, H) : clipCircle(a, b, 9);
      const bend = (nth % 2 ? -1 : 1) * Math.ceil(nth / 2) * 44;
      const mx = (x1 + x2) / 2, my = (y1 + y2) / 2;
      const len = Math.hypot(x2 - x1, y2 - y1) || 1;
      const cx = mx + (-(y2 - y1) / len) * bend, cy = my + ((x2 - x1) / len) * bend;
      const p = el("path", {
        d: `M${x1},${y1} Q${cx},${cy} ${x2},${y2}`, fill: "none", stroke: colour, "stroke-width": width.toFixed(2),
        "stroke-opacity": isHl || owns ? 0.9 : 0.6, "marker-end": `url(#arrow-${marker})`,
        class: `edge${isHl ? " hl" : ""}`, "data-id": r.id, "data-type": r.type, "data-from": r.from.id, "data-to": r.to.id,
      }, edgeLayer);
      if (owns && r.share != null) p.setAttribute("data-share", r.share);
      el("title", {}, p).textContent = `${byId.get(r.from.id)?.name || r.from.id} ${r.type} ${byId.get(r.to.id)?.name || r.to.id}${owns ? " " + shareLabel(r) : ""}`;
      p.addEventListener("click", (ev) => { ev.stopPropagation(); this.onSelectEdge(r.id); });
      const label = owns ? shareLabel(r) : boxed && r.type !== "OPERATES" ? r.type.toLowerCase() : "";
      if (label) {
        const lx = (mx + cx) / 2, ly = (my + cy) / 2;
        const t = el("text", { x: lx, y: ly + 4, "text-anchor": "middle", class: `edge-label${owns ? " share" : ""}`, "font-size": 12,
          "font-weight": owns ? 600 : 400, fill: owns ? "#1f3b73" : "#6c757d", stroke: "#fff", "stroke-width": 3, "paint-order": "stroke",
          "data-edge": r.id }, labelLayer);
        t.textContent = label;
      }
    }
    for (const e of this.graph.entities) {
      const p = this.pos.get(e.id);
      if (!p) continue;
      const ctl = this.opts.controllers.has(e.id);
      const isHl = hl.nodes.has(e.id);
      const g = el("g", {
        class: `node${ctl ? " controller" : ""}${isHl ? " hl" : ""}${e.id === this.opts.root ? " root" : ""}`,
        transform: `translate(${p.x.toFixed(1)},${p.y.toFixed(1)})`, "data-id": e.id, "data-x": p.x.toFixed(1), "data-y": p.y.toFixed(1),
        tabindex: 0, role: "button", "aria-label": `${e.name}, ${e.kind}${e.country ? ", " + e.country : ""}${ctl ? ", controller" : ""}. Enter selects, E expands.`,
      }, nodeLayer);
      const fill = this.colour(e);
      const stroke = isHl ? "#f77f00" : ctl ? "#111" : "#fff";
      const sw = isHl || ctl ? 3 : 1.5;
      if (boxed) {
        el("rect", { x: -W / 2, y: -H / 2, width: W, height: H, rx: 7, fill, stroke, "stroke-width": sw }, g);
        const t1 = el("text", { x: 0, y: -4, "text-anchor": "middle", "font-size": 13, "font-weight": 600, fill: "#fff", class: "box-label", "data-full": e.name }, g);
        t1.textContent = (ctl ? "★ " : "") + short.get(e.id);
        const t2 = el("text", { x: 0, y: 14, "text-anchor": "middle", "font-size": 12, fill: "#fff", "fill-opacity": 0.9 }, g);
        t2.textContent = [e.kind, e.country].filter(Boolean).join(" · ");
      } else {
        el("circle", { r: e.id === this.opts.root ? 12 : 9, fill, stroke: isHl ? "#f77f00" : ctl ? "#111" : "#fff", "stroke-width": sw }, g);
        const t = el("text", { x: 0, y: 24, "text-anchor": "middle", "font-size": 12, fill: "#222", stroke: "#fff", "stroke-width": 3, "paint-order": "stroke", class: "node-label", "data-full": e.name }, g);
        t.textContent = (ctl ? "★ " : "") + short.get(e.id);
      }
      // Hover (or focus) shows the whole name above everything else.
      const whole = (ctl ? "★ " : "") + e.name;
      g.addEventListener("mouseenter", () => this.showFull(g, whole));
      g.addEventListener("mouseleave", () => this.showFull(null));
      g.addEventListener("focus", () => this.showFull(g, whole));
      g.addEventListener("blur", () => this.showFull(null));
      el("title", {}, g).textContent = `${e.name} (${e.kind}${e.country ? ", " + e.country : ""})`;
      g.addEventListener("click", (ev) => { ev.stopPropagation(); this.select(e.id); });
      g.addEventListener("dblclick", (ev) => { ev.stopPropagation(); ev.preventDefault(); this.onExpand(e.id); });
      g.addEventListener("keydown", (ev) => {
        if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); this.select(e.id); }
        else if (ev.key === "e" || ev.key === "E") { ev.preventDefault(); this.onExpand(e.id); }
      });
    }
    this.hoverLayer = el("g", { class: "hover-label", "aria-hidden": "true" }, vp);
    if (this.selected) this.markSelected();
    this.svg.setAttribute("aria-label", `Graph of ${this.graph.entities.length} entities and ${this.graph.relationships.length} relationships`);
  }

  /** Writes a node's whole name over the drawing (null clears it); it takes no clicks. */
  showFull(g, text) {
    this.hoverLayer.replaceChildren();
    if (!g) return;
    const p = this.pos.get(g.dataset.id);
    const boxed = this.opts.layout !== "force";
    const s = boxed ? 13 : (this.labelSize || 12) * 1.08;
    el("text", { x: p.x, y: p.y + (boxed ? 36 : 12 + s), "text-anchor": "middle", "font-size": s.toFixed(1), "font-weight": 600, fill: "#111", stroke: "#fff",
      "stroke-width": boxed ? 4 : (4 * s) / 13, "paint-order": "stroke", "data-for": g.dataset.id }, this.hoverLayer).textContent = text;
  }

  /** Marks id as selected and reports it. */
  select(id) {
    this.selected = id;
    this.markSelected();
    this.onSelect(id);
  }

  markSelected() {
    for (const n of this.viewport.querySelectorAll(".node.selected")) n.classList.remove("selected");
    const n = this.viewport.querySelector(`.node[data-id="${CSS.escape(this.selected)}"]`);
    if (n) n.classList.add("selected");
  }

  drawLegend() {
    const items = [...this.countryCount.keys()].sort((a, b) => this.countryCount.get(b) - this.countryCount.get(a) || a.localeCompare(b));
    const parts = items.map((c) => `<li><span class="swatch" data-colour="${this.colours.get(c)}"></span>${esc(c)} <small>(${this.countryCount.get(c)})</small></li>`);
    if (this.graph.entities.some((e) => !e.country)) parts.push(`<li><span class="swatch" data-colour="${NO_COUNTRY}"></span>no country</li>`);
    const types = [...new Set(this.graph.relationships.map((r) => r.type))].sort();
    const edgeParts = types.map((t) => `<li><span class="line" data-colour="${EDGE_COLOURS[t] || "#adb5bd"}"></span>${esc(t)}</li>`);
    const extra = [];
    if (this.opts.controllers.size) extra.push(`<li>★ controls</li>`);
    if (this.opts.highlight.edges.size || this.opts.highlight.nodes.size) extra.push(`<li><span class="line" data-colour="#f77f00"></span>answer</li>`);
    this.legend.innerHTML = `<h3>Countries</h3><ul>${parts.join("")}</ul><h3>Relationships</h3><ul>${edgeParts.join("")}${extra.join("")}</ul>`;
    // Colours through the CSSOM: the page's CSP allows no inline style attributes.
    for (const s of this.legend.querySelectorAll("[data-colour]")) s.style.background = s.dataset.colour;
  }

  // --- pan and zoom ---

  apply() {
    const { x, y, k } = this.view;
    this.viewport.setAttribute("transform", `translate(${x.toFixed(1)},${y.toFixed(1)}) scale(${k.toFixed(4)})`);
    // Zoomed far out, only the labels that matter stay (root, selected, answer, controllers).
    this.svg.classList.toggle("far", k < 0.5);
  }

  /**
   * Fits the drawing into the visible area. readable (a new drawing of boxes) zooms out
   * no further than 100 %, where the boxes' smallest text is 12 px, and centres on the
   * root instead; the Fit button shows everything.
   */
  fit({ readable = false } = {}) {
    const r = this.svg.getBoundingClientRect();
    const w = r.width || 800, h = r.height || 500;
    const pad = 110;
    const b = this.bounds;
    let k = Math.min(1.4, (w - 20) / (b.width + 2 * pad), (h - 20) / (b.height + 2 * pad));
    let cx = b.minX + b.width / 2, cy = b.minY + b.height / 2;
    if (readable && this.opts.layout !== "force" && k < 1) {
      k = 1;
      const root = this.pos.get(this.opts.root);
      if (root) {
        // The root in view, the drawing's edge no further in than its padding.
        const centre = (at, min, size, span) => size + 2 * pad <= span ? min + size / 2 : Math.min(Math.max(at, min - pad + span / 2), min + size + pad - span / 2);
        cx = centre(root.x, b.minX, b.width, w - 20);
        cy = centre(root.y, b.minY, b.height, h - 20);
      }
    }
    this.view = { k, x: w / 2 - cx * k, y: h / 2 - cy * k };
    this.apply();
  }

  /** Zooms by factor around the point (cx, cy) of the svg, its centre by default. */
  zoom(factor, cx, cy) {
    const r = this.svg.getBoundingClientRect();
    if (cx === undefined) { cx = r.width / 2; cy = r.height / 2; }
    const k = Math.max(0.05, Math.min(6, this.view.k * factor));
    const f = k / this.view.k;
    this.view = { k, x: cx - (cx - this.view.x) * f, y: cy - (cy - this.view.y) * f };
    this.apply();
  }

  bindPanZoom() {
    let drag = null;
    this.svg.addEventListener("pointerdown", (ev) => {
      if (ev.button !== 0 || ev.target.closest(".node")) return;
      drag = { x: ev.clientX, y: ev.clientY, vx: this.view.x, vy: this.view.y, id: ev.pointerId };
      this.svg.setPointerCapture(ev.pointerId);
      this.svg.classList.add("panning");
    });
    this.svg.addEventListener("pointermove", (ev) => {
      if (!drag) return;
      this.view.x = drag.vx + ev.clientX - drag.x;
      this.view.y = drag.vy + ev.clientY - drag.y;
      this.apply();
    });
    const end = () => { drag = null; this.svg.classList.remove("panning"); };
    this.svg.addEventListener("pointerup", end);
    this.svg.addEventListener("pointercancel", end);
    this.svg.addEventListener("wheel", (ev) => {
      ev.preventDefault();
      const r = this.svg.getBoundingClientRect();
      this.zoom(Math.exp(-ev.deltaY * 0.0015), ev.clientX - r.left, ev.clientY - r.top);
    }, { passive: false });
  }

  // --- export ---

  /** The drawing as a standalone SVG document (text). */
  svgText() {
    const b = this.bounds;
    const pad = 110;
    const clone = this.svg.cloneNode(true);
    const w = Math.ceil(b.width + 2 * pad), h = Math.ceil(b.height + 2 * pad);
    clone.setAttribute("xmlns", SVGNS);
    clone.setAttribute("viewBox", `${b.minX - pad} ${b.minY - pad} ${w} ${h}`);
    clone.setAttribute("width", w);
    clone.setAttribute("height", h);
    clone.removeAttribute("class");
    clone.removeAttribute("id");
    clone.querySelector(".viewport").removeAttribute("transform");
    const style = document.createElementNS(SVGNS, "style");
    style.textContent = "text{font-family:system-ui,-apple-system,'Segoe UI',sans-serif}";
    clone.insertBefore(style, clone.firstChild);
    const bg = el("rect", { x: b.minX - pad, y: b.minY - pad, width: w, height: h, fill: "#fff" });
    clone.insertBefore(bg, clone.querySelector(".viewport"));
    return new XMLSerializer().serializeToString(clone);
  }

  /** The drawing as a PNG blob (twice the SVG's size, at most 8,000 px a side). */
  async pngBlob() {
    const text = this.svgText();
    const url = URL.createObjectURL(new Blob([text], { type: "image/svg+xml" }));
    try {
      const img = new Image();
      await new Promise((ok, fail) => { img.onload = ok; img.onerror = () => fail(new Error("the SVG did not load as an image")); img.src = url; });
      const scale = Math.min(2, 8000 / Math.max(img.width, img.height));
      const canvas = document.createElement("canvas");
      canvas.width = Math.round(img.width * scale);
      canvas.height = Math.round(img.height * scale);
      const ctx = canvas.getContext("2d");
      ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
      return await new Promise((ok) => canvas.toBlob(ok, "image/png"));
    } finally {
      URL.revokeObjectURL(url);
    }
  }
}

// clipBox ends an edge at the borders of the two boxes it joins.
function clipBox(a, b, W, H) {
  const cut = (p, q) => {
    const dx = q.x - p.x, dy = q.y - p.y;
    if (!dx && !dy) return [p.x, p.y];
    const t = Math.min(dx ? W / 2 / Math.abs(dx) : Infinity, dy ? H / 2 / Math.abs(dy) : Infinity);
    return [p.x + dx * t, p.y + dy * t];
  };
  return [...cut(a, b), ...cut(b, a)];
}

function clipCircle(a, b, r) {
  const dx = b.x - a.x, dy = b.y - a.y;
  const d = Math.hypot(dx, dy) || 1;
  return [a.x + (dx / d) * r, a.y + (dy / d) * r, b.x - (dx / d) * (r + 2), b.y - (dy / d) * (r + 2)];
}
