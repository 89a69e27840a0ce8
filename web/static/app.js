// app.js: the explorer page. Wires search, the graph, the details panel, the Ask
// forms and the saved queries together; keeps what is on screen as a view (views.js)
// so that the as-of date, the depth and expanding a node redraw it.

import * as api from "./api.js";
import { GraphView } from "./graphview.js";
import { EntityPicker } from "./picker.js";
import { renderEntity, renderRelationship } from "./entity.js";
import { initAsk } from "./ask.js";
import { initSaved } from "./saved.js";
import * as views from "./views.js";
import { download, say } from "./util.js";

const $ = (id) => document.getElementById(id);
const DEPTHS = { neighbourhood: 1, ownership: 3, supply: 4 };

const state = { view: null, entity: null, seq: 0, opening: 0 };
/** What the page opens on: the joint venture's ownership (seed/magnets.jsonl). */
const LANDING = { id: "northern-zhaobao-magnets", view: "ownership" };
const status = $("graph-status");
const asOf = () => $("asof").value || null;

const graph = new GraphView($("graph"), $("legend"), {
  onSelect: (id) => openEntity(id, { draw: false }),
  onSelectEdge: (id) => openRelationship(id),
  onExpand: (id) => expand(id),
});

/** Draws a view as of the page's date; a newer call wins over an older one. */
async function show(view) {
  state.view = view;
  const seq = ++state.seq;
  // View and depth belong to an entity's views; answers and saved queries have their own.
  $("view-mode").disabled = $("depth").disabled = !view.entityView;
  $("graph-title").textContent = view.title;
  say(status, "Loading…");
  try {
    const g = await view.load(asOf());
    if (seq !== state.seq) return;
    graph.setGraph(g, { layout: g.layout || view.layout, root: view.root, controllers: g.controllers, highlight: g.highlight });
    $("truncated").hidden = !g.truncated;
    const date = asOf() ? `as of ${asOf()}` : "as of today";
    say(status, `${g.entities.length} entities, ${g.relationships.length} relationships, ${date}.`);
    $("graph").dataset.layoutMillis = graph.layoutMillis.toFixed(1);
    $("graph").dataset.title = view.title; // what is drawn now (the heading says what is asked)
  } catch (err) {
    if (seq !== state.seq) return;
    // Nothing stale stays under the title: the drawing goes, the title says what failed.
    graph.clear();
    $("truncated").hidden = true;
    $("graph-title").textContent = `Could not draw ${view.title}`;
    delete $("graph").dataset.title;
    say(status, `Could not draw ${view.title}: ${err.message}`, "error");
  }
}

/** The view of the selected entity in the chosen mode and depth. */
function entityView(expanded = []) {
  const e = state.entity;
  const mode = $("view-mode").value;
  const depth = Math.max(1, Math.min(8, Number($("depth").value) || DEPTHS[mode]));
  return { ...views[mode](e.id, e.name, depth, expanded), entityView: true };
}

/**
 * Opens an entity in the details panel; draw=true also draws its neighbourhood (or
 * another view: draw="ownership"). A newer call wins over an older one.
 */
async function openEntity(id, { draw = true } = {}) {
  selectTab("tab-entity");
  const panel = $("entity");
  const seq = ++state.opening;
  try {
    const e = await api.entity(id);
    if (seq !== state.opening) return;
    if (!e) return say(panel, `No entity ${id}.`, "error");
    state.entity = e;
    renderEntity(panel, e);
    history.replaceState(null, "", `#entity=${encodeURIComponent(e.id)}`); // a link to share; fires no hashchange
    for (const k of ["target", "ownersOf", "expOf"]) ask[k].set(e); // the Ask forms start from the entity in view
    if (draw) {
      const mode = typeof draw === "string" ? draw : "neighbourhood";
      $("view-mode").value = mode;
      $("depth").value = DEPTHS[mode];
      await show(entityView());
    }
  } catch (err) {
    say(panel, `Could not open ${id}: ${err.message}`, "error");
  }
}

async function openRelationship(id) {
  selectTab("tab-entity");
  try {
    const r = await api.relationship(id);
    if (r) renderRelationship($("entity"), r);
  } catch (err) {
    say($("entity"), `Could not open ${id}: ${err.message}`, "error");
  }
}

function expand(id) {
  const v = state.view;
  if (!v) return;
  if (!v.expanded.includes(id)) v.expanded.push(id);
  show(v);
}

// --- search: the box empties once an entity opens, ready for the next ---
const search = new EntityPicker($("search"), $("search-list"), (e) => {
  search.set(null);
  openEntity(e.id);
});

// --- example starting points ---
$("examples").addEventListener("click", (ev) => {
  const b = ev.target.closest("button[data-entity]");
  if (b) openEntity(b.dataset.entity, { draw: b.dataset.view || true });
});

// --- the details panel's buttons ---
$("entity").addEventListener("click", (ev) => {
  const b = ev.target.closest("button");
  if (!b) return;
  if (b.dataset.view && state.entity) {
    $("view-mode").value = b.dataset.view;
    $("depth").value = DEPTHS[b.dataset.view];
    show(entityView());
  } else if (b.dataset.open) openEntity(b.dataset.open);
});

// --- toolbar ---
$("view-mode").addEventListener("change", () => {
  $("depth").value = DEPTHS[$("view-mode").value];
  if (state.entity) show(entityView());
});
$("depth").addEventListener("change", () => state.entity && show(entityView()));
$("asof").addEventListener("change", () => state.view && show(state.view));
$("asof-today").addEventListener("click", () => {
  $("asof").value = "";
  if (state.view) show(state.view);
});
$("zoom-in").addEventListener("click", () => graph.zoom(1.25));
$("zoom-out").addEventListener("click", () => graph.zoom(0.8));
$("zoom-fit").addEventListener("click", () => graph.fit());
$("export-svg").addEventListener("click", () => graph.graph && download(new Blob([graph.svgText()], { type: "image/svg+xml" }), "lodestone-graph.svg"));
$("export-png").addEventListener("click", async () => {
  if (!graph.graph) return;
  try {
    download(await graph.pngBlob(), "lodestone-graph.png");
  } catch (err) {
    say(status, `PNG export failed: ${err.message}`, "error");
  }
});
window.addEventListener("resize", () => graph.graph && graph.fit());

// --- tabs (WAI-ARIA tabs: arrows move between them) ---
const tabs = [...document.querySelectorAll("[role=tab]")];
function selectTab(id) {
  for (const t of tabs) {
    const on = t.id === id;
    t.setAttribute("aria-selected", String(on));
    t.tabIndex = on ? 0 : -1;
    $(t.getAttribute("aria-controls")).hidden = !on;
  }
  if (id === "tab-saved") saved.load();
}
for (const t of tabs) {
  t.addEventListener("click", () => selectTab(t.id));
  t.addEventListener("keydown", (ev) => {
    const d = ev.key === "ArrowRight" ? 1 : ev.key === "ArrowLeft" ? -1 : 0;
    if (!d) return;
    const next = tabs[(tabs.indexOf(t) + d + tabs.length) % tabs.length];
    selectTab(next.id);
    next.focus();
  });
}

const ask = initAsk(show);
const saved = initSaved(show, asOf);

// A link may name an entity to open: /#entity=northern-zhaobao-magnets
function fromHash() {
  const id = new URLSearchParams(location.hash.slice(1)).get("entity");
  if (id && id !== state.entity?.id) openEntity(id);
  return !!id;
}
window.addEventListener("hashchange", fromHash);
// Without one, the page opens on an example rather than an empty canvas.
if (!fromHash()) openEntity(LANDING.id, { draw: LANDING.view });
document.body.dataset.ready = "true";
