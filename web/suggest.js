// Autocomplete for the search box, from /api/v1/suggest as the reader types: an ARIA 1.2
// combobox with a listbox of suggestions (Down/Up move through them, Enter takes one into the
// box, Escape closes the list; a click takes one and searches). A <datalist> would be
// simpler, but browsers draw it outside the page, so some never show it (headless, several
// mobile browsers) and screen readers announce it unevenly. Loaded with `defer`; the search
// works the same without it.
(function () {
  "use strict";
  var input = document.getElementById("q");
  if (!input || !window.fetch) return;
  var combo = document.createElement("div");
  combo.className = "combo";
  input.parentNode.insertBefore(combo, input);
  combo.appendChild(input);
  var list = document.createElement("ul");
  list.id = "q-suggest";
  list.className = "suggestions";
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", "搜索建议");
  list.hidden = true;
  combo.appendChild(list);
  var status = document.createElement("div");
  status.className = "sr";
  status.setAttribute("role", "status");
  combo.appendChild(status);
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", list.id);
  input.setAttribute("aria-expanded", "false");

  var timer = null;
  var last = "";
  var active = -1;

  function options() { return list.querySelectorAll("[role=option]"); }
  function close() {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }
  function open() {
    if (!options().length) return;
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
  }
  function highlight(n) {
    var all = options();
    if (!all.length) return;
    active = n < -1 ? all.length - 1 : n >= all.length ? -1 : n;
    for (var i = 0; i < all.length; i++) all[i].setAttribute("aria-selected", i === active ? "true" : "false");
    if (active < 0) { input.removeAttribute("aria-activedescendant"); return; }
    input.setAttribute("aria-activedescendant", all[active].id);
    if (all[active].scrollIntoView) all[active].scrollIntoView({ block: "nearest" });
  }
  function take(option) {
    input.value = option.textContent;
    last = input.value.trim();
    close();
  }
  function show(texts) {
    list.textContent = "";
    texts.forEach(function (text, i) {
      var option = document.createElement("li");
      option.id = "q-suggest-" + i;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.textContent = text;
      list.appendChild(option);
    });
    active = -1;
    input.removeAttribute("aria-activedescendant");
    if (texts.length) {
      open();
      status.textContent = texts.length + " 条建议，可用上下方向键选择";
    } else {
      close();
      status.textContent = "";
    }
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var prefix = input.value.trim();
      if (prefix === last) return;
      last = prefix;
      if (!prefix || prefix.length > 32) { show([]); return; }
      fetch("/api/v1/suggest?limit=8&q=" + encodeURIComponent(prefix), { headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { suggestions: [] }; })
        .then(function (data) {
          if (input.value.trim() !== prefix) return;
          show((data.suggestions || []).map(function (s) { return s.text; }));
        })
        .catch(function () { /* suggestions are a convenience; ignore failures */ });
    }, 200);
  });
  input.addEventListener("keydown", function (event) {
    if (event.isComposing) return; // keys that belong to the input method
    var expanded = !list.hidden;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!options().length) return;
      event.preventDefault();
      if (!expanded) { open(); highlight(event.key === "ArrowDown" ? 0 : -2); return; }
      highlight(active + (event.key === "ArrowDown" ? 1 : -1));
    } else if (event.key === "Enter" && expanded && active >= 0) {
      event.preventDefault(); // take the suggestion; the next Enter searches
      take(options()[active]);
    } else if (event.key === "Escape" && expanded) {
      event.preventDefault();
      close();
    }
  });
  input.addEventListener("blur", close);
  // Keep the focus in the box while a suggestion is clicked.
  list.addEventListener("mousedown", function (event) { event.preventDefault(); });
  list.addEventListener("click", function (event) {
    var option = event.target.closest ? event.target.closest("[role=option]") : null;
    if (!option) return;
    take(option);
    if (input.form) input.form.submit();
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
