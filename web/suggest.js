// Autocomplete for the search box: fills the box's <datalist> from /api/v1/suggest as the
// reader types. Loaded with `defer`; the search works the same without it.
(function () {
  "use strict";
  var input = document.getElementById("q");
  var list = document.getElementById("q-suggest");
  if (!input || !list || !window.fetch) return;
  var timer = null;
  var last = "";
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var prefix = input.value.trim();
      if (prefix === last) return;
      last = prefix;
      if (!prefix || prefix.length > 32) { list.textContent = ""; return; }
      fetch("/api/v1/suggest?limit=8&q=" + encodeURIComponent(prefix), { headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { suggestions: [] }; })
        .then(function (data) {
          if (input.value.trim() !== prefix) return;
          list.textContent = "";
          (data.suggestions || []).forEach(function (s) {
            var option = document.createElement("option");
            option.value = s.text;
            list.appendChild(option);
          });
        })
        .catch(function () { /* suggestions are a convenience; ignore failures */ });
    }, 200);
  });
})();

// Click statistics: which hit of which query was opened (no identifiers are sent).
(function () {
  "use strict";
  if (!navigator.sendBeacon || !window.Blob) return;
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[data-rid]") : null;
    var list = link && link.closest("ol[data-q]");
    if (!list) return;
    var body = JSON.stringify({
      query: list.getAttribute("data-q"),
      record_id: link.getAttribute("data-rid"),
      position: parseInt(link.getAttribute("data-pos"), 10) || 0
    });
    navigator.sendBeacon("/api/v1/analytics/click", new Blob([body], { type: "application/json" }));
  });
})();
