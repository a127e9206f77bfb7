// Case graph: sigma.js (WebGL) over a graphology graph laid out by the server (seeds left, off-ramps right).
// Bundled by assets/build.mjs into static/graph.bundle.js; no CDN at run time.
import Graph from "graphology";
import Sigma from "sigma";
import { EdgeArrowProgram, NodeCircleProgram } from "sigma/rendering";

function text(tag, value, cls) {
  const el = document.createElement(tag);
  el.textContent = value;
  if (cls) el.className = cls;
  return el;
}

function showExplanation(aside, info) {
  aside.replaceChildren(text("h3", info.label ? `${info.label}` : "Address"));
  aside.append(text("p", info.address, "mono"));
  aside.append(text("p", `Role: ${info.role}`));
  for (const f of info.findings || []) {
    aside.append(text("p", `${f.entity || "unlabelled"} ${f.category || ""} ${f.jurisdiction || ""}: ` +
      `${f.amount || f.amount_base_units} ${f.asset}, confidence ${f.confidence}`));
  }
  if (!info.paths || !info.paths.length) {
    aside.append(text("p", "No path from the seeds is recorded for this address."));
    return;
  }
  for (const p of info.paths) {
    aside.append(text("h4", `Path of ${p.hops} hop(s), confidence ${p.confidence}`));
    const ol = document.createElement("ol");
    for (const s of p.steps) {
      ol.append(text("li", `${s.from.slice(0, 12)}… → ${s.to.slice(0, 12)}…: ${s.amount || s.amount_base_units} ${s.asset}` +
        ` (${s.kind}, confidence ${s.confidence})`));
    }
    aside.append(ol);
  }
}

async function explain(el, aside, key, attrs) {
  if (attrs && attrs.role === "cluster") {
    aside.replaceChildren(text("h3", "Cluster"), text("p", attrs.label),
      text("p", "Addresses are grouped per chain and hop beyond the graph's node budget; the off-ramps and holdings stay individual."));
    return;
  }
  const res = await fetch(`${el.dataset.explainUrl}?address=${encodeURIComponent(key)}`, { credentials: "same-origin" });
  if (res.ok) showExplanation(aside, await res.json());
}

async function main() {
  const el = document.getElementById("graph");
  if (!el) return;
  const status = document.getElementById("graph-status");
  const aside = document.getElementById("explain");
  const marks = { start: performance.now() };
  const t0 = marks.start;
  const res = await fetch(el.dataset.graphUrl, { credentials: "same-origin" });
  if (!res.ok) {
    status.textContent = "The graph could not be loaded.";
    return;
  }
  const data = await res.json();
  marks.fetched = performance.now();
  const graph = new Graph({ multi: true, type: "directed" });
  for (const n of data.nodes) {
    graph.addNode(n.key, { x: n.x, y: n.y, size: n.size, color: n.color, label: n.label, role: n.role, count: n.count });
  }
  for (const e of data.edges) {
    graph.addDirectedEdgeWithKey(e.key, e.source, e.target, { size: e.size, label: e.label, color: "#8e9ba6", type: "arrow" });
  }
  marks.built = performance.now();
  const renderer = new Sigma(graph, el, {
    renderEdgeLabels: data.edges.length <= 60, defaultEdgeType: "arrow", labelRenderedSizeThreshold: 6,
    labelDensity: 0.5, zIndex: true,
    // only the programs drawn here: each registered WebGL program is compiled when sigma starts
    nodeProgramClasses: { circle: NodeCircleProgram }, edgeProgramClasses: { arrow: EdgeArrowProgram },
  });
  marks.sigma = performance.now();
  renderer.on("clickNode", ({ node }) => explain(el, aside, node, graph.getNodeAttributes(node)));
  document.querySelectorAll("[data-explain]").forEach((b) =>
    b.addEventListener("click", () => {
      const key = b.dataset.explain;
      explain(el, aside, key, graph.hasNode(key) ? graph.getNodeAttributes(key) : null);
    }));
  requestAnimationFrame(() => {
    const ms = Math.round(performance.now() - t0);
    const s = data.stats;
    status.textContent = `${s.nodes.toLocaleString()} nodes and ${s.edges.toLocaleString()} edges drawn in ${ms} ms` +
      (data.aggregated ? ` (aggregated from ${s.addresses.toLocaleString()} addresses and ${s.flows.toLocaleString()} flows into ${s.clusters} clusters)` : "");
    el.dataset.rendered = String(ms);
    marks.drawn = performance.now();
    window.trilateralGraph = { ms, nodes: graph.order, edges: graph.size, aggregated: data.aggregated, marks, renderer };
  });
}

main();
