// api.js: the explorer's only door to the server — GraphQL at /graphql and the saved
// query endpoints under /queries. Nothing here reaches beyond this origin.

/** An error the API answered with; `code` is extensions.code (NOT_FOUND, INVALID_INPUT…). */
export class ApiError extends Error {
  constructor(message, code, field) {
    super(message);
    this.name = "ApiError";
    this.code = code || "";
    this.field = field || "";
  }
}

function firstError(errors) {
  const e = errors[0] || {};
  const ext = e.extensions || {};
  return new ApiError(e.message || "request failed", ext.code, ext.field);
}

const KEY = "lodestone.apiKey";

/**
 * fetch with the API key of this tab, if one was given. A server started with
 * `--auth required` answers 401 without a key: then the page asks for one once, keeps it
 * for the tab's life (sessionStorage, never localStorage) and retries.
 */
async function authorizedFetch(url, init = {}) {
  const send = () => {
    const key = sessionStorage.getItem(KEY);
    const headers = { ...(init.headers || {}) };
    if (key) headers.Authorization = `Bearer ${key}`;
    return fetch(url, { ...init, headers });
  };
  let resp = await send();
  if (resp.status === 401) {
    const key = window.prompt("This server needs an API key (lodestone keys create --role reader). Key:");
    if (key && key.trim()) {
      sessionStorage.setItem(KEY, key.trim());
      resp = await send();
    }
  }
  return resp;
}

/** Runs a GraphQL document and returns its data; throws ApiError on any error. */
export async function gql(query, variables = {}) {
  const resp = await authorizedFetch("/graphql", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  let body;
  try {
    body = await resp.json();
  } catch {
    throw new ApiError(`the server answered ${resp.status} without JSON`, "INTERNAL");
  }
  if (body.errors && body.errors.length) throw firstError(body.errors);
  return body.data;
}

/** The entity fields every view draws with. */
export const ENTITY = "id kind name country validFrom validTo";
/** The relationship fields every view draws with. */
export const RELATIONSHIP = "id type from { id } to { id } share shareMin shareMax validFrom validTo";
/** A subgraph or path: entities and relationships. */
export const GRAPH = `entities { ${ENTITY} } relationships { ${RELATIONSHIP} }`;

/** Entities whose name or aliases match text. */
export async function search(text, first = 10) {
  const d = await gql(`query($t: String!, $n: Int) { search(text: $t, first: $n) { score entity { ${ENTITY} aliases } } }`, { t: text, n: first });
  return d.search;
}

/** Everything about one entity, for the details panel; null when unknown. */
export async function entity(id) {
  const d = await gql(`query($id: ID!) { entity(id: $id) {
    ${ENTITY} aliases identifiers { scheme value } properties
    sources { id title publisher url published } } }`, { id });
  return d.entity;
}

/** One relationship with its sources; null when unknown. */
export async function relationship(id) {
  const d = await gql(`query($id: ID!) { relationship(id: $id) {
    ${RELATIONSHIP} confidence properties from { name } to { name }
    sources { id title publisher url published } } }`, { id });
  return d.relationship;
}

/** subgraph(...) with the usual arguments. */
export async function subgraph(ids, { depth = 1, types = null, direction = "BOTH", limit = 300, asOf = null } = {}) {
  const d = await gql(`query($ids: [ID!]!, $depth: Int, $types: [String!], $dir: Direction, $limit: Int, $asOf: Date) {
    subgraph(ids: $ids, depth: $depth, types: $types, direction: $dir, limit: $limit, asOf: $asOf) { ${GRAPH} truncated } }`,
    { ids, depth, types, dir: direction, limit, asOf });
  return d.subgraph;
}

/** Saved queries by REST: a URL for the run (JSON, or CSV with csv=true). */
export function savedQueryURL(name, params, csv = false) {
  const q = new URLSearchParams(params);
  if (csv) q.set("format", "csv");
  const s = q.toString();
  return `/queries/${encodeURIComponent(name)}${s ? "?" + s : ""}`;
}

/** Runs a saved query by REST and returns its GraphQL response body ({data, errors}). */
export async function runSaved(name, params) {
  const resp = await authorizedFetch(savedQueryURL(name, params), { headers: { Accept: "application/json" } });
  const body = await resp.json().catch(() => ({ errors: [{ message: `the server answered ${resp.status}` }] }));
  if (body.errors && body.errors.length) throw firstError(body.errors);
  return body.data;
}

/** The CSV text of a saved query run. */
export async function runSavedCSV(name, params) {
  const resp = await authorizedFetch(savedQueryURL(name, params, true), { headers: { Accept: "text/csv" } });
  const text = await resp.text();
  if (!resp.ok) {
    let err;
    try { err = firstError(JSON.parse(text).errors || []); } catch { err = new ApiError(`the server answered ${resp.status}`); }
    throw err;
  }
  return text;
}
