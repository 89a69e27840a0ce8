// views.js: what the graph shows. A view is {title, layout, load(asOf)}: load asks the
// server for the graph as it stood on asOf (today when null) and returns
// {entities, relationships, truncated, controllers, highlight}. Keeping views as
// loaders lets the as-of picker redraw whatever is on screen.

import { gql, GRAPH, subgraph } from "./api.js";

/** Merges graphs, each entity and relationship once; truncated when any part was. */
export function merge(...parts) {
  const ents = new Map(), rels = new Map();
  let truncated = false;
  for (const p of parts) {
    if (!p) continue;
    for (const e of p.entities || []) if (!ents.has(e.id)) ents.set(e.id, e);
    for (const r of p.relationships || []) if (!rels.has(r.id)) rels.set(r.id, r);
    truncated ||= !!p.truncated;
  }
  // Only relationships whose two ends are drawn.
  const relationships = [...rels.values()].filter((r) => ents.has(r.from.id) && ents.has(r.to.id));
  return { entities: [...ents.values()], relationships, truncated };
}

/** The entities of expanded nodes' neighbourhoods, as of asOf. */
async function expansions(ids, asOf) {
  if (!ids.length) return null;
  return subgraph(ids, { depth: 1, limit: 300, asOf });
}

function emptyMarks() {
  return { controllers: new Set(), highlight: { nodes: new Set(), edges: new Set() } };
}

/** The neighbourhood of root within depth hops, any type, force-directed. */
export function neighbourhood(root, name, depth, expanded = []) {
  return {
    title: `Neighbourhood of ${name} (${depth} hop${depth > 1 ? "s" : ""})`, layout: "force", root, expanded,
    async load(asOf) {
      const [g, x] = await Promise.all([subgraph([root], { depth, limit: 300, asOf }), expansions(expanded, asOf)]);
      return { ...merge(g, x), ...emptyMarks() };
    },
  };
}

/** Owners above root and holdings below it over OWNS, controllers starred. */
export function ownership(root, name, depth, expanded = []) {
  return {
    title: `Ownership of ${name}`, layout: "ownership", root, expanded,
    async load(asOf) {
      const q = `query($id: ID!, $d: Int, $asOf: Date) {
        up: subgraph(ids: [$id], depth: $d, types: ["OWNS"], direction: IN, limit: 300, asOf: $asOf) { ${GRAPH} truncated }
        down: subgraph(ids: [$id], depth: $d, types: ["OWNS"], direction: OUT, limit: 300, asOf: $asOf) { ${GRAPH} truncated }
        owners(of: $id, maxDepth: $d, asOf: $asOf) { entity { id } controls }
        ultimateController(of: $id, asOf: $asOf) { controller { id } }
      }`;
      const [d, x] = await Promise.all([gql(q, { id: root, d: depth, asOf }), expansions(expanded, asOf)]);
      const marks = emptyMarks();
      for (const s of d.owners) if (s.controls) marks.controllers.add(s.entity.id);
      if (d.ultimateController) marks.controllers.add(d.ultimateController.controller.id);
      return { ...merge(d.up, d.down, x), ...marks };
    },
  };
}

/** Root's suppliers (upstream) and customers (downstream), by stage left to right. */
export function supply(root, name, depth, expanded = []) {
  return {
    title: `Supply chain of ${name}`, layout: "supply", root, expanded,
    async load(asOf) {
      const q = `query($id: ID!, $d: Int, $asOf: Date) {
        up: supplyChain(of: $id, direction: UPSTREAM, maxDepth: $d, asOf: $asOf) { ${GRAPH} truncated }
        down: supplyChain(of: $id, direction: DOWNSTREAM, maxDepth: $d, asOf: $asOf) { ${GRAPH} truncated }
      }`;
      const [d, x] = await Promise.all([gql(q, { id: root, d: depth, asOf }), expansions(expanded, asOf)]);
      return { ...merge(d.up, d.down, x), ...emptyMarks() };
    },
  };
}

/** The layout that suits a graph: layered by OWNS or SUPPLIES when they dominate. */
export function layoutFor(relationships) {
  const n = relationships.length || 1;
  const owns = relationships.filter((r) => r.type === "OWNS").length;
  const sup = relationships.filter((r) => r.type === "SUPPLIES" || r.type === "OPERATES").length;
  if (owns / n >= 0.6) return "ownership";
  if (sup / n >= 0.6) return "supply";
  return "force";
}

/**
 * Paths drawn together (ownership or supply paths), every step highlighted; extra is
 * merged in unhighlighted.
 */
export function pathsGraph(paths, extra = null) {
  const marks = emptyMarks();
  for (const p of paths) {
    for (const e of p.entities) marks.highlight.nodes.add(e.id);
    for (const r of p.relationships) marks.highlight.edges.add(r.id);
  }
  return { ...merge(...paths, extra), ...marks };
}

/** Entities named in any JSON value: objects with a string id and name. */
export function entityIds(value, out = new Set()) {
  if (Array.isArray(value)) value.forEach((v) => entityIds(v, out));
  else if (value && typeof value === "object") {
    if (typeof value.id === "string" && typeof value.name === "string") out.add(value.id);
    Object.values(value).forEach((v) => entityIds(v, out));
  }
  return out;
}

/**
 * The entities ids (at most 300) and the relationships among them: their one-hop
 * neighbourhood (up to 2,000 entities, so that the relationships among them are found)
 * cut back to the ids.
 */
export async function among(ids, asOf) {
  const list = [...ids];
  const keep = new Set(list.slice(0, 300));
  const g = await subgraph([...keep], { depth: 1, limit: 2000, asOf });
  const entities = g.entities.filter((e) => keep.has(e.id));
  const relationships = g.relationships.filter((r) => keep.has(r.from.id) && keep.has(r.to.id));
  return { entities, relationships, truncated: list.length > 300 };
}
