// Draws /network.json with Cytoscape.js and redraws when a filter changes.
(function () {
  "use strict";
  var form = document.getElementById("network-filters");
  var status = document.getElementById("network-status");
  var colours = {cell: "#2a7f62", mirna: "#b5446e", cargo: "#d08c60", drug: "#3a5ba0",
                 gene: "#6c757d", pathway: "#8a6bbf"};
  var columns = {cell: 0, mirna: 1, cargo: 1, drug: 2, gene: 3, pathway: 4};
  var cy = cytoscape({
    container: document.getElementById("cy"),
    wheelSensitivity: 0.3,
    style: [
      {selector: "node", style: {
        "label": "data(label)", "font-size": 12, "text-valign": "bottom", "text-margin-y": 4,
        "background-color": function (n) { return colours[n.data("kind")] || "#999"; },
        "width": 22, "height": 22, "color": "#1d2330", "text-wrap": "wrap", "text-max-width": 120}},
      {selector: "node[kind = 'drug']", style: {"shape": "round-rectangle", "width": 30}},
      {selector: "node[kind = 'cell']", style: {"shape": "ellipse", "width": 30, "height": 30}},
      {selector: "node[kind = 'gene'], node[kind = 'pathway']", style: {"shape": "diamond", "font-size": 10}},
      {selector: "edge", style: {
        "width": 2, "curve-style": "bezier", "target-arrow-shape": "triangle",
        "line-color": "#a8b0bd", "target-arrow-color": "#a8b0bd", "arrow-scale": 0.8}},
      {selector: "edge[kind = 'resistance']", style: {"line-color": "#c0392b", "target-arrow-color": "#c0392b"}},
      {selector: "edge[kind = 'sensitivity']", style: {"line-color": "#1e8449", "target-arrow-color": "#1e8449"}},
      {selector: "edge[kind = 'gene_down'], edge[kind = 'pathway_down']", style: {
        "target-arrow-shape": "tee", "line-color": "#7d8796", "target-arrow-color": "#7d8796", "width": 1.5}},
      {selector: "edge[kind = 'gene_up'], edge[kind = 'pathway_up'], edge[kind = 'gene'], edge[kind = 'pathway']",
       style: {"line-color": "#7d8796", "target-arrow-color": "#7d8796", "width": 1.5}},
      {selector: "edge[?retracted]", style: {"line-style": "dashed"}},
      {selector: "node:selected", style: {"border-width": 3, "border-color": "#f1c40f"}}
    ]
  });
  cy.on("tap", "node", function (event) { window.location.href = event.target.data("href"); });

  var MAX_ROWS = 14;   // a longer column wraps into side-by-side sub-columns
  var ROW = 58, SUB = 150, GAP = 250;

  function barycentre(node, placed) {
    // Mean row of the already placed neighbours: orders a column to cut edge crossings.
    var rows = node.neighborhood("node").map(function (n) { return placed[n.id()]; })
      .filter(function (r) { return r !== undefined; });
    if (!rows.length) { return Infinity; }
    return rows.reduce(function (a, b) { return a + b; }, 0) / rows.length;
  }

  function layout() {
    // Columns by kind: cell | miRNA | drug | gene | pathway; drugs first (alphabetical),
    // then every other column ordered by the rows of what it links to.
    var byColumn = {};
    cy.nodes().forEach(function (n) {
      var c = columns[n.data("kind")] || 0;
      (byColumn[c] = byColumn[c] || []).push(n);
    });
    var placed = {};
    var order = [2, 1, 0, 3, 4];
    var lists = {};
    order.forEach(function (c) {
      var list = byColumn[c] || [];
      list.sort(function (a, b) {
        var d = c === 2 ? 0 : barycentre(a, placed) - barycentre(b, placed);
        return d || a.data("label").localeCompare(b.data("label"));
      });
      list.forEach(function (n, i) { placed[n.id()] = i * (MAX_ROWS / Math.max(list.length, 1)); });
      lists[c] = list;
    });
    var tallest = 1;
    [0, 1, 2, 3, 4].forEach(function (c) {
      tallest = Math.max(tallest, Math.min((lists[c] || []).length, MAX_ROWS));
    });
    var x = 0;
    [0, 1, 2, 3, 4].forEach(function (c) {
      var list = lists[c] || [];
      if (!list.length) { return; }
      var subs = Math.ceil(list.length / MAX_ROWS);
      var perSub = Math.ceil(list.length / subs);
      list.forEach(function (n, i) {
        var sub = i % subs, row = Math.floor(i / subs);   // interleave: keeps the order
        var offset = (tallest - perSub) * ROW / 2;   // centre short columns
        n.position({x: x + sub * SUB, y: offset + row * ROW + sub * ROW / subs});
      });
      x += (subs - 1) * SUB + GAP;
    });
    cy.fit(undefined, 30);
  }

  function load() {
    var params = new URLSearchParams(new FormData(form));
    status.textContent = "Loading…";
    // The same filters in the findings browser (its "source" is the network's "cell").
    var table = document.getElementById("network-findings");
    if (table) {
      var wanted = new URLSearchParams();
      [["drug", "drug"], ["cell", "source"], ["cancer", "cancer"],
       ["exclude_retracted", "exclude_retracted"]].forEach(function (pair) {
        if (params.get(pair[0])) { wanted.set(pair[1], params.get(pair[0])); }
      });
      var query = wanted.toString();
      table.href = table.dataset.base + (query ? "?" + query : "");
    }
    // The URL comes in a data attribute, not an inline script: the CSP forbids those.
    fetch(document.getElementById("cy").dataset.url + "?" + params.toString())
      .then(function (r) { return r.json(); })
      .then(function (data) {
        cy.elements().remove();
        cy.add(data.nodes);
        cy.add(data.edges);
        layout();
        status.textContent = data.findings + " findings · " + data.nodes.length + " nodes · " +
          data.edges.length + " links";
        document.getElementById("cy").setAttribute("data-nodes", String(data.nodes.length));
      })
      .catch(function (e) { status.textContent = "Could not load the network: " + e; });
  }
  form.addEventListener("change", load);
  window.addEventListener("resize", function () { cy.resize(); cy.fit(undefined, 30); });
  load();
})();
