/* The organisation map: draws /api/v1/map with Cytoscape.js in a layered
   left-to-right layout (dagre) and, for a chosen unit, highlights its customers and
   its paths to the external customers from /api/v1/units/{id}/customers.
   No build step: plain ES2017 in one IIFE. State for scripts and tests: the
   container's data-state ("loading" | "ready" | "too-large" | "empty" | "error") and
   data-selected (the chosen unit id), and the Cytoscape instance as
   window.valuechainMap once drawn. */
(function () {
  "use strict";

  var root = document.getElementById("cy");
  if (!root) return;
  var message = document.getElementById("cy-message");
  var select = document.getElementById("unit-select");
  var panel = document.getElementById("panel-body");
  var clearButton = document.getElementById("map-clear");
  var fitButton = document.getElementById("map-fit");
  var filters = Array.prototype.slice.call(document.querySelectorAll('input[name="relation"]'));

  var RELATION_LABELS = { pays: "pays for", consumes: "consumes", adds_to: "adds to", depends_on: "depends on" };
  var KIND_LABELS = {
    team: "Team", department: "Department",
    external_customer: "External customer", external_supplier: "External supplier"
  };
  var NODE_W = 150, NODE_H = 46;

  var cy = null;
  var map = null;
  var unitsById = {};
  var resultsById = {};
  var pending = 0; // ignore answers to clicks that a later click has overtaken

  function css(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  function setState(state, text) {
    root.setAttribute("data-state", state);
    if (text) {
      message.textContent = text;
      message.hidden = false;
    } else {
      message.hidden = true;
    }
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) {
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }

  function unitName(id) {
    return unitsById[id] ? unitsById[id].name : id;
  }

  function unitUrl(id) {
    return "/units/" + encodeURIComponent(id);
  }

  // -- drawing ------------------------------------------------------------------------

  function elements() {
    var out = [];
    map.units.forEach(function (u) {
      var orphan = u.orphan_results.length > 0;
      out.push({
        group: "nodes",
        data: { id: u.id, label: (orphan ? "⚠ " : "") + u.name, kind: u.kind, orphans: u.orphan_results.length },
        classes: u.kind + (orphan ? " orphan" : "")
      });
    });
    // One edge per (provider, customer, relation): parallel results collapse into it.
    var seen = {};
    map.links.forEach(function (l) {
      var from = resultsById[l.result].unit;
      if (from === l.customer) return; // a unit using its own result is not its customer
      var key = from + "\u0000" + l.customer + "\u0000" + l.relation;
      if (seen[key]) {
        seen[key].data.results.push(l.result);
        return;
      }
      seen[key] = {
        group: "edges",
        data: { id: "e" + out.length, source: from, target: l.customer, relation: l.relation,
                label: RELATION_LABELS[l.relation], results: [l.result] },
        classes: "rel-" + l.relation
      };
      out.push(seen[key]);
    });
    return out;
  }

  function style() {
    var s = [
      { selector: "node", style: {
          "shape": "round-rectangle", "width": NODE_W, "height": NODE_H,
          "background-color": css("--kind-team"), "label": "data(label)",
          "color": "#fff", "font-family": css("--font") || "sans-serif", "font-size": 14,
          "font-weight": 600, "text-valign": "center", "text-halign": "center",
          "text-wrap": "wrap", "text-max-width": NODE_W - 16, "border-width": 0,
          "transition-property": "opacity", "transition-duration": "150ms" } },
      { selector: "node.department", style: { "shape": "rectangle", "background-color": css("--kind-department") } },
      { selector: "node.external_customer", style: { "shape": "ellipse", "background-color": css("--kind-external_customer"), "width": NODE_W + 10, "height": NODE_H + 6 } },
      { selector: "node.external_supplier", style: { "shape": "hexagon", "background-color": css("--kind-external_supplier"), "width": NODE_W + 10 } },
      { selector: "node.orphan", style: { "border-width": 4, "border-style": "dashed", "border-color": css("--orphan") } },
      { selector: "edge", style: {
          "width": 2, "curve-style": "bezier", "target-arrow-shape": "triangle", "arrow-scale": 1.1,
          "line-color": "#94a3b8", "target-arrow-color": "#94a3b8", "opacity": 0.5,
          "font-size": 10, "color": "#1e293b", "text-background-color": "#fff",
          "text-background-opacity": 0.9, "text-background-padding": 2, "text-rotation": "autorotate" } },
      { selector: "edge.rel-adds_to", style: { "line-style": "dashed" } },
      { selector: "edge.rel-depends_on", style: { "line-style": "dotted", "width": 2.5 } },
      { selector: "edge.hidden-relation", style: { "display": "none" } }
    ];
    Object.keys(RELATION_LABELS).forEach(function (rel) {
      var colour = css("--rel-" + rel);
      s.push({ selector: "edge.rel-" + rel, style: { "line-color": colour, "target-arrow-color": colour } });
    });
    return s.concat([
      // Highlighting a chosen unit: everything else fades.
      // Faded units stay legible as grey context; faded edges almost vanish.
      { selector: "node.faded", style: { "background-color": "#e2e8f0", "color": "#64748b", "border-width": 0 } },
      { selector: "edge.faded", style: { "opacity": 0.1 } },
      { selector: "node.focus", style: { "border-width": 4, "border-color": css("--ink"), "border-style": "solid",
          "underlay-color": css("--hl-focus"), "underlay-opacity": 0.55, "underlay-padding": 7, "z-index": 10 } },
      { selector: "node.direct", style: { "border-width": 4, "border-color": css("--hl-direct"), "border-style": "solid" } },
      { selector: "node.indirect", style: { "border-width": 4, "border-color": css("--hl-indirect"), "border-style": "solid" } },
      { selector: "edge.reach", style: { "width": 2.5, "opacity": 0.9, "z-index": 4 } },
      { selector: "edge.out", style: { "width": 3, "opacity": 1, "label": "data(label)", "z-index": 5 } },
      { selector: "edge.path", style: { "width": 4, "opacity": 1, "label": "data(label)", "underlay-color": css("--hl-focus"),
          "underlay-opacity": 0.45, "underlay-padding": 4, "z-index": 6 } }
    ]);
  }

  /* Columns are steps to the external customer, so the picture reads as the chain
     itself: external suppliers in the first column, then the units farthest from the
     external customer, ..., the external customers in the last column. dagre's
     layered layout (crossing reduction) decides the order within each column. Tall
     columns wrap into interleaved sub-columns so the graph keeps a screen-like shape;
     units with no path to an external customer sit in rows below the chain. */
  var COL_GAP = 90, SUB_GAP = 24, ROW_H = NODE_H + 18;

  /* Width and height of the drawing when no sub-column holds more than `rows` units. */
  function extent(columns, strayCount, rows) {
    var width = 0, height = 0;
    columns.forEach(function (members) {
      if (!members || !members.length) return;
      var subs = Math.ceil(members.length / rows);
      width += subs * NODE_W + (subs - 1) * SUB_GAP + COL_GAP;
      height = Math.max(height, Math.ceil(members.length / subs) * ROW_H);
    });
    width = Math.max(width - COL_GAP, NODE_W);
    var perRow = Math.max(1, Math.floor((width + SUB_GAP) / (NODE_W + SUB_GAP)));
    if (strayCount) height += ROW_H + Math.ceil(strayCount / perRow) * ROW_H;
    return { width: width, height: height };
  }

  /* The tallest sub-column that makes the drawing largest on this screen. */
  function bestRows(columns, strayCount) {
    var best = 1, bestZoom = 0;
    var tallest = Math.max.apply(null, columns.map(function (m) { return m ? m.length : 0; }).concat([1]));
    for (var rows = 1; rows <= tallest; rows++) {
      var e = extent(columns, strayCount, rows);
      var zoom = Math.min(root.clientWidth / e.width, root.clientHeight / e.height);
      if (zoom > bestZoom + 1e-9) { best = rows; bestZoom = zoom; }
    }
    return best;
  }

  function arrangeByDepth() {
    cy.layout({ name: "dagre", rankDir: "LR", nodeSep: 20, rankSep: 80,
                ranker: "network-simplex", fit: false, animate: false }).run();
    var maxDepth = 0;
    map.units.forEach(function (u) { if (u.depth !== null && u.depth > maxDepth) maxDepth = u.depth; });
    var columns = [], stray = [];
    cy.nodes().forEach(function (n) {
      var u = unitsById[n.id()];
      var col = u.kind === "external_supplier" ? 0 : u.depth === null ? null : 1 + maxDepth - u.depth;
      if (col === null) { stray.push(n); return; }
      (columns[col] = columns[col] || []).push(n);
    });
    var byDagre = function (a, b) { return a.position("y") - b.position("y") || a.position("x") - b.position("x"); };
    var rowsPerSub = bestRows(columns, stray.length);
    var x = 0, bottom = 0, placed = [];
    columns.forEach(function (members) {
      if (!members || !members.length) return;
      members.sort(byDagre);
      var subs = Math.ceil(members.length / rowsPerSub);
      var rows = Math.ceil(members.length / subs);
      members.forEach(function (n, i) {
        var sub = i % subs, row = Math.floor(i / subs);
        // Interleaved sub-columns keep dagre's top-to-bottom order; the half-row
        // stagger keeps edges from running straight through a neighbour.
        var y = (row - (rows - 1) / 2) * ROW_H + (subs > 1 ? (sub / subs - 0.5 + 0.5 / subs) * ROW_H : 0);
        placed.push([n, x + sub * (NODE_W + SUB_GAP), y]);
        bottom = Math.max(bottom, y);
      });
      x += subs * NODE_W + (subs - 1) * SUB_GAP + COL_GAP;
    });
    var width = Math.max(x - COL_GAP, NODE_W);
    var perRow = Math.max(1, Math.floor((width + SUB_GAP) / (NODE_W + SUB_GAP)));
    stray.sort(function (a, b) { return a.position("x") - b.position("x") || byDagre(a, b); });
    stray.forEach(function (n, i) {
      placed.push([n, (i % perRow) * (NODE_W + SUB_GAP), bottom + 2 * ROW_H + Math.floor(i / perRow) * ROW_H]);
    });
    cy.batch(function () {
      placed.forEach(function (p) { p[0].position({ x: p[1], y: p[2] }); });
    });
  }

  /* A wide, shallow chain would leave empty bands above and below it: shrink the
     canvas to the drawing's shape (within the stylesheet's minimum and maximum) so the
     units are drawn as large as the width allows. */
  function fitHeight() {
    var box = cy.nodes().boundingBox();
    var styles = getComputedStyle(root);
    var wanted = (root.clientWidth - 48) * (box.h / Math.max(box.w, 1)) + 48;
    var min = parseFloat(styles.minHeight) || 0;
    var max = window.innerHeight * 0.74;
    root.style.height = Math.round(Math.min(Math.max(wanted, min), Math.max(max, min))) + "px";
    cy.resize();
    cy.fit(undefined, 24);
  }

  function draw(data) {
    map = data;
    map.units.forEach(function (u) { unitsById[u.id] = u; });
    map.results.forEach(function (r) { resultsById[r.id] = r; });
    var limit = parseInt(root.getAttribute("data-graph-limit"), 10) || 1500;
    if (map.units.length === 0) {
      setState("empty", "The map is empty. Import units, results and links to draw it.");
      return;
    }
    // The API answers one page of units; its total says how many the map holds.
    var count = map.total ? map.total.units : map.units.length;
    if (count > limit) {
      setState("too-large", "This organisation has " + count + " units, more than a readable graph can show (" +
        limit + "). Choose a unit above, or use the table below.");
      return;
    }
    cy = cytoscape({
      container: root,
      elements: elements(),
      style: style(),
      minZoom: 0.15,
      maxZoom: 2.5,
      boxSelectionEnabled: false,
      autoungrabify: false
    });
    arrangeByDepth();
    fitHeight();
    cy.on("tap", "node", function (evt) { choose(evt.target.id()); });
    cy.on("tap", function (evt) { if (evt.target === cy) clearSelection(); });
    cy.on("mouseover", "node", function () { root.style.cursor = "pointer"; });
    cy.on("mouseout", "node", function () { root.style.cursor = ""; });
    applyFilter();
    window.valuechainMap = cy;
    setState("ready");
    var wanted = /(?:^|&)unit=([^&]+)/.exec(location.hash.slice(1));
    if (wanted) choose(decodeURIComponent(wanted[1]));
  }

  // -- filtering ----------------------------------------------------------------------

  function applyFilter() {
    if (!cy) return;
    var shown = {};
    filters.forEach(function (f) { shown[f.value] = f.checked; });
    cy.batch(function () {
      cy.edges().forEach(function (e) {
        e.toggleClass("hidden-relation", !shown[e.data("relation")]);
      });
    });
  }

  // -- choosing a unit ------------------------------------------------------------------

  function clearSelection() {
    pending++;
    root.removeAttribute("data-selected");
    if (select) select.value = "";
    if (clearButton) clearButton.disabled = true;
    if (cy) cy.elements().removeClass("faded focus direct indirect reach out path");
    panel.replaceChildren(el("p", { "class": "muted", text:
      "Click a unit in the graph, or choose one above, to highlight its direct and indirect customers and its paths to the external customers." }));
    if (location.hash) history.replaceState(null, "", location.pathname + location.search);
  }

  function choose(id) {
    var ticket = ++pending;
    var base = root.getAttribute("data-customers-url");
    fetch(base + encodeURIComponent(id) + "/customers", { headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) throw new Error(r.status === 404 ? "There is no unit “" + id + "”." : "The server answered " + r.status + ".");
        return r.json();
      })
      .then(function (found) {
        if (ticket !== pending) return;
        highlight(found);
        showPanel(found);
        root.setAttribute("data-selected", found.unit);
        if (select) select.value = found.unit;
        if (clearButton) clearButton.disabled = false;
        history.replaceState(null, "", "#unit=" + encodeURIComponent(found.unit));
      })
      .catch(function (err) {
        if (ticket !== pending) return;
        panel.replaceChildren(el("p", { "class": "warn", text: err.message }));
      });
  }

  /* Edges between consecutive units of a path, in any shown relation. */
  function edgesAlong(path) {
    var out = cy.collection();
    for (var i = 0; i + 1 < path.length; i++) {
      out = out.union(cy.getElementById(path[i]).edgesTo(cy.getElementById(path[i + 1])));
    }
    return out;
  }

  function highlight(found) {
    if (!cy) return;
    var via = {};
    found.indirect.forEach(function (row) { via[row.unit] = row.via; });
    cy.batch(function () {
      cy.elements().removeClass("focus direct indirect reach out path").addClass("faded");
      var me = cy.getElementById(found.unit);
      me.removeClass("faded").addClass("focus");
      found.direct.forEach(function (row) {
        cy.getElementById(row.unit).removeClass("faded").addClass("direct");
        edgesAlong([found.unit, row.unit]).removeClass("faded").addClass("out");
      });
      found.indirect.forEach(function (row) {
        cy.getElementById(row.unit).removeClass("faded").addClass("indirect");
        edgesAlong([found.unit].concat(row.via, [row.unit])).removeClass("faded").addClass("reach");
      });
      found.external.forEach(function (ext) {
        edgesAlong([found.unit].concat(via[ext] || [], [ext])).removeClass("faded reach out").addClass("path");
      });
    });
    var shown = cy.elements().not(".faded");
    cy.animate({ fit: { eles: shown, padding: 40 } }, { duration: 250 });
  }

  function unitItem(id, extra) {
    var children = [el("a", { href: unitUrl(id), text: unitName(id) })];
    if (extra) children.push(el("span", { "class": "panel-sub", text: extra }));
    return el("li", {}, children);
  }

  function section(title, key, items, empty) {
    var heading = el("h3", {}, key ? [el("span", { "class": "panel-key panel-key--" + key, "aria-hidden": "true" }), title] : [title]);
    var body = items.length ? el("ul", {}, items) : el("p", { "class": "muted", text: empty });
    return [heading, body];
  }

  function showPanel(found) {
    var unit = unitsById[found.unit] || { name: found.unit, kind: "" };
    var nodes = [
      el("p", { "class": "panel-unit", text: unit.name }),
      el("p", { "class": "panel-sub", text: (KIND_LABELS[unit.kind] || "") + " · " + found.unit }),
      el("p", {}, [found.depth === null || found.depth === undefined
        ? el("span", { "class": "warn", text: "No path to an external customer" })
        : document.createTextNode(found.depth === 0 ? "An external customer: the chain ends here."
          : found.depth + (found.depth === 1 ? " step" : " steps") + " from the nearest external customer")])
    ];
    if (found.orphan_results.length) {
      nodes = nodes.concat(section("⚠ Orphan results (" + found.orphan_results.length + ")", null,
        found.orphan_results.map(function (rid) {
          return el("li", { "class": "warn", text: resultsById[rid] ? resultsById[rid].name : rid });
        }), ""));
    }
    nodes = nodes.concat(section("Direct customers (" + found.direct.length + ")", "direct",
      found.direct.map(function (row) {
        var rels = row.relations.map(function (r) { return RELATION_LABELS[r] || r; }).join(", ");
        var results = row.results.map(function (rid) { return resultsById[rid] ? resultsById[rid].name : rid; }).join(", ");
        return unitItem(row.unit, rels + (results ? " · " + results : ""));
      }), "No unit uses this unit's results."));
    nodes = nodes.concat(section("Indirect customers (" + found.indirect.length + ")", "indirect",
      found.indirect.map(function (row) {
        return unitItem(row.unit, "via " + row.via.map(unitName).join(" → "));
      }), "No customers of customers."));
    nodes = nodes.concat(section("External customers reached (" + found.external.length + ")", "path",
      found.external.map(function (id) { return unitItem(id); }), "None."));
    nodes.push(el("a", { "class": "panel-link", href: unitUrl(found.unit), text: "Open the unit page →" }));
    panel.replaceChildren.apply(panel, nodes);
  }

  // -- wiring -------------------------------------------------------------------------

  filters.forEach(function (f) { f.addEventListener("change", applyFilter); });
  if (select) select.addEventListener("change", function () {
    if (select.value) choose(select.value); else clearSelection();
  });
  if (clearButton) clearButton.addEventListener("click", clearSelection);
  if (fitButton) fitButton.addEventListener("click", function () { if (cy) cy.fit(undefined, 24); });

  if (typeof cytoscape === "undefined" || typeof cytoscapeDagre === "undefined") {
    setState("error", "The graph library did not load; the table below lists the same units.");
    return;
  }
  cytoscape.use(cytoscapeDagre);
  fetch(root.getAttribute("data-map-url"), { headers: { Accept: "application/json" } })
    .then(function (r) {
      if (!r.ok) throw new Error("The server answered " + r.status + ".");
      return r.json();
    })
    .then(draw)
    .catch(function (err) {
      setState("error", "The map could not be drawn: " + err.message + " The table below lists the same units.");
    });
})();
