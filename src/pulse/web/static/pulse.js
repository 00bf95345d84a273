/* Pulse dashboards: fill the painted shell (tiles, fragments, charts), sort tables, keep the
   period in the URL. Every number arrives formatted from the server; nothing is computed here. */
(function () {
  "use strict";

  var vegaReady = new Promise(function (resolve) {
    if (window.vegaEmbed) { resolve(); return; }
    window.addEventListener("load", function () { resolve(); });
  });

  function fetchOk(url, accept) {
    return fetch(url, { headers: { Accept: accept } }).then(function (response) {
      if (!response.ok) { throw new Error(url + " answered " + response.status); }
      return response;
    });
  }

  function failed(el, error) {
    el.setAttribute("aria-busy", "false");
    el.dataset.state = "error";
    var note = document.createElement("p");
    note.className = "note";
    note.textContent = "Could not load: " + error.message;
    el.appendChild(note);
  }

  function loadTiles(group) {
    fetchOk(group.dataset.tiles, "application/json")
      .then(function (response) { return response.json(); })
      .then(function (data) {
        data.tiles.forEach(function (tile) {
          var el = group.querySelector('[data-metric="' + CSS.escape(tile.id) + '"]');
          if (el) { el.outerHTML = tile.html; }
        });
        group.setAttribute("aria-busy", "false");
      })
      .catch(function (error) { failed(group, error); });
  }

  function loadFragment(el) {
    return fetchOk(el.dataset.fragment, "text/html")
      .then(function (response) { return response.text(); })
      .then(function (html) {
        el.innerHTML = html;
        el.setAttribute("aria-busy", "false");
        el.dataset.state = "ready";
        el.querySelectorAll("[data-spec]").forEach(loadChart);
      })
      .catch(function (error) { failed(el, error); });
  }

  function loadChart(figure) {
    var spec = figure.dataset.spec
      ? Promise.resolve(JSON.parse(figure.dataset.spec))
      : fetchOk(figure.dataset.chart, "application/json").then(function (r) { return r.json(); });
    Promise.all([spec, vegaReady])
      .then(function (results) {
        return window.vegaEmbed(figure.querySelector(".chart-canvas"), results[0], {
          actions: false, renderer: "svg", tooltip: { theme: "light" }
        });
      })
      .then(function () {
        var caption = figure.querySelector("figcaption");
        if (caption) { caption.remove(); }
        figure.dataset.state = "ready";
      })
      .catch(function (error) { failed(figure, error); });
  }

  /* -- sorting: click a header to sort by it, again to reverse ------------------------------ */
  function sortValue(cell) {
    var raw = cell.dataset.sortValue !== undefined ? cell.dataset.sortValue : cell.textContent.trim();
    var number = raw === "" ? NaN : Number(raw);
    return { raw: raw, number: number };
  }

  function compare(a, b, ascending) {
    if (a.raw === "" && b.raw !== "") { return 1; }
    if (b.raw === "" && a.raw !== "") { return -1; }
    var order;
    if (!isNaN(a.number) && !isNaN(b.number)) { order = a.number - b.number; }
    else { order = a.raw.localeCompare(b.raw, undefined, { numeric: true, sensitivity: "base" }); }
    return ascending ? order : -order;
  }

  function sortBy(th) {
    var table = th.closest("table");
    var index = Array.prototype.indexOf.call(th.parentNode.children, th);
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    table.querySelectorAll("th").forEach(function (other) { other.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (r1, r2) {
      return compare(sortValue(r1.cells[index]), sortValue(r2.cells[index]), ascending);
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }

  /* -- heatmap: a module's numbers on click ------------------------------------------------- */
  function showModule(button) {
    var card = button.closest("[data-heatmap-card]");
    var panel = card && card.querySelector("[data-detail-panel]");
    if (!panel || !button.dataset.detail) { return; }
    card.querySelectorAll(".module[aria-pressed]").forEach(function (b) { b.removeAttribute("aria-pressed"); });
    button.setAttribute("aria-pressed", "true");
    panel.dataset.fragment = button.dataset.detail;
    panel.setAttribute("aria-busy", "true");
    loadFragment(panel);
  }

  /* -- period picker: presets (and the partner / experience pickers) apply at once; a custom
     range on "Apply"; always a clean URL ---------------------------------------------------- */
  function pickerUrl(form) {
    var data = new FormData(form);
    var params = new URLSearchParams();
    var windowName = data.get("window");
    if (windowName === "custom") {
      params.set("window", data.get("start") + ".." + data.get("end"));
    } else {
      params.set("window", windowName);
    }
    data.forEach(function (value, key) {
      if (key === "window" || key === "start" || key === "end" || value === "") { return; }
      params.set(key, value);
    });
    return form.getAttribute("action") + "?" + params.toString() + window.location.hash;
  }

  function setUpPicker(form) {
    var select = form.querySelector("[data-window]");
    var custom = form.querySelector("[data-custom]");
    select.addEventListener("change", function () {
      custom.hidden = select.value !== "custom";
      if (select.value !== "custom") { window.location.assign(pickerUrl(form)); }
    });
    function apply() {
      if (select.value !== "custom") { window.location.assign(pickerUrl(form)); }
    }
    form.querySelectorAll("[data-scope-picker]").forEach(function (picker) {
      picker.addEventListener("change", apply);
      if (!picker.list) { return; }
      picker.addEventListener("input", function () {  /* a suggestion picked from the list */
        var picked = Array.prototype.some.call(picker.list.options, function (option) {
          return option.value === picker.value;
        });
        if (picked) { apply(); }
      });
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      window.location.assign(pickerUrl(form));
    });
  }

  document.addEventListener("click", function (event) {
    var sortButton = event.target.closest("th [data-sort]");
    if (sortButton) { sortBy(sortButton.closest("th")); return; }
    var module = event.target.closest(".module[data-detail]");
    if (module) { showModule(module); return; }
    var load = event.target.closest("[data-on-demand] [data-load]");
    if (load) {
      var card = load.closest("[data-on-demand]");
      card.dataset.fragment = card.dataset.onDemand;
      card.setAttribute("aria-busy", "true");
      load.disabled = true;
      load.textContent = "Computing…";
      loadFragment(card);
    }
  });

  /* -- sections fill when they come near the viewport: a long page asks only for what is seen */
  function fill(section) {
    section.querySelectorAll("[data-tiles]").forEach(loadTiles);
    section.querySelectorAll("[data-fragment]").forEach(loadFragment);
    section.querySelectorAll("[data-chart]").forEach(loadChart);
  }

  function start() {
    document.querySelectorAll("[data-picker]").forEach(setUpPicker);
    var sections = document.querySelectorAll("[data-section]");
    if (!("IntersectionObserver" in window)) { sections.forEach(fill); return; }
    var observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (!entry.isIntersecting) { return; }
        observer.unobserve(entry.target);
        fill(entry.target);
      });
    }, { rootMargin: "400px 0px" });
    sections.forEach(function (section) { observer.observe(section); });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); }
  else { start(); }
})();
