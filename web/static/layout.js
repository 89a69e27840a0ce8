// layout.js: where nodes go. Pure functions of ids and edges, no DOM: a layered
// (Sugiyama-style) layout for hierarchies — ownership top to bottom, supply left to
// right — and a force-directed one for neighbourhoods. Positions are node centres.

/**
 * Layered layout. `edges` are {from, to, rank} where rank=true edges set the layers
 * (from above/left of to); the others only pull the order. Cycles (cross-holdings) are
 * broken by ignoring the edges that close them. Wide layers wrap onto several rows.
 * Options: horizontal (layers left to right), nodeW, nodeH, gap, layerGap, maxPerRow.
 * Returns {pos: Map id → {x, y, layer}, width, height}.
 */
export function layered(ids, edges, opts = {}) {
  const o = { horizontal: false, nodeW: 160, nodeH: 40, gap: 18, layerGap: 70, maxPerRow: 12, ...opts };
  const idx = new Map(ids.map((id, i) => [id, i]));
  const es = edges.filter((e) => idx.has(e.from) && idx.has(e.to) && e.from !== e.to);
  const rankEdges = acyclic(ids, es.filter((e) => e.rank));
  const layer = ranks(ids, rankEdges, es);

  // Layers, first in the order given, then by barycentre sweeps.
  const nLayers = Math.max(0, ...layer.values()) + 1;
  const rows = Array.from({ length: nLayers }, () => []);
  for (const id of ids) rows[layer.get(id)].push(id);
  const nbrs = new Map(ids.map((id) => [id, []]));
  for (const e of es) {
    nbrs.get(e.from).push(e.to);
    nbrs.get(e.to).push(e.from);
  }
  const order = new Map();
  const renumber = () => rows.forEach((r) => r.forEach((id, i) => order.set(id, i / Math.max(1, r.length - 1))));
  renumber();
  for (let sweep = 0; sweep < 6; sweep++) {
    const down = sweep % 2 === 0;
    for (let k = 0; k < nLayers; k++) {
      const l = down ? k : nLayers - 1 - k;
      const ref = down ? l - 1 : l + 1;
      const bary = new Map();
      for (const id of rows[l]) {
        const adj = nbrs.get(id).filter((n) => layer.get(n) === ref);
        bary.set(id, adj.length ? adj.reduce((s, n) => s + order.get(n), 0) / adj.length : order.get(id));
      }
      rows[l].sort((a, b) => bary.get(a) - bary.get(b));
      rows[l].forEach((id, i) => order.set(id, i / Math.max(1, rows[l].length - 1)));
    }
  }

  // Coordinates: along = within a layer, across = between layers; long layers wrap.
  const alongStep = (o.horizontal ? o.nodeH : o.nodeW) + o.gap;
  const acrossStep = (o.horizontal ? o.nodeW : o.nodeH) + o.layerGap;
  const subStep = (o.horizontal ? o.nodeW : o.nodeH) + o.gap;
  const along = new Map();
  const acrossOf = new Map();
  const single = []; // layers on one row, which may slide towards their neighbours
  let across = 0;
  for (let l = 0; l < nLayers; l++) {
    const r = rows[l];
    const perRow = Math.min(o.maxPerRow, Math.max(1, r.length));
    const nSub = Math.ceil(r.length / perRow);
    for (let s = 0; s < nSub; s++) {
      const part = r.slice(s * perRow, (s + 1) * perRow);
      const stagger = nSub > 1 && s % 2 ? alongStep / 2 : 0;
      part.forEach((id, i) => {
        along.set(id, (i - (part.length - 1) / 2) * alongStep + stagger);
        acrossOf.set(id, across + s * subStep);
      });
    }
    if (nSub === 1) single.push(l);
    across += (nSub - 1) * subStep + acrossStep;
  }
  // A few passes pull each one-row layer towards the mean position of its neighbours in
  // the layers next to it, keeping its order and spacing (owners sit over what they own).
  for (let pass = 0; pass < 4; pass++) {
    for (const l of pass % 2 ? [...single].reverse() : single) {
      const r = rows[l];
      const want = r.map((id) => {
        const adj = nbrs.get(id).filter((n) => Math.abs(layer.get(n) - l) === 1);
        return adj.length ? adj.reduce((s, n) => s + along.get(n), 0) / adj.length : along.get(id);
      });
      const placed = want.slice();
      for (let i = 1; i < placed.length; i++) placed[i] = Math.max(placed[i], placed[i - 1] + alongStep);
      // Centre the packed row on what it wanted, so that pushing right does not drift.
      const shift = (want.reduce((a, b) => a + b, 0) - placed.reduce((a, b) => a + b, 0)) / Math.max(1, placed.length);
      r.forEach((id, i) => along.set(id, placed[i] + shift));
    }
  }
  const pos = new Map();
  for (const id of ids) {
    const a = along.get(id), c = acrossOf.get(id);
    pos.set(id, o.horizontal ? { x: c, y: a, layer: layer.get(id) } : { x: a, y: c, layer: layer.get(id) });
  }
  return { pos, ...extent(pos) };
}

// acyclic drops the edges that close a cycle (depth-first back edges).
function acyclic(ids, edges) {
  const out = new Map(ids.map((id) => [id, []]));
  for (const e of edges) out.get(e.from).push(e);
  const state = new Map(); // 1 on the stack, 2 done
  const keep = [];
  for (const root of ids) {
    if (state.has(root)) continue;
    const stack = [[root, 0]];
    state.set(root, 1);
    while (stack.length) {
      const top = stack[stack.length - 1];
      const list = out.get(top[0]);
      if (top[1] >= list.length) {
        state.set(top[0], 2);
        stack.pop();
        continue;
      }
      const e = list[top[1]++];
      const s = state.get(e.to);
      if (s === 1) continue; // back edge: closes a cycle
      keep.push(e);
      if (!s) {
        state.set(e.to, 1);
        stack.push([e.to, 0]);
      }
    }
  }
  return keep;
}

// ranks gives every node a layer: longest path from the sources over the ranking edges,
// then each node with successors is pulled down next to its nearest successor (short
// edges); a node outside the ranking edges sits one layer before a ranked neighbour it
// points to, or one layer after a ranked neighbour that points to it.
function ranks(ids, rankEdges, allEdges) {
  const succ = new Map(ids.map((id) => [id, []]));
  const indeg = new Map(ids.map((id) => [id, 0]));
  const inRank = new Set();
  for (const e of rankEdges) {
    succ.get(e.from).push(e.to);
    indeg.set(e.to, indeg.get(e.to) + 1);
    inRank.add(e.from).add(e.to);
  }
  const rank = new Map();
  const topo = [];
  const queue = ids.filter((id) => inRank.has(id) && indeg.get(id) === 0);
  queue.forEach((id) => rank.set(id, 0));
  while (queue.length) {
    const id = queue.shift();
    topo.push(id);
    for (const s of succ.get(id)) {
      rank.set(s, Math.max(rank.get(s) ?? 0, rank.get(id) + 1));
      indeg.set(s, indeg.get(s) - 1);
      if (indeg.get(s) === 0) queue.push(s);
    }
  }
  for (let i = topo.length - 1; i >= 0; i--) {
    const id = topo[i];
    const ss = succ.get(id);
    if (ss.length) rank.set(id, Math.min(...ss.map((s) => rank.get(s))) - 1);
  }
  // Unranked nodes follow a ranked neighbour, a few rounds deep; the rest go on top.
  for (let round = 0; round < 4; round++) {
    for (const e of allEdges) {
      if (rank.has(e.from) && !rank.has(e.to)) rank.set(e.to, rank.get(e.from) + 1);
      else if (rank.has(e.to) && !rank.has(e.from)) rank.set(e.from, rank.get(e.to) - 1);
    }
  }
  for (const id of ids) if (!rank.has(id)) rank.set(id, 0);
  const min = Math.min(0, ...rank.values());
  for (const id of ids) rank.set(id, rank.get(id) - min);
  return rank;
}

/**
 * Force-directed layout (Fruchterman–Reingold with gentle gravity), deterministic: the
 * first id starts in the centre, the others on a spiral. Returns {pos, width, height}.
 */
export function force(ids, edges, opts = {}) {
  const n = ids.length;
  const o = { spacing: 90, iterations: n > 150 ? 180 : 300, gravity: 0.1, heat: 0.2, ...opts };
  const k = o.spacing;
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const r = k * 0.6 * Math.sqrt(i);
    const a = i * 2.399963; // golden angle
    xs[i] = r * Math.cos(a);
    ys[i] = r * Math.sin(a);
  }
  const idx = new Map(ids.map((id, i) => [id, i]));
  const links = edges.filter((e) => idx.has(e.from) && idx.has(e.to) && e.from !== e.to).map((e) => [idx.get(e.from), idx.get(e.to)]);
  const dx = new Float64Array(n);
  const dy = new Float64Array(n);
  let temp = k * Math.sqrt(n) * o.heat + k;
  const cool = temp / (o.iterations + 1);
  for (let it = 0; it < o.iterations; it++) {
    dx.fill(0);
    dy.fill(0);
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        let vx = xs[i] - xs[j];
        let vy = ys[i] - ys[j];
        let d2 = vx * vx + vy * vy;
        if (d2 < 0.01) { vx = 0.1 * (i - j); vy = 0.1; d2 = vx * vx + vy * vy; }
        const f = (k * k) / d2; // repulsion k²/d, along the unit vector
        dx[i] += vx * f; dy[i] += vy * f;
        dx[j] -= vx * f; dy[j] -= vy * f;
      }
    }
    for (const [a, b] of links) {
      const vx = xs[a] - xs[b];
      const vy = ys[a] - ys[b];
      const d = Math.sqrt(vx * vx + vy * vy) || 0.01;
      const f = d / k; // attraction d²/k, along the unit vector
      dx[a] -= vx * f; dy[a] -= vy * f;
      dx[b] += vx * f; dy[b] += vy * f;
    }
    for (let i = 0; i < n; i++) {
      // Gravity grows with the distance from the centre, so that parts that nothing
      // links (and a hub's many leaves) stay near the rest instead of drifting away.
      const r = Math.sqrt(xs[i] * xs[i] + ys[i] * ys[i]) / k;
      dx[i] -= xs[i] * o.gravity * (1 + r);
      dy[i] -= ys[i] * o.gravity * (1 + r);
      const d = Math.sqrt(dx[i] * dx[i] + dy[i] * dy[i]) || 1;
      const step = Math.min(d, temp);
      xs[i] += (dx[i] / d) * step;
      ys[i] += (dy[i] / d) * step;
    }
    temp = Math.max(temp - cool, 1);
  }
  const pos = new Map(ids.map((id, i) => [id, { x: xs[i], y: ys[i], layer: 0 }]));
  return { pos, ...extent(pos) };
}

function extent(pos) {
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (const p of pos.values()) {
    minX = Math.min(minX, p.x); maxX = Math.max(maxX, p.x);
    minY = Math.min(minY, p.y); maxY = Math.max(maxY, p.y);
  }
  if (!pos.size) return { minX: 0, minY: 0, width: 0, height: 0 };
  return { minX, minY, width: maxX - minX, height: maxY - minY };
}
