// Drives Lodestone's two subscription transports with the reference npm clients:
// graphql-ws over a WebSocket and graphql-sse over Server-Sent Events. For each, it
// subscribes to the change log, makes a write, and prints the commit it received as
// "<transport> <seq> <op> <id>". Usage: node clients.mjs BASE_URL API_KEY
import { createClient as createWSClient } from 'graphql-ws';
import { createClient as createSSEClient } from 'graphql-sse';
import WebSocket from 'ws';

const [base, key] = process.argv.slice(2);
const auth = `Bearer ${key}`;

async function write(id) {
  const res = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: auth },
    body: JSON.stringify({ query: `mutation($id: ID!) { upsertEntity(input: {id: $id, kind: "Company", name: "From Node"}) { id } }`, variables: { id } }),
  });
  const body = await res.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
}

// subscribe runs one changes subscription on client, writes id once it is running, and
// resolves with the first commit that mentions id.
function firstCommit(client, id) {
  return new Promise((resolve, reject) => {
    const query = `subscription($ids: [ID!]) { changes(ids: $ids) { seq changes { op id } } }`;
    const unsubscribe = client.subscribe({ query, variables: { ids: [id] } }, {
      next: (r) => {
        if (r.errors) return reject(new Error(JSON.stringify(r.errors)));
        unsubscribe();
        resolve(r.data.changes);
      },
      error: reject,
      complete: () => {},
    });
    setTimeout(() => write(id).catch(reject), 300);
    setTimeout(() => reject(new Error('no commit within 10 s')), 10000);
  });
}

const ws = createWSClient({
  url: base.replace(/^http/, 'ws') + '/graphql',
  webSocketImpl: WebSocket,
  connectionParams: { authorization: auth },
});
const c1 = await firstCommit(ws, 'node-ws');
console.log(`ws ${c1.seq} ${c1.changes[0].op} ${c1.changes[0].id}`);
await ws.dispose();

const sse = createSSEClient({ url: `${base}/graphql`, headers: { Authorization: auth } });
const c2 = await firstCommit(sse, 'node-sse');
console.log(`sse ${c2.seq} ${c2.changes[0].op} ${c2.changes[0].id}`);
sse.dispose();

// Disconnected, three writes are made; each client resumes with after = the last seq it
// saw and must receive exactly those three commits, in order.
await write('node-missed-1');
await write('node-missed-2');
await write('node-missed-3');
async function resume(client, name, after) {
  const seqs = [];
  await new Promise((resolve, reject) => {
    const query = `subscription($after: String) { changes(after: $after, ids: ["node-missed-1", "node-missed-2", "node-missed-3"]) { seq changes { id } } }`;
    const stop = client.subscribe({ query, variables: { after } }, {
      next: (r) => {
        if (r.errors) return reject(new Error(JSON.stringify(r.errors)));
        seqs.push(`${r.data.changes.seq}:${r.data.changes.changes[0].id}`);
        if (seqs.length === 3) { setTimeout(() => { stop(); resolve(); }, 300); }
      },
      error: reject,
      complete: () => {},
    });
    setTimeout(() => reject(new Error('resume: not three commits within 10 s')), 10000);
  });
  console.log(`${name} resumed ${seqs.join(' ')}`);
}
const ws2 = createWSClient({ url: base.replace(/^http/, 'ws') + '/graphql', webSocketImpl: WebSocket, connectionParams: { authorization: auth } });
await resume(ws2, 'ws', c2.seq);
await ws2.dispose();
const sse2 = createSSEClient({ url: `${base}/graphql`, headers: { Authorization: auth } });
await resume(sse2, 'sse', c2.seq);
sse2.dispose();
process.exit(0);
