// Draws /network.json with Cytoscape.js at the positions the server computed, and keeps the
// filters in the page's query string: a change pushes a history entry, back/forward restore
// the form and the drawing, and the URL can be shared or reloaded.
(function () {
  "use strict";
  var form = document.getElementById("network-filters");
  var status = document.getElementById("network-status");
  var container = document.getElementById("cy");
  var colours = {cell: "#2a7f62", mirna: "#b5446e", cargo: "#d08c60", drug: "#3a5ba0",
                 gene: "#6c757d", pathway: "#8a6bbf", mechanism: "#b7791f"};
  var RED = "#c0392b", GREEN = "#1e8449", GREY = "#7d8796";
  var cy = cytoscape({
    container: container,
    wheelSensitivity: 0.3,
    layout: {name: "preset"},
    style: [
      {selector: "node", style: {
        "label": "data(label)", "font-size": 12, "text-valign": "bottom", "text-margin-y": 4,
        "background-color": function (n) { return colours[n.data("kind")] || "#999"; },
        // Sizes come with the data: the server's layout keeps edges clear of drug boxes.
        "width": "data(width)", "height": "data(height)",
        "color": "#1d2330", "text-wrap": "wrap", "text-max-width": 120}},
      {selector: "node[kind = 'drug']", style: {"shape": "round-rectangle"}},
      {selector: "node[kind = 'gene'], node[kind = 'pathway']", style: {"shape": "diamond", "font-size": 10}},
      {selector: "node[kind = 'mechanism']", style: {"shape": "round-rectangle", "font-size": 10}},
      {selector: "edge", style: {
        "width": 2, "curve-style": "bezier", "target-arrow-shape": "triangle",
        "line-color": "#a8b0bd", "target-arrow-color": "#a8b0bd", "arrow-scale": 0.8}},
      {selector: "edge[kind = 'resistance']", style: {"line-color": RED, "target-arrow-color": RED}},
      {selector: "edge[kind = 'sensitivity']", style: {"line-color": GREEN, "target-arrow-color": GREEN}},
      {selector: "edge[kind = 'gene_down'], edge[kind = 'pathway_down']", style: {
        "target-arrow-shape": "tee", "line-color": GREY, "target-arrow-color": GREY, "width": 1.5}},
      {selector: "edge[kind = 'gene_up'], edge[kind = 'pathway_up'], edge[kind = 'gene'], edge[kind = 'pathway'], edge[kind = 'mechanism']",
       style: {"line-color": GREY, "target-arrow-color": GREY, "width": 1.5}},
      // Edges to pathways and mechanisms take the colour of the finding's effect, as the
      // edges to drugs do (the arrow shape still says activates or inhibits).
      {selector: "edge[kind = 'mechanism'][direction = 'resistance'], edge[kind ^= 'pathway'][direction = 'resistance']",
       style: {"line-color": RED, "target-arrow-color": RED}},
      {selector: "edge[kind = 'mechanism'][direction = 'sensitivity'], edge[kind ^= 'pathway'][direction = 'sensitivity']",
       style: {"line-color": GREEN, "target-arrow-color": GREEN}},
      {selector: "edge[?retracted]", style: {"line-style": "dashed"}},
      {selector: "node:selected", style: {"border-width": 3, "border-color": "#f1c40f"}}
    ]
  });
  // For the browser tests, which read the drawn elements and their positions.
  window.exomirkgNetwork = cy;
  cy.on("tap", "node", function (event) { window.location.href = event.target.data("href"); });

  function formParams() {
    // Empty choices and unticked boxes are left out: the URL says only what differs.
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, name) { if (value) { params.append(name, value); } });
    return params;
  }

  function fillForm(params) {
    Array.prototype.forEach.call(form.elements, function (field) {
      if (field.type === "checkbox") {
        // The flags the server accepts as "on" (exomirkg.web.cytoscape's _TRUE).
        field.checked = ["1", "true", "on", "yes"].indexOf((params.get(field.name) || "").toLowerCase()) >= 0;
      }
      else if (field.name) { field.value = params.get(field.name) || ""; }
    });
  }

  function findingsLink(params) {
    // The same filters in the findings browser (its "source" is the network's "cell").
    var table = document.getElementById("network-findings");
    if (!table) { return; }
    var wanted = new URLSearchParams();
    [["drug", "drug"], ["mirna", "mirna"], ["cell", "source"], ["cancer", "cancer"],
     ["exclude_retracted", "exclude_retracted"]].forEach(function (pair) {
      if (params.get(pair[0])) { wanted.set(pair[1], params.get(pair[0])); }
    });
    var query = wanted.toString();
    table.href = table.dataset.base + (query ? "?" + query : "");
  }

  var latest = 0;   // a slow answer to an older request must not overwrite a newer one
  function load(params) {
    var query = params.toString(), ticket = ++latest;
    status.textContent = "Loading…";
    findingsLink(params);
    // The URL comes in a data attribute, not an inline script: the CSP forbids those.
    fetch(container.dataset.url + (query ? "?" + query : ""))
      .then(function (r) {
        if (!r.ok) { return r.text().then(function (t) { throw new Error(t); }); }
        return r.json();
      })
      .then(function (data) {
        if (ticket !== latest) { return; }
        cy.elements().remove();
        cy.add(data.nodes);
        cy.add(data.edges);
        cy.fit(undefined, 30);
        status.textContent = data.findings + " findings · " + data.nodes.length + " nodes · " +
          data.edges.length + " links";
        container.setAttribute("data-nodes", String(data.nodes.length));
        container.setAttribute("data-query", query);
      })
      .catch(function (e) { status.textContent = "Could not load the network: " + e.message; });
  }

  form.addEventListener("change", function () {
    var params = formParams(), query = params.toString();
    history.pushState(null, "", window.location.pathname + (query ? "?" + query : ""));
    load(params);
  });
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  window.addEventListener("popstate", function () {
    var params = new URLSearchParams(window.location.search);
    fillForm(params);
    load(formParams());
  });
  window.addEventListener("resize", function () { cy.resize(); cy.fit(undefined, 30); });
  // The server filled the form from the URL; a form restored by the browser's own cache
  // (reload) is read the same way, so the drawing always matches the controls.
  fillForm(new URLSearchParams(window.location.search));
  load(formParams());
})();
