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
