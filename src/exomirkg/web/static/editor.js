// YASGUI over our /sparql, one tab per example query; nothing kept in localStorage, so a
// reload always shows the current example queries. "#<query-name>" opens that tab.
(function () {
  "use strict";
  var tabs = JSON.parse(document.getElementById("example-queries").textContent);
  // The endpoint comes in a data attribute, not an inline script: the CSP forbids those.
  var endpoint = document.getElementById("yasgui").dataset.endpoint;
  var yasgui = new Yasgui(document.getElementById("yasgui"), {
    persistenceId: null,
    autoAddOnInit: false,
    copyEndpointOnNewTab: true,
    populateFromUrl: false,
    requestConfig: {endpoint: endpoint, method: "POST"},
    endpointCatalogueOptions: {getData: function () { return [{endpoint: endpoint}]; }},
    yasr: {prefixes: {ekg: "https://w3id.org/exomirkg/", obo: "http://purl.obolibrary.org/obo/"}}
  });
  var wanted = decodeURIComponent(window.location.hash.replace(/^#/, ""));
  var ids = {};
  tabs.forEach(function (tab, i) {
    var active = wanted ? tab.id === wanted : i === 0;
    var t = yasgui.addTab(active, {name: tab.name, yasqe: {value: tab.query},
                                   requestConfig: {endpoint: endpoint, method: "POST"}});
    ids[tab.id] = t.getId();
  });
  var picker = document.getElementById("example-picker");
  picker.addEventListener("change", function () {
    if (ids[picker.value]) { yasgui.selectTabId(ids[picker.value]); }
  });
  if (wanted && ids[wanted]) { picker.value = wanted; }
  // Our IRIs (https://w3id.org/exomirkg/...) open their entity page on this server.
  var base = "https://w3id.org/exomirkg/";
  document.getElementById("yasgui").addEventListener("click", function (event) {
    var a = event.target.closest && event.target.closest(".yasr a[href]");
    if (a && a.href.indexOf(base) === 0) {
      event.preventDefault();
      window.open("/" + a.href.slice(base.length), "_blank", "noopener");
    }
  });
  window.exomirkgYasgui = yasgui;
  window.exomirkgTabIds = ids;
})();
