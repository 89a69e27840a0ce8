// Starts GraphiQL on the GraphiQL page (graphiql.html), after its CDN scripts. A file, not
// an inline <script>, so that the page's Content-Security-Policy needs no 'unsafe-inline'.
// A CDN script that did not load (no internet, or bytes that did not match their
// integrity hash) leaves GraphiQL undefined: the page then says so.
if (typeof GraphiQL === "undefined" || typeof React === "undefined" || typeof ReactDOM === "undefined") {
  document.querySelector("#offline h1").textContent =
    "GraphiQL could not be loaded (no internet in the browser, or the CDN's files did not match their pinned hashes)";
} else {
  var fetcher = GraphiQL.createFetcher({ url: new URL("/graphql", location.href).href });
  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQL, { fetcher: fetcher, defaultQuery: '{ search(text: "北方稀土") { score entity { id name country } } }' }));
}
