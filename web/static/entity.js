// entity.js: the details panel — an entity's properties, identifiers, validity and
// sources (linked), or a relationship's.

import { percent } from "./graphview.js";
import { esc } from "./util.js";

function validity(from, to) {
  if (!from && !to) return "always (no dates recorded)";
  return `${from ? "from " + from : "since always"}${to ? ", until the day before " + to : ", still holds"}`;
}

/** A property value for people: 100,000,000 for numbers, key: value lists for objects. */
export function value(v) {
  if (v === null || v === undefined) return "";
  // Thousands separated from 10,000 up: 100,000,000, but a year stays 1961.
  if (typeof v === "number") return esc(v.toLocaleString("en-US", { maximumFractionDigits: 6, useGrouping: Math.abs(v) >= 10000 }));
  if (typeof v === "boolean") return v ? "yes" : "no";
  if (Array.isArray(v)) {
    if (v.every((x) => x === null || typeof x !== "object")) return v.map(value).join(", ");
    return `<ol class="value-list">${v.map((x) => `<li>${value(x)}</li>`).join("")}</ol>`;
  }
  if (typeof v === "object") {
    return `<ul class="value-object">${Object.entries(v).map(([k, x]) => `<li><span class="key">${esc(k)}:</span> ${value(x)}</li>`).join("")}</ul>`;
  }
  return esc(v);
}

function sources(list) {
  if (!list.length) return `<p class="muted">No sources recorded.</p>`;
  const items = list.map((s) => {
    // Only web addresses become links: a javascript: or data: URL in the data stays text.
    const title = s.url && /^https?:\/\//i.test(s.url) ? `<a href="${esc(s.url)}" target="_blank" rel="noopener noreferrer">${esc(s.title)}</a>` : esc(s.title);
    const meta = [s.publisher, s.published].filter(Boolean).map(esc).join(", ");
    return `<li data-source="${esc(s.id)}">${title}${meta ? ` — <span class="muted">${meta}</span>` : ""}</li>`;
  });
  return `<ul class="sources">${items.join("")}</ul>`;
}

/** Renders an entity into node; the view buttons carry data-view. */
export function renderEntity(node, e) {
  const ids = e.identifiers.length
    ? `<table><caption class="visually-hidden">Identifiers</caption><thead><tr><th scope="col">Scheme</th><th scope="col">Value</th></tr></thead><tbody>${e.identifiers.map((i) => `<tr><td>${esc(i.scheme)}</td><td>${esc(i.value)}</td></tr>`).join("")}</tbody></table>`
    : `<p class="muted">None.</p>`;
  const props = e.properties && Object.keys(e.properties).length
    ? `<dl class="props">${Object.entries(e.properties).map(([k, v]) => `<dt>${esc(k)}</dt><dd>${value(v)}</dd>`).join("")}</dl>`
    : `<p class="muted">None.</p>`;
  node.innerHTML = `
    <h2 id="entity-name" data-id="${esc(e.id)}">${esc(e.name)}</h2>
    <p class="muted">${esc(e.kind)}${e.country ? " · " + esc(e.country) : ""} · <code>${esc(e.id)}</code></p>
    <div class="actions" role="group" aria-label="Draw this entity">
      <button type="button" data-view="neighbourhood">Neighbourhood</button>
      <button type="button" data-view="ownership">Ownership</button>
      <button type="button" data-view="supply">Supply chain</button>
    </div>
    ${e.aliases.length ? `<h3>Also known as</h3><p class="aliases">${e.aliases.map(esc).join(" · ")}</p>` : ""}
    <h3>Valid</h3><p class="validity">${esc(validity(e.validFrom, e.validTo))}</p>
    <h3>Identifiers</h3><div class="identifiers">${ids}</div>
    <h3>Properties</h3>${props}
    <h3>Sources</h3>${sources(e.sources)}`;
}

/** Renders a relationship into node. */
export function renderRelationship(node, r) {
  const share = r.shareMin != null && r.shareMax != null ? `${percent(r.shareMin)}–${percent(r.shareMax)} (midpoint ${percent(r.share)})` : r.share != null ? percent(r.share) : "";
  node.innerHTML = `
    <h2 id="entity-name">${esc(r.from.name)} <span class="muted">${esc(r.type)}</span> ${esc(r.to.name)}</h2>
    <p class="muted"><code>${esc(r.id)}</code></p>
    <dl class="props">
      ${share ? `<dt>Share</dt><dd>${esc(share)}</dd>` : ""}
      <dt>Valid</dt><dd>${esc(validity(r.validFrom, r.validTo))}</dd>
      ${r.confidence != null ? `<dt>Confidence</dt><dd>${esc(r.confidence)}</dd>` : ""}
      ${r.properties ? Object.entries(r.properties).map(([k, v]) => `<dt>${esc(k)}</dt><dd>${value(v)}</dd>`).join("") : ""}
    </dl>
    <div class="actions"><button type="button" data-open="${esc(r.from.id)}">Open ${esc(r.from.name)}</button><button type="button" data-open="${esc(r.to.id)}">Open ${esc(r.to.name)}</button></div>
    <h3>Sources</h3>${sources(r.sources)}`;
}
