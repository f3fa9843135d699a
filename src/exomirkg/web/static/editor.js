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
  var description = document.getElementById("example-description");
  var byTabId = {};
  tabs.forEach(function (tab) { byTabId[ids[tab.id]] = tab; });
  var answered = {};
  // An example answers itself when it opens (once per tab; the user's edits run on demand):
  // its description above the editor, its rows below.
  function open(tabId) {
    var tab = byTabId[tabId];
    description.textContent = tab ? tab.description : "";
    if (tab && picker.value !== tab.id && ids[picker.value] !== tabId) {
      var option = picker.querySelector('option[value="' + tab.id + '"]');
      if (option) { picker.value = tab.id; }
    }
    if (answered[tabId]) { return; }
    answered[tabId] = true;
    // After YASGUI has drawn the tab: its editor exists only once the tab is shown.
    window.setTimeout(function () {
      var current = yasgui.getTab(tabId);
      if (current && current.getYasqe()) { current.getYasqe().query(); }
    }, 0);
  }
  yasgui.on("tabSelect", function (instance, tabId) { open(tabId); });
  picker.addEventListener("change", function () {
    if (ids[picker.value]) { yasgui.selectTabId(ids[picker.value]); }
  });
  if (wanted && ids[wanted]) { picker.value = wanted; }
  open(yasgui.persistentConfig.currentId());
  // Our IRIs (https://w3id.org/exomirkg/...) open their entity page on this server.
  var base = "https://w3id.org/exomirkg/";
  document.getElementById("yasgui").addEventListener("click", function (event) {
    var a = event.target.closest && event.target.closest(".yasr a[href]");
    if (a && a.href.indexOf(base) === 0) {
      event.preventDefault();
      window.open("/" + a.href.slice(base.length), "_blank", "noopener");
    }
  });
  // YASGUI leaves two controls without a name (the endpoint field, the rows-per-page menu):
  // name them, now and whenever YASGUI draws them again.
  function nameControls() {
    document.querySelectorAll("#yasgui .autocomplete:not([aria-label])").forEach(function (el) {
      el.setAttribute("aria-label", "SPARQL endpoint");
    });
    document.querySelectorAll("#yasgui .tableSizer:not([aria-label])").forEach(function (el) {
      el.setAttribute("aria-label", "Rows per page");
    });
  }
  nameControls();
  new MutationObserver(nameControls).observe(document.getElementById("yasgui"),
                                             {childList: true, subtree: true});
  window.exomirkgYasgui = yasgui;
  window.exomirkgTabIds = ids;
})();
