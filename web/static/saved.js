// saved.js: the saved queries — a list, a parameter form made from each query's
// declared variables, the result as a table (the server's own CSV flattening) with the
// CSV to download, and the entities of the result drawn in the graph.

import { gql, runSaved, runSavedCSV } from "./api.js";
import { among, entityIds, layoutFor } from "./views.js";
import { parseCSV, say, table } from "./util.js";

const ENUMS = { SupplyDirection: ["UPSTREAM", "DOWNSTREAM"], Direction: ["OUT", "IN", "BOTH"] };

function baseType(t) {
  return t.replace(/[!\[\]]/g, "");
}

// field builds the input of one parameter.
function field(p) {
  const id = `param-${p.name}`;
  const list = p.type.startsWith("[");
  const base = baseType(p.type);
  let input;
  if (!list && ENUMS[base]) {
    input = document.createElement("select");
    for (const v of ["", ...ENUMS[base]]) input.add(new Option(v || "(default)", v));
  } else if (!list && base === "Boolean") {
    input = document.createElement("select");
    for (const v of ["", "true", "false"]) input.add(new Option(v || "(default)", v));
  } else {
    input = document.createElement("input");
    input.type = list ? "text" : base === "Int" || base === "Float" ? "number" : base === "Date" ? "date" : "text";
    if (base === "Int") input.step = "1";
    if (base === "Float") input.step = "any";
  }
  input.id = id;
  input.name = p.name;
  input.dataset.type = p.type;
  input.required = p.required;
  const d = p.default;
  if (d !== null && d !== undefined) input.value = Array.isArray(d) ? d.join(",") : String(d);
  const label = document.createElement("label");
  label.htmlFor = id;
  label.textContent = p.name;
  const help = document.createElement("small");
  help.id = `${id}-help`;
  help.textContent = `${p.type}${p.required ? ", required" : ""}${list ? ", comma-separated" : ""}`;
  input.setAttribute("aria-describedby", help.id);
  return [label, input, help];
}

/** Wires the saved-queries panel; show(view) draws a view, asOf() is the page's date. */
export function initSaved(show, asOf) {
  const select = document.getElementById("saved-select");
  const desc = document.getElementById("saved-description");
  const params = document.getElementById("saved-params");
  const form = document.getElementById("saved-form");
  const status = document.getElementById("saved-status");
  const csvLink = document.getElementById("saved-csv");
  const out = document.getElementById("saved-table");
  let queries = [];
  let loaded = null;

  const choose = () => {
    const q = queries.find((x) => x.name === select.value);
    params.replaceChildren();
    out.replaceChildren();
    csvLink.hidden = true;
    say(status, "");
    desc.textContent = q ? q.description || "" : "";
    form.hidden = !q;
    if (q) for (const p of q.parameters) params.append(...field(p));
  };

  async function load() {
    if (loaded) return loaded;
    loaded = gql(`{ savedQueries { name description tags parameters { name type required default } } }`).then((d) => {
      queries = d.savedQueries;
      select.replaceChildren(new Option(queries.length ? "Choose a saved query…" : "No saved queries", ""));
      for (const q of queries) select.add(new Option(q.name, q.name));
      choose();
    }).catch((err) => { loaded = null; say(status, `Could not list the saved queries: ${err.message}`, "error"); });
    return loaded;
  }

  select.addEventListener("change", choose);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const name = select.value;
    if (!name) return;
    const values = {};
    for (const input of params.querySelectorAll("input, select")) {
      let v = input.value.trim();
      if (!v && baseType(input.dataset.type) === "Date" && input.name === "asOf" && asOf()) v = asOf();
      if (v) values[input.name] = v;
    }
    say(status, `Running ${name}…`);
    out.replaceChildren();
    csvLink.hidden = true;
    try {
      const [data, csv] = await Promise.all([runSaved(name, values), runSavedCSV(name, values)]);
      const rows = parseCSV(csv);
      out.replaceChildren(table(rows, `${name}: ${Math.max(0, rows.length - 1)} row${rows.length === 2 ? "" : "s"}`));
      // The CSV already fetched (with the tab's API key, if any) is what the link saves.
      if (csvLink.href.startsWith("blob:")) URL.revokeObjectURL(csvLink.href);
      csvLink.href = URL.createObjectURL(new Blob([csv], { type: "text/csv" }));
      csvLink.download = `${name}.csv`;
      csvLink.hidden = false;
      // The entities of the result, and those its ID parameters name (the company asked about).
      const ids = entityIds(data);
      for (const input of params.querySelectorAll("input")) {
        if (baseType(input.dataset.type) === "ID" && values[input.name]) for (const v of values[input.name].split(",")) ids.add(v.trim());
      }
      say(status, `${Math.max(0, rows.length - 1)} rows${ids.size ? `, ${ids.size} entities drawn` : ""}.`);
      if (ids.size) {
        show({
          title: `Saved query ${name}`, layout: "force", root: null, expanded: [],
          async load(date) {
            const g = await among(ids, date);
            return { ...g, layout: layoutFor(g.relationships), controllers: new Set(), highlight: { nodes: new Set(), edges: new Set() } };
          },
        });
      }
    } catch (err) {
      say(status, err.field ? `${err.field}: ${err.message}` : err.message, "error");
    }
  });
  return { load };
}
