// The lineage explorer (/lineage?ref=): an asset's upstream and downstream graph, loaded
// lazily from the API one side of one asset at a time. A side with more direct neighbours
// than GROUP_OVER shows one group node per kind ("312 more model versions") that loads
// pages of them on demand, so a dataset with 1,000 dependents opens as a few boxes.
// The side panel lists the selected asset's neighbours as buttons: the graph can be used
// without a mouse, and the lists are the canvas's text alternative.
"use strict";
(function () {
  var GROUP_OVER = 25;  // more neighbours than this on one side: group them by kind
  var PAGE = 25;        // assets a group loads per activation
  var FEW = 5;          // a kind with no more assets than this on a grouped side is drawn
  var IMPACT_LIMIT = 10000;  // most downstream assets the impact highlight marks
  var KINDS = ["model", "model_version", "dataset", "feature", "schema", "environment",
               "code", "run", "evaluation", "deployment"];

  var host = document.getElementById("lineage");
  if (!host || typeof window.cytoscape !== "function") { return; }
  var rootRef = host.dataset.root;
  var inverse = (host.dataset.inverse || "").split(",");
  var statusLine = document.getElementById("lineage-status");
  var impactButton = document.getElementById("lineage-impact");
  var expanded = {};   // "ref|direction" -> true once that side is loaded
  var redactedSeen = 0;
  var selected = rootRef;
  var cy;

  // --- words -------------------------------------------------------------------------
  function kindWords(kind) { return kind.replace(/_/g, " "); }

  function parseRef(ref) {
    var m = /^([a-z_]+):([^/]+)\/(.+?)(?:@([^@/]+))?$/.exec(ref);
    return m ? { kind: m[1], namespace: m[2], name: m[3], version: m[4] || "" } : null;
  }

  function nodeLabel(data) {
    if (data.redacted) { return "hidden asset\n(no access)"; }
    var p = parseRef(data.ref);
    if (!p) { return data.ref; }
    return p.name + (p.version ? " @" + p.version : "") + "\n" + kindWords(p.kind);
  }

  function groupWords(group, between) {
    var words = kindWords(group.kind) + (group.remaining === 1 ? "" : "s");
    return group.remaining + " more" + (between || " ") + words;
  }

  function groupLabel(group) { return groupWords(group, "\n"); }

  function pageOf(ref) {
    var p = parseRef(ref);
    var path = function (text) { return text.split("/").map(encodeURIComponent).join("/"); };
    if (p && p.kind === "model_version") {
      return "/models/" + encodeURIComponent(p.namespace) + "/" + path(p.name) +
        "/versions/" + encodeURIComponent(p.version);
    }
    return "/assets/" + path(ref);
  }

  // --- the API -----------------------------------------------------------------------
  function api(path, params) {
    var query = new URLSearchParams(params || {}).toString();
    return fetch(path + (query ? "?" + query : ""), {
      credentials: "same-origin", headers: { accept: "application/json" }
    }).then(function (answer) {
      return answer.json().then(function (body) {
        if (!answer.ok) { throw new Error(body.detail || answer.statusText); }
        return body;
      });
    });
  }

  function refPath(ref) { return ref.split("/").map(encodeURIComponent).join("/"); }

  // --- the graph ---------------------------------------------------------------------
  function colours() {
    var style = getComputedStyle(host);
    var out = {};
    KINDS.concat(["group", "impact"]).forEach(function (kind) {
      out[kind] = style.getPropertyValue("--kind-" + kind).trim() || "#57606a";
    });
    return out;
  }

  function graphStyle() {
    var c = colours();
    var style = [
      { selector: "node", style: {
        shape: "round-rectangle", width: 176, height: 46, label: "data(label)",
        color: "#fff", "font-size": 11, "text-wrap": "wrap", "text-max-width": 166,
        "text-overflow-wrap": "anywhere",
        "text-valign": "center", "text-halign": "center", "background-color": c.schema,
        "border-width": 0 } },
      { selector: "node.root", style: { "border-width": 4, "border-color": "#f2b600" } },
      { selector: "node:selected", style: { "border-width": 4, "border-color": "#1b1f24",
                                             "overlay-opacity": 0 } },
      { selector: "node.group", style: {
        "background-color": c.group, color: "#1b1f24", "border-width": 2,
        "border-style": "dashed", "border-color": "#4a5360" } },
      { selector: "edge", style: {
        width: 1.5, "line-color": "#8c959f", "target-arrow-color": "#8c959f",
        "target-arrow-shape": "triangle", "curve-style": "bezier", "arrow-scale": 0.9 } },
      { selector: ".faded", style: { opacity: 0.3 } },
      { selector: "node.impact", style: { "border-width": 5, "border-color": c.impact } },
      { selector: "edge.impact", style: { "line-color": c.impact, "target-arrow-color": c.impact,
                                           width: 2.5 } }
    ];
    KINDS.forEach(function (kind) {
      style.splice(1, 0, { selector: "node.kind-" + kind,
                           style: { "background-color": c[kind] } });
    });
    return style;
  }

  function nodeId(item) {
    // a redacted asset's token is stable within one answer only: never merge two of them
    if (item.redacted) { redactedSeen += 1; return item.ref + "#" + redactedSeen; }
    return item.ref;
  }

  function addAsset(item) {
    if (cy.getElementById(item.ref).length) { return cy.getElementById(item.ref); }
    var data = { id: nodeId(item), ref: item.ref, kind: item.kind, state: item.state,
                 created_at: item.created_at, redacted: !!item.redacted };
    data.label = nodeLabel(data);
    return cy.add({ group: "nodes", data: data,
                    classes: "asset kind-" + item.kind + (item.ref === rootRef ? " root" : "") });
  }

  function addEdge(fromId, toId, relation) {
    var id = fromId + "|" + relation + "|" + toId;
    if (cy.getElementById(id).length || fromId === toId) { return; }
    cy.add({ group: "edges", data: { id: id, source: fromId, target: toId,
                                     relation: relation } });
  }

  // a stored edge drawn along influence: from what shaped to what depends on it
  function addStoredEdge(edge, ids) {
    var source = ids[edge.source] || edge.source;
    var target = ids[edge.target] || edge.target;
    // an edge to an asset kept in a group waits until the group loads it
    if (!cy.getElementById(source).length || !cy.getElementById(target).length) { return; }
    if (inverse.indexOf(edge.relation) >= 0) { addEdge(source, target, edge.relation); }
    else { addEdge(target, source, edge.relation); }
  }

  function addPage(answer) {
    var ids = {};
    ids[answer.root] = answer.root;
    answer.items.forEach(function (item) { ids[item.ref] = addAsset(item).id(); });
    answer.edges.forEach(function (edge) { addStoredEdge(edge, ids); });
    return answer.items.length;
  }

  function countOf(totals, kind) {
    var found = totals.filter(function (t) { return t.kind === kind; });
    return found.length ? found[0].count : -1;
  }

  function addGroup(ref, direction, kind, count) {
    var id = "group|" + direction + "|" + kind + "|" + ref;
    var group = { id: id, parent: ref, direction: direction, kind: kind, remaining: count,
                  cursor: null, isGroup: true };
    group.label = groupLabel(group);
    cy.add({ group: "nodes", data: group, classes: "group" });
    if (direction === "downstream") { addEdge(ref, id, "group"); } else { addEdge(id, ref, "group"); }
  }

  function side(ref, direction, params) {
    var query = { direction: direction, limit: String(params.limit) };
    if (params.kind) { query.kind = params.kind; }
    if (params.cursor) { query.cursor = params.cursor; }
    return api("/api/v1/lineage-neighbours/" + refPath(ref), query);
  }

  // one side of one asset: every neighbour, or a group per kind when there are too many
  function expandSide(ref, direction) {
    var key = ref + "|" + direction;
    if (expanded[key]) { return Promise.resolve(); }
    expanded[key] = true;
    return side(ref, direction, { limit: GROUP_OVER }).then(function (answer) {
      var total = answer.totals.reduce(function (n, t) { return n + t.count; }, 0);
      if (total <= GROUP_OVER) { addPage(answer); return; }
      // a kind with few assets is drawn as it is (the first page may hold it already);
      // the others become groups
      var held = {};
      answer.items.forEach(function (item) { held[item.kind] = (held[item.kind] || 0) + 1; });
      var few = answer.totals.filter(function (t) { return t.count <= FEW; });
      addPage({ root: answer.root, edges: answer.edges, items: answer.items.filter(
        function (item) { return (held[item.kind] || 0) === countOf(few, item.kind); }) });
      answer.totals.forEach(function (t) {
        if (t.count > FEW) { addGroup(ref, direction, t.kind, t.count); }
      });
      return Promise.all(few.filter(function (t) { return held[t.kind] !== t.count; })
        .map(function (t) {
          return side(ref, direction, { kind: t.kind, limit: FEW }).then(addPage);
        }));
    });
  }

  function expand(ref) {
    var node = cy.getElementById(ref);
    if (!node.length || node.data("redacted") || node.data("isGroup")) {
      return Promise.resolve();
    }
    return Promise.all([expandSide(ref, "upstream"), expandSide(ref, "downstream")])
      .then(layoutSoon);
  }

  function openGroup(id) {
    var group = cy.getElementById(id);
    if (!group.length || group.data("loading")) { return Promise.resolve(); }
    group.data("loading", true);
    var g = group.data();
    return side(g.parent, g.direction, { kind: g.kind, cursor: g.cursor, limit: PAGE })
      .then(function (answer) {
        var loaded = addPage(answer);
        if (answer.next_cursor) {
          group.data({ cursor: answer.next_cursor, loading: false,
                       remaining: Math.max(g.remaining - loaded, 0) });
          group.data("label", groupLabel(group.data()));
        } else {
          if (selected === id) { selected = g.parent; }
          group.remove();
        }
        return layoutSoon();
      });
  }

  // several expansions finishing together (a click, then a group's page) share one layout:
  // dagre over 500 nodes costs a few hundred ms, once is enough
  var pendingLayout = null;
  function layoutSoon() {
    if (!pendingLayout) {
      pendingLayout = new Promise(function (done) {
        setTimeout(function () { pendingLayout = null; relayout(false); done(); }, 0);
      });
    }
    return pendingLayout;
  }

  function relayout(fit) {
    cy.layout({ name: "dagre", rankDir: "LR", nodeSep: 12, rankSep: 70, fit: !!fit,
                padding: 24, animate: false }).run();
    var assets = cy.nodes(".asset").length;
    var groups = cy.nodes(".group").length;
    host.dataset.nodes = String(assets);
    host.dataset.groups = String(groups);
    statusLine.textContent = "Showing " + assets + " asset" + (assets === 1 ? "" : "s") +
      (groups ? " and " + groups + " group" + (groups === 1 ? "" : "s") +
        " (select a group to load more)" : "") + ".";
    if (impactButton.getAttribute("aria-pressed") === "true") { paintImpact(); }
    renderPanel();
  }

  // --- impact --------------------------------------------------------------------------
  var impact = { ref: null, refs: null, summary: "" };

  function loadImpact(ref) {
    if (impact.ref === ref && impact.refs) { return Promise.resolve(); }
    var path = refPath(ref);
    return Promise.all([
      api("/api/v1/lineage/" + path, { direction: "downstream", depth: "20",
                                      limit: String(IMPACT_LIMIT) }),
      api("/api/v1/blast-radius/" + path, { limit: "1" })
    ]).then(function (answers) {
      var refs = {};
      answers[0].nodes.forEach(function (n) { refs[n.ref] = true; });
      var totals = answers[1].totals;
      var count = totals.reduce(function (n, t) { return n + t.count; }, 0);
      impact = { ref: ref, refs: refs, summary: count === 0
        ? "Nothing depends on this asset."
        : "A change here reaches " + count + " asset" + (count === 1 ? "" : "s") + ": " +
          totals.map(function (t) { return t.count + " " + kindWords(t.kind); }).join(", ") +
          (answers[0].truncated ? " (the nearest " + IMPACT_LIMIT + " are marked)." : ".") };
    });
  }

  function paintImpact() {
    cy.elements().removeClass("impact faded");
    if (!impact.refs || impact.ref !== selected) { return; }
    var hit = cy.nodes().filter(function (n) {
      if (n.data("isGroup")) {
        return n.data("direction") === "downstream" && !!impact.refs[n.data("parent")];
      }
      return !!impact.refs[n.data("ref")] && n.data("ref") !== impact.ref;
    });
    var source = cy.getElementById(impact.ref);
    var lit = hit.union(source);
    hit.addClass("impact");
    lit.edgesWith(lit).filter(function (e) { return hit.contains(e.target()); })
      .addClass("impact");
    cy.elements().difference(lit.union(lit.edgesWith(lit))).addClass("faded");
    host.dataset.impact = String(hit.length);
  }

  function toggleImpact() {
    var on = impactButton.getAttribute("aria-pressed") !== "true";
    impactButton.setAttribute("aria-pressed", on ? "true" : "false");
    if (!on) {
      cy.elements().removeClass("impact faded");
      delete host.dataset.impact;
      renderPanel();
      return Promise.resolve();
    }
    return showImpact();
  }

  function showImpact() {
    var node = cy.getElementById(selected);
    if (!node.length || node.data("isGroup") || node.data("redacted")) {
      impact = { ref: null, refs: null, summary: "Select an asset to see its impact." };
      paintImpact();
      renderPanel();
      return Promise.resolve();
    }
    return loadImpact(selected).then(function () { paintImpact(); renderPanel(); });
  }

  // --- the side panel ------------------------------------------------------------------
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) { e.textContent = text; }
    return e;
  }

  function details(node) {
    var box = document.getElementById("lineage-details");
    box.replaceChildren();
    if (!node.length) { return; }
    var d = node.data();
    if (d.isGroup) {
      box.append(el("p", {}, groupWords(d) + " " +
        (d.direction === "downstream" ? "depend on " : "shaped ") + d.parent + "."));
      var more = el("button", { type: "button" }, "Load " + Math.min(PAGE, d.remaining) +
        " more");
      more.addEventListener("click", function () { openGroup(d.id).then(focusPanel); });
      box.append(more);
      return;
    }
    var list = el("dl");
    [["Asset", d.redacted ? "hidden (you may not read it)" : d.ref],
     ["Kind", kindWords(d.kind)], ["State", d.state], ["Created", d.created_at]]
      .forEach(function (row) {
        if (!row[1]) { return; }
        list.append(el("dt", {}, row[0]), el("dd", {}, row[1]));
      });
    box.append(list);
    if (d.redacted) { return; }
    box.append(el("a", { href: pageOf(d.ref) }, "Open its page"));
    if (!expanded[d.ref + "|upstream"] || !expanded[d.ref + "|downstream"]) {
      var show = el("button", { type: "button", "class": "secondary" }, "Show neighbours");
      show.addEventListener("click", function () { expand(d.ref).then(focusPanel); });
      box.append(el("br"), show);
    }
  }

  function neighbourItem(other, relation, ahead) {
    var li = el("li");
    var d = other.data();
    var button = el("button", { type: "button", "class": "link" },
                    d.isGroup ? groupWords(d)
                              : (d.redacted ? "hidden asset (no access)" : d.ref));
    button.addEventListener("click", function () { select(d.id, true); });
    li.append(button);
    if (!d.isGroup) {
      li.append(el("span", { "class": "relation" },
        kindWords(d.kind) + " · " + relation.replace(/_/g, " ") +
        (ahead ? " (depends on it)" : " (shaped it)")));
    }
    return li;
  }

  function renderPanel() {
    var node = cy.getElementById(selected);
    details(node);
    var summary = document.getElementById("lineage-impact-summary");
    var on = impactButton.getAttribute("aria-pressed") === "true";
    summary.hidden = !on || !impact.summary;
    summary.textContent = on ? impact.summary : "";
    var up = document.getElementById("lineage-upstream");
    var down = document.getElementById("lineage-downstream");
    up.replaceChildren();
    down.replaceChildren();
    if (!node.length) { return; }
    node.incomers("edge").forEach(function (e) {
      up.append(neighbourItem(e.source(), e.data("relation"), false));
    });
    node.outgoers("edge").forEach(function (e) {
      down.append(neighbourItem(e.target(), e.data("relation"), true));
    });
    [up, down].forEach(function (list) {
      if (!list.children.length) { list.append(el("li", { "class": "muted" }, "none loaded")); }
    });
  }

  function focusPanel() {
    var title = document.getElementById("lineage-panel-title");
    title.setAttribute("tabindex", "-1");
    title.focus();
  }

  function select(id, fromPanel) {
    var node = cy.getElementById(id);
    if (!node.length) { return Promise.resolve(); }
    selected = id;
    cy.nodes(":selected").unselect();
    node.select();
    var work = node.data("isGroup") ? openGroup(id) : expand(id);
    return work.then(function () {
      if (impactButton.getAttribute("aria-pressed") === "true") { return showImpact(); }
      renderPanel();
    }).then(function () {
      var still = cy.getElementById(selected);
      if (still.length) { cy.animate({ center: { eles: still } }, { duration: 150 }); }
      if (fromPanel) { focusPanel(); }
    }).catch(fail);
  }

  function fail(error) {
    statusLine.textContent = "Could not load the graph: " + error.message;
  }

  // --- start -------------------------------------------------------------------------
  cy = window.cytoscape({
    container: document.getElementById("lineage-graph"),
    style: graphStyle(), minZoom: 0.05, maxZoom: 3,
    boxSelectionEnabled: false, selectionType: "single",
    // draw a bitmap of the graph while panning and zooming: big graphs stay smooth
    textureOnViewport: true, hideEdgesOnViewport: false
  });
  window.cy = cy;
  window.lineageExplorer = { expand: expand, openGroup: openGroup, select: select };
  cy.on("tap", "node", function (event) { select(event.target.id(), false); });
  impactButton.addEventListener("click", function () { toggleImpact().catch(fail); });
  document.getElementById("lineage-fit").addEventListener("click", function () { cy.fit(undefined, 24); });

  // the page checked the asset and gave its facts: the graph's first requests start now
  addAsset({ ref: rootRef, kind: host.dataset.kind, state: host.dataset.state,
             created_at: host.dataset.created });
  Promise.all([expandSide(rootRef, "upstream"), expandSide(rootRef, "downstream")])
  .then(function () {
    cy.getElementById(rootRef).select();
    relayout(true);
    // ms since navigation began: the benchmark's "opens in under 2 s"
    host.dataset.readyMs = String(Math.round(performance.now()));
    host.dataset.ready = "true";
  }).catch(fail);
})();
