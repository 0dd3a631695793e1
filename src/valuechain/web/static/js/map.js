/* The organisation map: draws /api/v1/map with Cytoscape.js, left to right toward the
   external customer, and, for a chosen unit, highlights its customers and its paths to
   the external customers from /api/v1/units/{id}/customers.

   Above the page's unit limit it starts at department level (/api/v1/map/departments,
   one node per top department, links aggregated) and a click on a department expands
   it (/api/v1/map?department=ID). View options: search, focus on a neighbourhood of
   n steps, group by department (compound nodes, collapsible), colour by a measure,
   link states (proposed, disputed) from /api/v1/links where the viewer may read them;
   the view's state lives in the URL's hash so it can be shared; PNG and SVG export.

   No build step: plain ES2017 in one IIFE. State for scripts and tests: the
   container's data-state ("loading" | "ready" | "empty" | "error"), data-level
   ("unit" | "department"), data-selected (the chosen unit id), data-expanded (the
   expanded departments) and the Cytoscape instance as window.valuechainMap. */
(function () {
  "use strict";

  var root = document.getElementById("cy");
  if (!root) return;
  var $ = function (id) { return document.getElementById(id); };
  var message = $("cy-message");
  var select = $("unit-select");
  var panel = $("panel-body");
  var clearButton = $("map-clear");
  var fitButton = $("map-fit");
  var search = $("map-search");
  var datalist = $("map-units");
  var focusBox = $("map-focus");
  var stepsInput = $("map-steps");
  var groupBox = $("map-group");
  var colourSelect = $("map-colour");
  var colourLegend = $("map-colour-legend");
  var controls = $("map-controls");
  var filters = Array.prototype.slice.call(document.querySelectorAll('input[name="relation"]'));

  var RELATION_LABELS = { pays: "pays for", consumes: "consumes", adds_to: "adds to", depends_on: "depends on" };
  var KIND_LABELS = {
    team: "Team", department: "Department",
    external_customer: "External customer", external_supplier: "External supplier"
  };
  // Measures every map viewer may see (the map is organisation-wide knowledge); a unit
  // without a value is drawn grey, "not shown".
  var MEASURES = {
    direct: function (u) { return u.direct ? u.direct.length : null; },
    external: function (u) { return u.external ? u.external.length : null; },
    depth: function (u) { return u.depth; },
    headcount: function (u) { return u.headcount === undefined ? null : u.headcount; },
    orphans: function (u) { return u.orphan_results ? u.orphan_results.length : null; }
  };
  var NODE_W = 150, NODE_H = 46;

  var cy = null;
  var level = "unit";
  var unitsById = {};      // every unit loaded, by id
  var resultsById = {};    // result id -> producing unit id and name
  var links = {};          // every link loaded: key -> {from, to, relation, state, result}
  var groupOf = {};        // unit id -> its department (root of the part-of tree)
  var groups = {};         // department id -> {id, name, kind, units, depth, ...}
  var departmentEdges = [];
  var expanded = {};       // department level: departments whose units are drawn
  var collapsed = {};      // grouped unit level: departments drawn as one node
  var grouped = false;
  var focusOn = null;
  var coloured = false;    // whether any node carries a measure's colour
  var pending = 0;         // ignore answers to clicks that a later click has overtaken
  var restoring = true;    // while the hash is being applied, do not rewrite it
  // Milliseconds since navigation at each step, for the benchmark (bench_map_page).
  var timings = window.valuechainMapTimings = {};
  function mark(name) { timings[name] = Math.round(performance.now()); }

  function css(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  function setState(state, text) {
    root.setAttribute("data-state", state);
    if (text) { message.textContent = text; message.hidden = false; } else { message.hidden = true; }
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

  function getJSON(url) {
    return fetch(url, { headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok) throw new Error(r.status === 404 ? "not found" : "The server answered " + r.status + ".");
      return r.json();
    });
  }

  /* Every page of a paged API document, its lists concatenated. */
  function getAll(url, keys) {
    return getJSON(url).then(function (doc) {
      if (!doc.next) return doc;
      return getAll(doc.next, keys).then(function (rest) {
        keys.forEach(function (k) { doc[k] = doc[k].concat(rest[k]); });
        Object.keys(rest.departments && !Array.isArray(rest.departments) ? rest.departments : {}).forEach(function (k) {
          doc.departments[k] = rest.departments[k];
        });
        doc.next = null;
        return doc;
      });
    });
  }

  function unitName(id) { return unitsById[id] ? unitsById[id].name : groups[id] ? groups[id].name : id; }
  function unitUrl(id) { return "/units/" + encodeURIComponent(id); }

  // -- the view's state in the URL ------------------------------------------------------

  function readHash() {
    var out = {};
    location.hash.slice(1).split("&").forEach(function (pair) {
      var i = pair.indexOf("=");
      if (i > 0) out[pair.slice(0, i)] = decodeURIComponent(pair.slice(i + 1));
    });
    return out;
  }

  function writeHash() {
    if (restoring) return;
    var s = [];
    var add = function (k, v) { if (v) s.push(k + "=" + encodeURIComponent(v)); };
    add("unit", root.getAttribute("data-selected"));
    if (focusOn) { add("focus", focusOn); add("n", stepsInput.value); }
    if (grouped) add("group", "1");
    add("colour", colourSelect.value);
    add("expand", Object.keys(expanded).join(","));
    add("collapse", Object.keys(collapsed).join(","));
    var hash = s.join("&");
    history.replaceState(null, "", location.pathname + location.search + (hash ? "#" + hash : ""));
  }

  // -- loading --------------------------------------------------------------------------

  function addUnits(doc) {
    doc.units.forEach(function (u) { unitsById[u.id] = u; });
    doc.results.forEach(function (r) { resultsById[r.id] = r.unit; });
    Object.keys(doc.producers || {}).forEach(function (r) { resultsById[r] = doc.producers[r]; });
    doc.links.forEach(function (l) { addLink(resultsById[l.result], l.customer, l.relation, "confirmed", l.result); });
    Object.keys(doc.departments || {}).forEach(function (u) { groupOf[u] = doc.departments[u]; });
  }

  function addLink(from, to, relation, state, result) {
    if (!from || from === to) return; // a unit using its own result is not its customer
    links[result + "\u0000" + to + "\u0000" + relation] =
      { from: from, to: to, relation: relation, state: state, result: result };
  }

  /* Departments computed from the loaded units' parents (the unit level), as the
     server does for the department level: the root of each part-of tree. */
  function computeGroups() {
    Object.keys(unitsById).forEach(function (id) {
      var seen = {}, at = id;
      while (unitsById[at] && unitsById[at].parent && unitsById[unitsById[at].parent] && !seen[at]) {
        seen[at] = true;
        at = unitsById[at].parent;
      }
      var u = unitsById[id];
      if (at === id && !u.parent && (u.kind === "external_customer" || u.kind === "external_supplier")) {
        return; // parentless external units stay on their own at unit level
      }
      groupOf[id] = at;
      if (!groups[at]) groups[at] = { id: at, name: unitsById[at].name, kind: unitsById[at].kind, units: 0 };
      groups[at].units++;
    });
    // A department of one unit is not worth a box.
    Object.keys(unitsById).forEach(function (id) {
      if (groupOf[id] && groups[groupOf[id]].units < 2) { delete groups[groupOf[id]]; delete groupOf[id]; }
    });
  }

  // -- elements ---------------------------------------------------------------------------

  function measureOf(u) {
    var m = MEASURES[colourSelect.value];
    return m ? m(u) : undefined;
  }

  function unitNode(u, parent) {
    var orphan = u.orphan_results.length > 0;
    var data = { id: u.id, label: (orphan ? "⚠ " : "") + u.name, kind: u.kind };
    if (parent) data.parent = "g:" + parent;
    return { group: "nodes", data: data, classes: "unit " + u.kind + (orphan ? " orphan" : "") };
  }

  function groupNode(g, asUnit) {
    var label = g.name + (g.units ? " (" + g.units + (g.units === 1 ? " unit)" : " units)") : "");
    return { group: "nodes", data: { id: "g:" + g.id, label: label, kind: g.kind, group: g.id },
             classes: (level === "department" ? "department-node " : "group ") + g.kind + (asUnit ? " collapsed" : "") };
  }

  /* Which drawn node stands for a unit: itself, else its department's node. */
  var present = {};        // ids of the nodes drawn now

  function standIn(id) {
    if (present[id]) return id;
    var g = groupOf[id];
    return g && present["g:" + g] ? "g:" + g : null;
  }

  /* Edges are rebuilt from the loaded links whenever nodes come or go: one edge per
     (from, to, relation, state) between the nodes that stand for the two units. */
  function rebuildEdges() {
    var out = {}, list = [];
    // Lean data: Cytoscape copies every element's data, thousands of times over.
    var put = function (from, to, relation, state, count) {
      if (!from || !to || from === to) return;
      var key = from + "\u0000" + to + "\u0000" + relation + "\u0000" + state;
      if (out[key]) { out[key].data.links += count; return; }
      out[key] = { group: "edges", data: { id: "e" + list.length, source: from, target: to, relation: relation,
        state: state, links: count, label: RELATION_LABELS[relation] },
        classes: "rel-" + relation + " state-" + state };
      list.push(out[key]);
    };
    departmentEdges.forEach(function (e) {
      if (expanded[e.source] || expanded[e.target]) return; // the units' own links stand instead
      put("g:" + e.source, "g:" + e.target, e.relation, "confirmed", e.links);
    });
    Object.keys(links).forEach(function (k) {
      var l = links[k];
      put(standIn(l.from), standIn(l.to), l.relation, l.state, 1);
    });
    cy.batch(function () {
      cy.edges().remove();
      cy.add(list);
    });
    edgeIndex = null;
    applyFilter();
  }

  function style(big) {
    var s = [
      { selector: "node", style: {
          "shape": "round-rectangle", "width": NODE_W, "height": NODE_H,
          "background-color": css("--kind-team"), "label": "data(label)",
          "color": "#fff", "font-family": css("--font") || "sans-serif", "font-size": 14,
          "font-weight": 600, "text-valign": "center", "text-halign": "center",
          "text-wrap": "wrap", "text-max-width": NODE_W - 16, "border-width": 0,
          // Labels too small to read are not drawn at all (most of the drawing time).
          "min-zoomed-font-size": 7 } },
      { selector: "node.department", style: { "shape": "rectangle", "background-color": css("--kind-department") } },
      { selector: "node.external_customer", style: { "shape": "ellipse", "background-color": css("--kind-external_customer"), "width": NODE_W + 10, "height": NODE_H + 6 } },
      { selector: "node.external_supplier", style: { "shape": "hexagon", "background-color": css("--kind-external_supplier"), "width": NODE_W + 10 } },
      { selector: "node.orphan", style: { "border-width": 4, "border-style": "dashed", "border-color": css("--orphan") } },
      { selector: "node.department-node", style: { "height": NODE_H + 14, "font-size": 13 } },
      // A department drawn around its units: a pale box, its name on top.
      { selector: "node:parent", style: { "shape": "round-rectangle", "background-color": "#eef2ff",
          "background-opacity": 0.7, "border-width": 1, "border-color": "#a5b4fc", "color": css("--ink"),
          "text-valign": "top", "text-halign": "center", "font-size": 13, "padding": 12 } },
      { selector: "node.group.collapsed", style: { "border-width": 3, "border-style": "double", "border-color": "#1e1b4b" } },
      { selector: "node.not-shown", style: { "background-color": "#cbd5e1", "color": "#334155" } },
      { selector: "edge", style: {
          "width": 2, "curve-style": "straight", "target-arrow-shape": "triangle", "arrow-scale": 1.1,
          "line-color": "#94a3b8", "target-arrow-color": "#94a3b8", "opacity": 0.5,
          "font-size": 10, "color": "#1e293b", "text-background-color": "#fff",
          "text-background-opacity": 0.9, "text-background-padding": 2, "text-rotation": "autorotate" } },
      // Thousands of edges: haystack lines, the cheapest Cytoscape draws (no arrow
      // heads; the columns already say which way work flows, and a chosen unit's
      // edges get their arrows back below).
      { selector: "edge", style: big ? { "curve-style": "haystack", "haystack-radius": 0 } : {} },
      { selector: "edge[links > 1]", style: { "width": "mapData(links, 1, 50, 2, 9)" } },
      { selector: "edge.hidden-relation", style: { "display": "none" } }
    ];
    Object.keys(RELATION_LABELS).forEach(function (rel) {
      var colour = css("--rel-" + rel);
      s.push({ selector: "edge.rel-" + rel, style: { "line-color": colour, "target-arrow-color": colour } });
    });
    return s.concat([
      // Link states: confirmed solid, proposed dashed, disputed red and dashed.
      { selector: "edge.state-proposed", style: { "line-style": "dashed", "line-dash-pattern": [8, 5], "opacity": 0.9 } },
      { selector: "edge.state-disputed", style: { "line-style": "dashed", "line-dash-pattern": [8, 5], "opacity": 0.9,
          "line-color": css("--state-disputed") || "#dc2626", "target-arrow-color": css("--state-disputed") || "#dc2626" } },
      { selector: ".out-of-focus", style: { "display": "none" } },
      // Highlighting a chosen unit: everything else fades.
      { selector: "node.faded", style: { "background-color": "#e2e8f0", "color": "#64748b", "border-width": 0 } },
      { selector: "edge.faded", style: { "opacity": 0.1 } },
      { selector: "node.focus", style: { "border-width": 4, "border-color": css("--ink"), "border-style": "solid",
          "underlay-color": css("--hl-focus"), "underlay-opacity": 0.55, "underlay-padding": 7, "z-index": 10 } },
      { selector: "node.direct", style: { "border-width": 4, "border-color": css("--hl-direct"), "border-style": "solid" } },
      { selector: "node.indirect", style: { "border-width": 4, "border-color": css("--hl-indirect"), "border-style": "solid" } },
      { selector: "edge.reach, edge.out, edge.path", style: { "curve-style": "straight" } },
      { selector: "edge.reach", style: { "width": 2.5, "opacity": 0.9, "z-index": 4 } },
      { selector: "edge.out", style: { "width": 3, "opacity": 1, "label": "data(label)", "z-index": 5 } },
      { selector: "edge.path", style: { "width": 4, "opacity": 1, "label": "data(label)", "underlay-color": css("--hl-focus"),
          "underlay-opacity": 0.45, "underlay-padding": 4, "z-index": 6 } }
    ]);
  }

  // -- layout -----------------------------------------------------------------------------

  /* Columns are steps to the external customer, so the picture reads as the chain
     itself: external suppliers first, then the units farthest from the external
     customer, ..., the external customers last. Within a column the order comes from
     barycentre sweeps (each node moves toward the mean place of its neighbours in the
     other columns, the crossing reduction of layered layouts), linear in the edges so
     2,000 units lay out in milliseconds. Tall columns wrap into interleaved
     sub-columns so the graph keeps a screen-like shape; nodes with no path to an
     external customer sit in rows below the chain. */
  var COL_GAP = 90, SUB_GAP = 24, ROW_H = NODE_H + 18;

  function infoOf(node) {
    return node.data("group") ? groups[node.data("group")] : unitsById[node.id()];
  }

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

  function bestRows(columns, strayCount) {
    var best = 1, bestZoom = 0;
    var tallest = Math.max.apply(null, columns.map(function (m) { return m ? m.length : 0; }).concat([1]));
    var step = Math.max(1, Math.floor(tallest / 200));
    for (var rows = 1; rows <= tallest; rows += step) {
      var e = extent(columns, strayCount, rows);
      var zoom = Math.min(root.clientWidth / e.width, root.clientHeight / e.height);
      if (zoom > bestZoom + 1e-9) { best = rows; bestZoom = zoom; }
    }
    return best;
  }

  function barycentreOrder(columns, nodes) {
    var place = {};
    columns.forEach(function (members) {
      if (!members) return;
      members.sort(function (a, b) { return a.id() < b.id() ? -1 : 1; });
      members.forEach(function (n, i) { place[n.id()] = i / Math.max(1, members.length - 1); });
    });
    var neighbours = {};
    nodes.forEach(function (n) { neighbours[n.id()] = []; });
    cy.edges().forEach(function (e) {
      // Ids from the data: e.source() would build a collection per call.
      var s = e.data("source"), t = e.data("target");
      if (neighbours[s] && neighbours[t]) { neighbours[s].push(t); neighbours[t].push(s); }
    });
    for (var sweep = 0; sweep < 6; sweep++) {
      var order = sweep % 2 ? columns.slice().reverse() : columns;
      order.forEach(function (members) {
        if (!members || members.length < 2) return;
        var key = {};
        members.forEach(function (n) {
          var near = neighbours[n.id()], sum = 0, count = 0;
          for (var i = 0; i < near.length; i++) if (place[near[i]] !== undefined) { sum += place[near[i]]; count++; }
          key[n.id()] = count ? sum / count : place[n.id()];
        });
        members.sort(function (a, b) { return key[a.id()] - key[b.id()] || (a.id() < b.id() ? -1 : 1); });
        members.forEach(function (n, i) { place[n.id()] = i / (members.length - 1); });
      });
    }
  }

  function arrangeByDepth(nodes) {
    var maxDepth = 0;
    nodes.forEach(function (n) { var u = infoOf(n); if (u && u.depth !== null && u.depth > maxDepth) maxDepth = u.depth; });
    var columns = [], stray = [];
    nodes.forEach(function (n) {
      var u = infoOf(n) || {};
      var col = u.kind === "external_supplier" ? 0 : (u.depth === null || u.depth === undefined) ? null : 1 + maxDepth - u.depth;
      if (col === null) { stray.push(n); return; }
      (columns[col] = columns[col] || []).push(n);
    });
    barycentreOrder(columns, nodes);
    var rowsPerSub = bestRows(columns, stray.length);
    var x = 0, bottom = 0, placed = [];
    columns.forEach(function (members) {
      if (!members || !members.length) return;
      var subs = Math.ceil(members.length / rowsPerSub);
      var rows = Math.ceil(members.length / subs);
      members.forEach(function (n, i) {
        var sub = i % subs, row = Math.floor(i / subs);
        // Interleaved sub-columns keep the top-to-bottom order; the half-row stagger
        // keeps edges from running straight through a neighbour.
        var y = (row - (rows - 1) / 2) * ROW_H + (subs > 1 ? (sub / subs - 0.5 + 0.5 / subs) * ROW_H : 0);
        placed.push([n, x + sub * (NODE_W + SUB_GAP), y]);
        bottom = Math.max(bottom, y);
      });
      x += subs * NODE_W + (subs - 1) * SUB_GAP + COL_GAP;
    });
    var width = Math.max(x - COL_GAP, NODE_W);
    var perRow = Math.max(1, Math.floor((width + SUB_GAP) / (NODE_W + SUB_GAP)));
    stray.sort(function (a, b) { return a.id() < b.id() ? -1 : 1; });
    stray.forEach(function (n, i) {
      placed.push([n, (i % perRow) * (NODE_W + SUB_GAP), bottom + 2 * ROW_H + Math.floor(i / perRow) * ROW_H]);
    });
    cy.batch(function () {
      placed.forEach(function (p) { p[0].position({ x: p[1], y: p[2] }); });
    });
  }

  /* Grouped, the departments are compound nodes: dagre's layered layout (left to
     right, compound-aware) keeps each department's units together. */
  function layout() {
    if (grouped && level === "unit") {
      cy.layout({ name: "dagre", rankDir: "LR", nodeSep: 16, rankSep: 70, fit: false, animate: false }).run();
    } else if (level === "department") {
      arrangeByDepth(cy.nodes().filter(function (n) { return !n.isChild(); }));
      cy.nodes(":parent").forEach(spreadChildren);
    } else {
      arrangeByDepth(cy.nodes());
    }
    mark("layout");
  }

  /* An expanded department's units in a small grid where the department stood. */
  function spreadChildren(parent) {
    var kids = parent.children(), at = parent.data("home") || parent.position();
    var per = Math.ceil(Math.sqrt(kids.length));
    kids.forEach(function (n, i) {
      n.position({ x: at.x + (i % per - (per - 1) / 2) * (NODE_W + 12), y: at.y + (Math.floor(i / per)) * (NODE_H + 12) });
    });
  }

  /* The box around nodes from their positions: Cytoscape's own boundingBox() also
     measures every label and edge, seconds at 2,000 units. */
  function boxOf(nodes) {
    var b = { x1: Infinity, y1: Infinity, x2: -Infinity, y2: -Infinity };
    nodes.forEach(function (n) {
      var p = n.isParent() ? null : n.position();
      var nb = p ? { x1: p.x - NODE_W / 2 - 5, x2: p.x + NODE_W / 2 + 5, y1: p.y - NODE_H / 2 - 7, y2: p.y + NODE_H / 2 + 7 }
        : n.boundingBox({ includeLabels: false, includeEdges: false });
      b.x1 = Math.min(b.x1, nb.x1); b.y1 = Math.min(b.y1, nb.y1);
      b.x2 = Math.max(b.x2, nb.x2); b.y2 = Math.max(b.y2, nb.y2);
    });
    if (b.x1 === Infinity) b = { x1: 0, y1: 0, x2: 1, y2: 1 };
    b.w = b.x2 - b.x1; b.h = b.y2 - b.y1;
    return b;
  }

  /* cy.fit() on the nodes' own box. */
  function fitTo(eles, padding, animate) {
    // Classes, not computed styles: reading a style computes it for every node.
    var nodes = (eles || cy.nodes()).nodes().filter(function (n) { return !n.hasClass("out-of-focus"); });
    if (nodes.empty()) return;
    var b = boxOf(nodes), w = cy.width(), h = cy.height(), pad = padding || 24;
    var zoom = Math.min((w - 2 * pad) / Math.max(b.w, 1), (h - 2 * pad) / Math.max(b.h, 1));
    zoom = Math.max(cy.minZoom(), Math.min(cy.maxZoom(), zoom));
    var view = { zoom: zoom, pan: { x: w / 2 - zoom * (b.x1 + b.w / 2), y: h / 2 - zoom * (b.y1 + b.h / 2) } };
    if (animate) cy.animate(view, { duration: 250 }); else cy.viewport(view);
  }

  function fitHeight() {
    var box = boxOf(cy.nodes());
    var styles = getComputedStyle(root);
    var wanted = (root.clientWidth - 48) * (box.h / Math.max(box.w, 1)) + 48;
    var min = parseFloat(styles.minHeight) || 0;
    var max = window.innerHeight * 0.74;
    root.style.height = Math.round(Math.min(Math.max(wanted, min), Math.max(max, min))) + "px";
    cy.resize();
    fitTo(cy.nodes(), 24);
  }

  // -- drawing ----------------------------------------------------------------------------

  /* The nodes for the current level, grouping and collapsed departments. */
  function nodeElements() {
    var out = [];
    if (level === "department") {
      Object.keys(groups).forEach(function (g) { out.push(groupNode(groups[g], !expanded[g])); });
      Object.keys(unitsById).forEach(function (id) {
        if (expanded[groupOf[id]]) out.push(unitNode(unitsById[id], groupOf[id]));
      });
      return out;
    }
    if (grouped) {
      Object.keys(groups).forEach(function (g) { out.push(groupNode(groups[g], collapsed[g])); });
    }
    Object.keys(unitsById).forEach(function (id) {
      var g = grouped ? groupOf[id] : null;
      if (g && collapsed[g]) return;
      out.push(unitNode(unitsById[id], g));
    });
    return out;
  }

  function redraw(keepView) {
    var positions = {};
    cy.nodes().forEach(function (n) { positions[n.id()] = n.position(); });
    var nodes = nodeElements();
    present = {};
    nodes.forEach(function (n) { present[n.data.id] = true; });
    cy.batch(function () {
      cy.elements().remove();
      cy.add(nodes);
    });
    mark("nodes");
    rebuildEdges();
    mark("edges");
    if (level === "department" && keepView) {
      cy.nodes().forEach(function (n) { if (!n.isChild() && positions[n.id()]) n.position(positions[n.id()]); });
      cy.nodes(":parent").forEach(function (p) { p.data("home", positions[p.id()]); spreadChildren(p); });
    } else {
      layout();
    }
    mark("placed");
    applyColour();
    mark("coloured");
    applyFocus();
    mark("focused");
    root.setAttribute("data-expanded", Object.keys(expanded).join(" "));
    if (!Object.keys(expanded).length) root.removeAttribute("data-expanded");
    if (!keepView) fitTo(cy.nodes(), 24);
  }

  function start(doc) {
    mark("fetched");
    var big = Object.keys(unitsById).length + Object.keys(groups).length > 400 ||
      Object.keys(links).length + departmentEdges.length > 1000;
    if (doc.units && doc.units.length === 0) {
      setState("empty", "The map is empty. Import units, results and links to draw it.");
      return;
    }
    cy = cytoscape({
      container: root, style: style(big), minZoom: 0.05, maxZoom: 2.5,
      boxSelectionEnabled: false, autoungrabify: false,
      // A big drawing stays responsive: edges hidden and a cached bitmap while the
      // view moves, one pixel per CSS pixel.
      hideEdgesOnViewport: big, textureOnViewport: big, pixelRatio: big ? 1 : "auto"
    });
    cy.on("tap", "node", function (evt) { tapped(evt.target); });
    cy.on("tap", function (evt) { if (evt.target === cy) clearSelection(); });
    cy.on("mouseover", "node", function () { root.style.cursor = "pointer"; });
    cy.on("mouseout", "node", function () { root.style.cursor = ""; });
    redraw(false);
    mark("drawn");
    fitHeight();
    mark("fitted");
    fillSearch();
    window.valuechainMap = cy;
    root.setAttribute("data-level", level);
    setState("ready");
    mark("ready");
    restore();
    var openUrl = root.getAttribute("data-open-links-url");
    if (openUrl) getJSON(openUrl).then(addOpenLinks).catch(function () { /* states stay unknown */ });
  }

  function addOpenLinks(doc) {
    doc.links.forEach(function (l) {
      if (!resultsById[l.result_id]) resultsById[l.result_id] = l.provider;
      addLink(l.provider, l.customer_id, l.relation, l.state, l.result_id);
      if (!groupOf[l.provider] && !unitsById[l.provider]) return;
    });
    rebuildEdges();
    root.setAttribute("data-open-links", String(doc.links.length));
  }

  function tapped(node) {
    var g = node.data("group");
    if (g && level === "department") { toggleDepartment(g); return; }
    if (g) { toggleGroup(g); return; }
    choose(node.id());
  }

  // -- department level -------------------------------------------------------------------

  function toggleDepartment(id) {
    if (expanded[id]) {
      delete expanded[id];
      redraw(true);
      writeHash();
      return Promise.resolve();
    }
    var base = root.getAttribute("data-map-url").split("?")[0];
    return getAll(base + "?limit=5000&department=" + encodeURIComponent(id), ["units", "results", "links"])
      .then(function (doc) {
        addUnits(doc);
        doc.units.forEach(function (u) { groupOf[u.id] = id; });
        expanded[id] = true;
        fillSearch();
        redraw(true);
        writeHash();
      });
  }

  // -- grouping ---------------------------------------------------------------------------

  function toggleGroup(id) {
    if (collapsed[id]) delete collapsed[id]; else collapsed[id] = true;
    redraw(true);
    if (grouped) layout();
    writeHash();
  }

  function setGrouped(on) {
    grouped = on;
    if (!on) collapsed = {};
    if (level === "unit") redraw(false);
    writeHash();
  }

  // -- colour -----------------------------------------------------------------------------

  function applyColour() {
    if (!cy) return;
    var measure = colourSelect ? colourSelect.value : "";
    var values = [];
    if (measure) {
      cy.nodes(".unit").forEach(function (n) {
        var v = measureOf(unitsById[n.id()]);
        n.data("m", v === null || v === undefined ? undefined : v);
        if (v !== null && v !== undefined) values.push(v);
      });
    }
    var lo = values.length ? Math.min.apply(null, values) : 0;
    var hi = values.length ? Math.max.apply(null, values) : 1;
    if (hi === lo) hi = lo + 1;
    if (!measure && !coloured) { if (colourLegend) colourLegend.hidden = true; return; }
    coloured = !!measure;
    cy.batch(function () {
      cy.nodes(".unit").forEach(function (n) {
        var v = n.data("m");
        n.toggleClass("not-shown", !!measure && v === undefined);
        if (measure && v !== undefined) {
          // Light to dark blue: a sequential scale that reads in greyscale too.
          var t = (v - lo) / (hi - lo);
          var shade = "rgb(" + Math.round(219 - t * 189) + "," + Math.round(234 - t * 176) + "," + Math.round(254 - t * 116) + ")";
          n.style({ "background-color": shade, "color": t > 0.45 ? "#fff" : "#0f172a" });
        } else {
          n.removeStyle("background-color color");
        }
      });
    });
    if (colourLegend) {
      colourLegend.hidden = !measure;
      if (measure) {
        colourLegend.querySelector(".scale-lo").textContent = String(lo);
        colourLegend.querySelector(".scale-hi").textContent = String(values.length ? hi : lo);
      }
    }
  }

  // -- focus on a neighbourhood -----------------------------------------------------------

  /* Units within n steps downstream (customers) and upstream (suppliers) of the focus. */
  function neighbourhood(id, n) {
    var start = cy.getElementById(id);
    var keep = start;
    var down = start, up = start;
    for (var i = 0; i < n; i++) {
      down = down.outgoers("node").difference(keep);
      up = up.incomers("node").difference(keep);
      keep = keep.union(down).union(up);
    }
    return keep.union(keep.ancestors());
  }

  function applyFocus() {
    if (!cy) return;
    var before = cy.elements(".out-of-focus");
    if (before.nonempty()) before.removeClass("out-of-focus");
    if (!focusOn || cy.getElementById(focusOn).empty()) return;
    var n = Math.max(1, Math.min(9, parseInt(stepsInput.value, 10) || 1));
    var keep = neighbourhood(focusOn, n);
    cy.batch(function () {
      cy.nodes().difference(keep).addClass("out-of-focus");
      keep.descendants().removeClass("out-of-focus");
    });
    root.setAttribute("data-focus", focusOn);
  }

  function setFocus() {
    focusOn = focusBox.checked ? root.getAttribute("data-selected") : null;
    if (focusBox.checked && !focusOn) { focusBox.checked = false; }
    if (!focusOn) root.removeAttribute("data-focus");
    applyFocus();
    if (cy) fitTo(cy.nodes().not(".out-of-focus"), 30);
    writeHash();
  }

  // -- filtering --------------------------------------------------------------------------

  function applyFilter() {
    if (!cy) return;
    var shown = {};
    filters.forEach(function (f) { shown[f.value] = f.checked; });
    cy.batch(function () {
      cy.edges().forEach(function (e) {
        // Only a change costs a restyle.
        var hide = !shown[e.data("relation")];
        if (hide !== e.hasClass("hidden-relation")) e.toggleClass("hidden-relation", hide);
      });
    });
  }

  // -- search -----------------------------------------------------------------------------

  function fillSearch() {
    if (!datalist) return;
    var names = [];
    Object.keys(unitsById).forEach(function (id) { names.push(unitsById[id].name); });
    if (level === "department") Object.keys(groups).forEach(function (g) { names.push(groups[g].name); });
    names.sort();
    datalist.replaceChildren.apply(datalist, names.map(function (n) { return el("option", { value: n }); }));
  }

  function findByName(text) {
    var wanted = text.trim().toLowerCase();
    if (!wanted) return null;
    var ids = Object.keys(unitsById);
    var exact = ids.filter(function (id) { return unitsById[id].name.toLowerCase() === wanted || id.toLowerCase() === wanted; });
    if (exact.length) return { unit: exact[0] };
    var groupIds = Object.keys(groups).filter(function (g) { return groups[g].name.toLowerCase() === wanted; });
    if (groupIds.length) return { group: groupIds[0] };
    var part = ids.filter(function (id) { return unitsById[id].name.toLowerCase().indexOf(wanted) >= 0; });
    return part.length ? { unit: part[0] } : null;
  }

  function searched() {
    var found = findByName(search.value);
    if (!found) { search.setCustomValidity("No unit of that name"); search.reportValidity(); return; }
    search.setCustomValidity("");
    if (found.group && level === "department" && !expanded[found.group]) {
      toggleDepartment(found.group).then(function () { centre("g:" + found.group); });
      return;
    }
    if (found.unit && grouped && collapsed[groupOf[found.unit]]) toggleGroup(groupOf[found.unit]);
    if (found.unit) { choose(found.unit); centre(found.unit); } else { centre("g:" + found.group); }
  }

  function centre(id) {
    var node = cy.getElementById(id);
    if (node.nonempty()) cy.animate({ center: { eles: node }, zoom: Math.max(cy.zoom(), 0.9) }, { duration: 200 });
  }

  // -- choosing a unit --------------------------------------------------------------------

  function clearSelection() {
    pending++;
    root.removeAttribute("data-selected");
    if (select) select.value = "";
    if (clearButton) clearButton.disabled = true;
    if (cy) cy.elements().removeClass("faded focus direct indirect reach out path");
    panel.replaceChildren(el("p", { "class": "muted", text:
      "Click a unit in the graph, or choose one above, to highlight its direct and indirect customers and its paths to the external customers." }));
    if (focusBox && focusBox.checked) { focusBox.checked = false; setFocus(); }
    writeHash();
  }

  function choose(id) {
    var ticket = ++pending;
    var base = root.getAttribute("data-customers-url");
    return getJSON(base + encodeURIComponent(id) + "/customers")
      .then(function (found) {
        if (ticket !== pending) return;
        highlight(found);
        showPanel(found);
        root.setAttribute("data-selected", found.unit);
        if (select) select.value = found.unit;
        if (clearButton) clearButton.disabled = false;
        if (focusBox && focusBox.checked) { focusOn = found.unit; applyFocus(); }
        writeHash();
      })
      .catch(function (err) {
        if (ticket !== pending) return;
        var text = err.message === "not found" ? "There is no unit “" + id + "”." : err.message;
        panel.replaceChildren(el("p", { "class": "warn", text: text }));
      });
  }

  /* Edges between consecutive units of a path, from an index of the edges by their
     ends: one collection per path, not one per step (a union copies a collection). */
  var edgeIndex = null;
  function edgesAlong(path) {
    if (!edgeIndex) {
      edgeIndex = {};
      cy.edges().forEach(function (e) {
        var k = e.data("source") + "\u0000" + e.data("target");
        (edgeIndex[k] = edgeIndex[k] || []).push(e);
      });
    }
    var out = [];
    for (var i = 0; i + 1 < path.length; i++) {
      var found = edgeIndex[path[i] + "\u0000" + path[i + 1]];
      if (found) out.push.apply(out, found);
    }
    return cy.collection(out);
  }

  function highlight(found) {
    if (!cy) return;
    var via = {};
    found.indirect.forEach(function (row) { via[row.unit] = row.via; });
    cy.batch(function () {
      cy.elements().removeClass("focus direct indirect reach out path").addClass("faded");
      cy.nodes(":parent").removeClass("faded");
      cy.getElementById(found.unit).removeClass("faded").addClass("focus");
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
    var shown = cy.nodes().not(".faded").not(".out-of-focus");
    if (shown.nonempty()) fitTo(shown, 40, true);
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
    var unit = unitsById[found.unit] || { name: found.name || found.unit, kind: "" };
    var names = {};
    found.direct.concat(found.indirect).forEach(function (row) { names[row.unit] = row.name; });
    var nameOf = function (id) { return unitsById[id] ? unitsById[id].name : names[id] || id; };
    var item = function (id, extra) {
      var children = [el("a", { href: unitUrl(id), text: nameOf(id) })];
      if (extra) children.push(el("span", { "class": "panel-sub", text: extra }));
      return el("li", {}, children);
    };
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
        found.orphan_results.map(function (rid) { return el("li", { "class": "warn", text: rid }); }), ""));
    }
    nodes = nodes.concat(section("Direct customers (" + found.direct.length + ")", "direct",
      found.direct.map(function (row) {
        var rels = row.relations.map(function (r) { return RELATION_LABELS[r] || r; }).join(", ");
        return item(row.unit, rels);
      }), "No unit uses this unit's results."));
    nodes = nodes.concat(section("Indirect customers (" + found.indirect.length + ")", "indirect",
      found.indirect.map(function (row) { return item(row.unit, "via " + row.via.map(nameOf).join(" → ")); }),
      "No customers of customers."));
    nodes = nodes.concat(section("External customers reached (" + found.external.length + ")", "path",
      found.external.map(function (id) { return item(id); }), "None."));
    nodes.push(el("a", { "class": "panel-link", href: unitUrl(found.unit), text: "Open the unit page →" }));
    panel.replaceChildren.apply(panel, nodes);
  }

  // -- export -----------------------------------------------------------------------------

  function download(blob, name) {
    var url = URL.createObjectURL(blob);
    var a = el("a", { href: url, download: name });
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
  }

  function exportPng() {
    download(cy.png({ output: "blob", full: true, scale: 2, bg: "#ffffff" }), "organisation-map.png");
  }

  function esc(text) {
    return String(text).replace(/[&<>"]/g, function (c) { return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]; });
  }

  /* The drawing as SVG from the elements' own positions and computed styles (no
     library: the one published for Cytoscape is GPL, this project Apache-2.0). */
  function exportSvg() {
    var shown = cy.elements(":visible");
    var box = shown.boundingBox();
    var pad = 20, out = [];
    out.push('<svg xmlns="http://www.w3.org/2000/svg" viewBox="' + [box.x1 - pad, box.y1 - pad, box.w + 2 * pad, box.h + 2 * pad].join(" ") +
      '" width="' + Math.round(box.w + 2 * pad) + '" height="' + Math.round(box.h + 2 * pad) + '" font-family="sans-serif">');
    out.push('<rect x="' + (box.x1 - pad) + '" y="' + (box.y1 - pad) + '" width="' + (box.w + 2 * pad) + '" height="' + (box.h + 2 * pad) + '" fill="#fff"/>');
    shown.nodes(":parent").forEach(function (n) {
      var b = n.boundingBox({ includeLabels: false });
      out.push('<g class="department"><rect x="' + b.x1 + '" y="' + b.y1 + '" width="' + b.w + '" height="' + b.h +
        '" rx="6" fill="#eef2ff" stroke="#a5b4fc"/><text x="' + (b.x1 + b.w / 2) + '" y="' + (b.y1 - 4) +
        '" text-anchor="middle" font-size="13">' + esc(n.data("label")) + "</text></g>");
    });
    shown.edges().forEach(function (e) {
      var s = e.sourceEndpoint(), t = e.targetEndpoint();
      var colour = e.style("line-color"), dash = e.style("line-style") === "dashed" ? ' stroke-dasharray="8 5"' : "";
      var dx = t.x - s.x, dy = t.y - s.y, len = Math.hypot(dx, dy) || 1, ux = dx / len, uy = dy / len;
      var head = [t.x, t.y, t.x - 10 * ux + 5 * uy, t.y - 10 * uy - 5 * ux, t.x - 10 * ux - 5 * uy, t.y - 10 * uy + 5 * ux];
      out.push('<g class="edge ' + esc(e.classes().join(" ")) + '" opacity="' + e.style("opacity") + '"><line x1="' + s.x + '" y1="' + s.y +
        '" x2="' + t.x + '" y2="' + t.y + '" stroke="' + colour + '" stroke-width="' + parseFloat(e.style("width")) + '"' + dash +
        '/><polygon points="' + head.join(",") + '" fill="' + colour + '"/></g>');
    });
    shown.nodes().not(":parent").forEach(function (n) {
      var p = n.position(), w = n.width(), h = n.height(), fill = n.style("background-color");
      var shape = n.style("shape"), body;
      if (shape === "ellipse") body = '<ellipse cx="' + p.x + '" cy="' + p.y + '" rx="' + w / 2 + '" ry="' + h / 2 + '"';
      else if (shape === "hexagon") body = '<polygon points="' + [p.x - w / 2, p.y, p.x - w / 4, p.y - h / 2, p.x + w / 4, p.y - h / 2,
        p.x + w / 2, p.y, p.x + w / 4, p.y + h / 2, p.x - w / 4, p.y + h / 2].join(",") + '"';
      else body = '<rect x="' + (p.x - w / 2) + '" y="' + (p.y - h / 2) + '" width="' + w + '" height="' + h + '" rx="' + (shape === "rectangle" ? 0 : 6) + '"';
      out.push('<g class="node"><title>' + esc(n.data("label")) + "</title>" + body + ' fill="' + fill + '"/><text x="' + p.x + '" y="' + (p.y + 5) +
        '" text-anchor="middle" font-size="13" fill="' + n.style("color") + '">' + esc(n.data("label")) + "</text></g>");
    });
    out.push("</svg>");
    download(new Blob([out.join("\n")], { type: "image/svg+xml" }), "organisation-map.svg");
  }

  // -- restoring a shared view ------------------------------------------------------------

  function restore() {
    var h = readHash();
    var steps = [];
    if (h.colour && MEASURES[h.colour]) { colourSelect.value = h.colour; applyColour(); }
    if (h.group === "1" && level === "unit") { groupBox.checked = true; grouped = true; }
    (h.collapse || "").split(",").forEach(function (g) { if (g && groups[g] && grouped) collapsed[g] = true; });
    if (grouped) redraw(false);
    (h.expand || "").split(",").forEach(function (g) { if (g && groups[g] && level === "department") steps.push(function () { return toggleDepartment(g); }); });
    if (h.unit) steps.push(function () { return choose(h.unit); });
    if (h.focus) {
      steps.push(function () {
        if (h.n) stepsInput.value = h.n;
        focusBox.checked = true;
        focusOn = h.focus;
        applyFocus();
        fitTo(cy.nodes().not(".out-of-focus"), 30);
      });
    }
    steps.reduce(function (p, step) { return p.then(step); }, Promise.resolve())
      .then(function () { restoring = false; root.setAttribute("data-restored", "true"); writeHash(); },
            function () { restoring = false; root.setAttribute("data-restored", "true"); });
  }

  // -- wiring -----------------------------------------------------------------------------

  if (controls && window.matchMedia("(min-width: 48rem)").matches) controls.open = true;
  filters.forEach(function (f) { f.addEventListener("change", applyFilter); });
  if (select) select.addEventListener("change", function () {
    if (select.value) choose(select.value); else clearSelection();
  });
  if (clearButton) clearButton.addEventListener("click", clearSelection);
  if (fitButton) fitButton.addEventListener("click", function () { if (cy) fitTo(cy.nodes(), 24); });
  if (search) {
    search.addEventListener("change", searched);
    search.addEventListener("keydown", function (e) { if (e.key === "Enter") { e.preventDefault(); searched(); } });
  }
  if (focusBox) focusBox.addEventListener("change", setFocus);
  if (stepsInput) stepsInput.addEventListener("change", function () { applyFocus(); writeHash(); });
  if (groupBox) groupBox.addEventListener("change", function () { setGrouped(groupBox.checked); });
  if (colourSelect) colourSelect.addEventListener("change", function () { applyColour(); writeHash(); });
  var pngButton = $("map-png"), svgButton = $("map-svg");
  if (pngButton) pngButton.addEventListener("click", function () { if (cy) exportPng(); });
  if (svgButton) svgButton.addEventListener("click", function () { if (cy) exportSvg(); });

  if (typeof cytoscape === "undefined" || typeof cytoscapeDagre === "undefined") {
    setState("error", "The graph library did not load; the table below lists the same units.");
    return;
  }
  cytoscape.use(cytoscapeDagre);
  var total = parseInt(root.getAttribute("data-total"), 10) || 0;
  var limit = parseInt(root.getAttribute("data-graph-limit"), 10) || 3000;
  var loaded;
  if (total > limit || root.getAttribute("data-start-level") === "department") {
    // A big organisation opens at department level; a click expands one.
    level = "department";
    if (groupBox) { groupBox.checked = true; groupBox.disabled = true; }
    loaded = getAll(root.getAttribute("data-departments-url"), ["departments", "edges"]).then(function (doc) {
      doc.departments.forEach(function (d) { groups[d.id] = d; });
      departmentEdges = doc.edges;
      return doc;
    });
  } else {
    loaded = getAll(root.getAttribute("data-map-url"), ["units", "results", "links"]).then(function (doc) {
      addUnits(doc);
      computeGroups();
      return doc;
    });
  }
  loaded.then(start).catch(function (err) {
    setState("error", "The map could not be drawn: " + err.message + " The table below lists the same units.");
  });
})();
