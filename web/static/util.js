// util.js: small helpers shared by the explorer's modules.

/** Escapes text for HTML. */
export function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

/** Offers a blob as a download named name. */
export function download(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Parses RFC 4180 CSV into rows of cells. */
export function parseCSV(text) {
  const rows = [];
  let row = [], cell = "", quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; }
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") { row.push(cell); cell = ""; }
    else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(cell); rows.push(row); row = []; cell = "";
    } else cell += c;
  }
  if (cell !== "" || row.length) { row.push(cell); rows.push(row); }
  return rows;
}

/** A table element for rows (the first is the header). */
export function table(rows, caption) {
  const [head, ...body] = rows;
  const t = document.createElement("table");
  if (caption) t.createCaption().textContent = caption;
  const tr = t.createTHead().insertRow();
  for (const h of head || []) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = h;
    tr.appendChild(th);
  }
  const tb = t.createTBody();
  for (const r of body) {
    const row = tb.insertRow();
    for (const c of r) row.insertCell().textContent = c;
  }
  return t;
}

/** Shows a message in a status element; kind "error" marks it as an error. */
export function say(node, text, kind = "") {
  node.textContent = text;
  node.classList.toggle("error", kind === "error");
}
