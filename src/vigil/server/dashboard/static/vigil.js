// Vigil dashboard: small progressive enhancements. Every page works without this file.
"use strict";

(function () {
  // The links the mlflow client prints against this server (#/experiments/<id>/runs/<run id>,
  // #/experiments/<id>, #/models/<name>) open the same run, experiment or model here.
  (function followMlflowLinks() {
    var hash = window.location.hash || "";
    var run = hash.match(/^#\/experiments\/[^/]+\/runs\/([0-9a-fA-F]+)/);
    var experiment = hash.match(/^#\/experiments\/([^/?#]+)\/?$/);
    var model = hash.match(/^#\/models\/([^/?#]+)/);
    if (run) {
      window.location.replace("/ui/runs/" + run[1]);
    } else if (experiment) {
      window.location.replace("/ui/experiments?experiment=" + experiment[1]);
    } else if (model) {
      window.location.replace("/ui/registry/" + model[1]);
    }
  })();

  function compareCells(a, b) {
    var x = parseFloat(a.replace(/,/g, "")), y = parseFloat(b.replace(/,/g, ""));
    if (!isNaN(x) && !isNaN(y) && /^[-+\d.,eE%]+$/.test(a.trim()) && /^[-+\d.,eE%]+$/.test(b.trim())) {
      return x - y;
    }
    return a.localeCompare(b);
  }

  // Sortable tables: click a header to sort by it; click again to reverse.
  function initSortable(table) {
    var headers = table.querySelectorAll("thead th");
    headers.forEach(function (th, index) {
      if (th.classList.contains("nosort")) return;
      // A header is a button for the keyboard too: Tab reaches it, Enter or Space sorts.
      th.setAttribute("tabindex", "0");
      th.setAttribute("title", "Sort by this column");
      th.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); th.click(); }
      });
      th.addEventListener("click", function () {
        var body = table.tBodies[0];
        if (!body) return;
        var ascending = !th.classList.contains("sorted-asc");
        headers.forEach(function (h) {
          h.classList.remove("sorted-asc", "sorted-desc");
          h.removeAttribute("aria-sort");
        });
        th.classList.add(ascending ? "sorted-asc" : "sorted-desc");
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (r1, r2) {
          var a = (r1.cells[index] || {}).textContent || "";
          var b = (r2.cells[index] || {}).textContent || "";
          var order = compareCells(a, b);
          return ascending ? order : -order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  }

  function fetchFragment(url) {
    return fetch(url, { headers: { "X-Requested-With": "vigil" }, credentials: "same-origin" })
      .then(function (response) {
        if (response.status === 401) { window.location.reload(); throw new Error("signed out"); }
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.text();
      });
  }

  // The drift heatmap: a click on a cell opens its reference and window distributions. The
  // grid's geometry is on the <svg>; white (no drift) cells have no element, so the cell under
  // the pointer is found from its position.
  function grid(svg) {
    return {
      left: parseFloat(svg.getAttribute("data-left")), top: parseFloat(svg.getAttribute("data-top")),
      w: parseFloat(svg.getAttribute("data-cell-w")), h: parseFloat(svg.getAttribute("data-cell-h")),
      features: JSON.parse(svg.getAttribute("data-features")),
      starts: JSON.parse(svg.getAttribute("data-starts"))
    };
  }

  function cellOf(g, i, j) {
    if (i < 0 || j < 0 || i >= g.features.length || j >= g.starts.length) return null;
    return { i: i, j: j, feature: g.features[i], start: g.starts[j],
             x: g.left + j * g.w, y: g.top + i * g.h, w: g.w, h: g.h };
  }

  function cellAt(svg, event) {
    var point = svg.createSVGPoint();
    point.x = event.clientX;
    point.y = event.clientY;
    var matrix = svg.getScreenCTM();
    if (!matrix) return null;
    var p = point.matrixTransform(matrix.inverse());
    var g = grid(svg);
    return cellOf(g, Math.floor((p.y - g.top) / g.h), Math.floor((p.x - g.left) / g.w));
  }

  function initHeatmap(container) {
    var panel = document.getElementById(container.getAttribute("data-panel") || "cell-panel");
    var status = container.querySelector(".heatmap-status");
    var base = container.getAttribute("data-cell-url");
    var svg = container.querySelector("svg.heatmap");
    if (!svg) return;
    var marker = document.createElementNS("http://www.w3.org/2000/svg", "rect");
    marker.setAttribute("class", "selected");
    marker.setAttribute("fill", "none");
    svg.appendChild(marker);
    var current = null;
    function select(cell) {
      current = cell;
      marker.setAttribute("x", cell.x);
      marker.setAttribute("y", cell.y);
      marker.setAttribute("width", cell.w);
      marker.setAttribute("height", cell.h - 1);
      if (status) status.textContent = cell.feature + " \u00b7 " + cell.start;
    }
    function open(cell) {
      if (!cell || !panel) return;
      select(cell);
      var url = base + (base.indexOf("?") < 0 ? "?" : "&") +
        "feature=" + encodeURIComponent(cell.feature) + "&start=" + encodeURIComponent(cell.start);
      panel.textContent = "Loading\u2026";
      fetchFragment(url).then(function (html) {
        panel.innerHTML = html;
        panel.scrollIntoView({ block: "nearest" });
      }).catch(function (error) { panel.textContent = "Could not load the cell: " + error.message; });
    }
    svg.addEventListener("mousemove", function (event) {
      var cell = cellAt(svg, event);
      if (status) status.textContent = cell ? cell.feature + " \u00b7 " + cell.start : "";
    });
    svg.addEventListener("click", function (event) { open(cellAt(svg, event)); });
    // The keyboard: Tab reaches the grid, the arrows move between cells, Enter opens one.
    svg.setAttribute("tabindex", "0");
    svg.setAttribute("aria-label", (svg.getAttribute("aria-label") || "drift heatmap") +
      ": arrow keys move between cells, Enter opens one");
    var moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    svg.addEventListener("focus", function () {
      if (!current) { var first = cellOf(grid(svg), 0, 0); if (first) select(first); }
    });
    // A link to the page with ?cell=<feature>&start=<ISO start> opens that cell (alert pages
    // link their drift cell so).
    var query = new URLSearchParams(window.location.search);
    if (query.get("cell") && query.get("start")) {
      var g = grid(svg), wanted = Date.parse(query.get("start"));
      var row = g.features.indexOf(query.get("cell"));
      var column = g.starts.findIndex(function (s) { return Date.parse(s) === wanted; });
      var linked = cellOf(g, row, column);
      if (linked) { open(linked); svg.scrollIntoView({ block: "center" }); }
    }
    svg.addEventListener("keydown", function (event) {
      var move = moves[event.key];
      if (move && current) {
        event.preventDefault();
        var next = cellOf(grid(svg), current.i + move[0], current.j + move[1]);
        if (next) select(next);
      } else if ((event.key === "Enter" || event.key === " ") && current) {
        event.preventDefault();
        open(current);
      }
    });
  }

  // Parts of a page that refresh themselves (a live run's metrics, a heatmap still filling).
  function initRefresh(element) {
    var url = element.getAttribute("data-refresh-url");
    var every = parseInt(element.getAttribute("data-refresh-seconds") || "5", 10) * 1000;
    var timer = window.setInterval(function () {
      if (element.getAttribute("data-refresh") !== "on") { window.clearInterval(timer); return; }
      fetchFragment(url).then(function (html) {
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var fresh = holder.firstElementChild;
        if (fresh) {
          element.replaceWith(fresh);
          window.clearInterval(timer);
          if (fresh.getAttribute("data-refresh") === "on") initRefresh(fresh);
          fresh.querySelectorAll("[data-cell-url]").forEach(initHeatmap);
        }
      }).catch(function () { /* keep the last good content; try again next time */ });
    }, every);
  }

  // Sections loaded once, after the page is shown (the slower ones of the model page).
  function initLazy(element) {
    fetchFragment(element.getAttribute("data-load-url")).then(function (html) {
      var holder = document.createElement("div");
      holder.innerHTML = html;
      var fresh = holder.firstElementChild;
      if (fresh) element.replaceWith(fresh);
    }).catch(function (error) {
      var note = element.querySelector("p");
      if (note) note.textContent = "Could not load this section: " + error.message;
    });
  }

  // "Select all" checkboxes and a live count of selected runs for the compare button.
  function initSelection(form) {
    var button = form.querySelector("[data-selected-count]");
    function update() {
      var n = form.querySelectorAll("input.run-select:checked").length;
      if (button) {
        button.textContent = "Compare selected (" + n + ")";
        button.disabled = n < 2;
      }
    }
    form.addEventListener("change", update);
    update();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("table.sortable").forEach(initSortable);
    document.querySelectorAll("[data-cell-url]").forEach(initHeatmap);
    document.querySelectorAll("[data-refresh='on']").forEach(initRefresh);
    document.querySelectorAll("form.run-selection").forEach(initSelection);
    document.querySelectorAll("[data-load-url]").forEach(initLazy);
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
  });
})();
