// ask.js: the ownership and exposure questions as forms. Each answer is a view (see
// views.js): its numbers go into the form, its paths are drawn highlighted, and the
// as-of picker asks again.

import { gql, GRAPH, ENTITY } from "./api.js";
import { EntityPicker } from "./picker.js";
import { percent } from "./graphview.js";
import { among, merge, pathsGraph } from "./views.js";
import { esc } from "./util.js";

function picker(id) {
  return new EntityPicker(document.getElementById(id), document.getElementById(`${id}-list`));
}

function need(p, label) {
  if (!p.value) throw new Error(`Pick the ${label} from the list of matches.`);
  return p.value;
}

function range(s) {
  return s.integratedMin !== s.integratedMax ? ` (${percent(s.integratedMin)}–${percent(s.integratedMax)})` : "";
}

/**
 * Wires the Ask forms. show(view) draws a view; pickers of the forms are returned so
 * that the app can prefill them with the entity in the panel.
 */
export function initAsk(show) {
  const p = {
    owner: picker("own-owner"), target: picker("own-target"), ownersOf: picker("owners-of"),
    expOf: picker("exp-of"), from: picker("paths-from"), to: picker("paths-to"),
  };
  const bind = (formId, make) => {
    const form = document.getElementById(formId);
    const answer = form.querySelector(".answer");
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      answer.classList.remove("error");
      try {
        show(make(answer));
      } catch (err) {
        answer.textContent = err.message;
        answer.classList.add("error");
      }
    });
  };

  bind("ask-ownership", (answer) => {
    const owner = need(p.owner, "owner"), target = need(p.target, "target");
    return {
      title: `Share of ${p.target.input.value} held by ${p.owner.input.value}`, layout: "ownership", root: target, expanded: [],
      async load(asOf) {
        const d = await gql(`query($o: ID!, $t: ID!, $asOf: Date) { ownership(owner: $o, target: $t, asOf: $asOf) {
          direct integrated integratedMin integratedMax controls paths { ${GRAPH} share } } }`, { o: owner, t: target, asOf });
        const o = d.ownership;
        answer.innerHTML = `<div>Integrated <span class="big" data-answer="integrated">${percent(o.integrated)}</span>${esc(range(o))}</div>
          <div>Direct <strong data-answer="direct">${percent(o.direct)}</strong> · ${o.controls ? "<strong>controls</strong>" : "does not control"} · ${o.paths.length} path${o.paths.length === 1 ? "" : "s"}</div>`;
        return pathsGraph(o.paths, o.paths.length ? null : await among([owner, target], asOf));
      },
    };
  });

  bind("ask-owners", (answer) => {
    const of = need(p.ownersOf, "company");
    const th = Number(document.getElementById("owners-threshold").value || 0) / 100;
    return {
      title: `Owners of ${p.ownersOf.input.value} at or above ${percent(th)}`, layout: "ownership", root: of, expanded: [],
      async load(asOf) {
        const d = await gql(`query($of: ID!, $th: Float, $asOf: Date) {
          owners(of: $of, threshold: $th, asOf: $asOf) { entity { ${ENTITY} } direct integrated integratedMin integratedMax controls depth }
          beneficialOwners(of: $of, threshold: $th, asOf: $asOf) { entity { id name } integrated }
          ultimateController(of: $of, asOf: $asOf) { controller { id name } share paths { ${GRAPH} } }
          up: subgraph(ids: [$of], depth: 10, types: ["OWNS"], direction: IN, limit: 300, asOf: $asOf) { ${GRAPH} truncated } }`, { of, th, asOf });
        const rows = d.owners.map((s) => `<tr data-owner="${esc(s.entity.id)}"><td>${esc(s.entity.name)}</td><td>${percent(s.direct)}</td><td>${percent(s.integrated)}${esc(range(s))}</td><td>${s.controls ? "yes" : ""}</td></tr>`);
        const uc = d.ultimateController;
        answer.innerHTML = `<div>${d.owners.length} owner${d.owners.length === 1 ? "" : "s"} · ultimate controller: <strong>${uc ? `${esc(uc.controller.name)} (${percent(uc.share)})` : "nobody"}</strong></div>
          <div>Beneficial owners: ${d.beneficialOwners.map((b) => `${esc(b.entity.name)} ${percent(b.integrated)}`).join(", ") || "none at this threshold"}</div>
          ${rows.length ? `<table><thead><tr><th scope="col">Owner</th><th scope="col">Direct</th><th scope="col">Integrated</th><th scope="col">Controls</th></tr></thead><tbody>${rows.join("")}</tbody></table>` : ""}`;
        const g = pathsGraph(uc ? uc.paths : [], d.up);
        for (const s of d.owners) {
          g.highlight.nodes.add(s.entity.id);
          if (s.controls) g.controllers.add(s.entity.id);
        }
        if (uc) g.controllers.add(uc.controller.id);
        return g;
      },
    };
  });

  bind("ask-exposure", (answer) => {
    const of = need(p.expOf, "company");
    const country = document.getElementById("exp-country").value.trim().toUpperCase();
    const direction = document.getElementById("exp-direction").value;
    return {
      title: `Exposure of ${p.expOf.input.value} to ${country} (${direction.toLowerCase()})`, layout: "supply", root: of, expanded: [],
      async load(asOf) {
        const d = await gql(`query($of: ID!, $c: String!, $dir: SupplyDirection, $asOf: Date) {
          exposure(of: $of, country: $c, direction: $dir, asOf: $asOf) { share entities { id name } paths { ${GRAPH} } } }`, { of, c: country, dir: direction, asOf });
        const x = d.exposure;
        answer.innerHTML = `<div><span class="big" data-answer="exposure">${percent(x.share)}</span> of the ${direction === "UPSTREAM" ? "supply" : "output"} runs through ${esc(country)}</div>
          <div>${x.entities.length ? "Through: " + x.entities.map((e) => esc(e.name)).join(", ") : "No entity there carries any of it."}</div>`;
        return pathsGraph(x.paths, x.paths.length ? null : await among([of], asOf));
      },
    };
  });

  bind("ask-paths", (answer) => {
    const from = need(p.from, "start"), to = need(p.to, "end");
    const avoid = document.getElementById("paths-avoid").value.split(",").map((s) => s.trim().toUpperCase()).filter(Boolean);
    return {
      title: `Supply paths avoiding ${avoid.join(", ") || "no country"}`, layout: "supply", root: from, expanded: [],
      async load(asOf) {
        const d = await gql(`query($f: ID!, $t: ID!, $avoid: [String!], $asOf: Date) {
          supplyPaths(from: $f, to: $t, avoidCountries: $avoid, asOf: $asOf) { length ${GRAPH} } }`, { f: from, t: to, avoid, asOf });
        const ps = d.supplyPaths;
        answer.innerHTML = ps.length
          ? `<div><span class="big" data-answer="paths">${ps.length}</span> path${ps.length === 1 ? "" : "s"}, shortest ${ps[0].length} step${ps[0].length === 1 ? "" : "s"}</div>
             <ol>${ps.map((x) => `<li>${x.entities.map((e) => esc(e.name)).join(" → ")}</li>`).join("")}</ol>`
          : `<div><span class="big" data-answer="paths">0</span> paths: every route runs through ${esc(avoid.join(", "))}.</div>`;
        return pathsGraph(ps, ps.length ? null : merge(await among([from, to], asOf)));
      },
    };
  });
  return p;
}
