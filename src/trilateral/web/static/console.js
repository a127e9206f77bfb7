// Console behaviour without a framework: the CSRF header on htmx requests, and the live feed (SSE).
(function () {
  const csrf = document.body.dataset.csrf || "";
  document.body.addEventListener("htmx:configRequest", (e) => { e.detail.headers["X-CSRF-Token"] = csrf; });
  const TLP = { "TLP:CLEAR": "tlp-clear", "TLP:GREEN": "tlp-green", "TLP:AMBER": "tlp-amber",
    "TLP:AMBER+STRICT": "tlp-amber-strict", "TLP:RED": "tlp-red" };
  const table = document.querySelector("[data-live-feed]");
  const body = table && table.querySelector("tbody");
  const own = new Set(((table && table.dataset.own) || "").split(",").filter(Boolean));
  if (!csrf || !body || !window.EventSource) return;  // only Today listens
  const cell = (value) => { const td = document.createElement("td"); td.textContent = value; return td; };
  const source = new EventSource("/api/console/live");
  source.addEventListener("intel", (ev) => {
    const item = JSON.parse(ev.data);
    if (own.has(item.submitter)) return;  // the table lists what partners shared
    const row = document.createElement("tr");
    row.className = "fresh";
    row.append(cell(item.date_added.replace("T", " ").slice(0, 16) + " UTC"));
    const tlp = cell(""); const badge = document.createElement("span");
    badge.className = "tlp " + (TLP[item.tlp] || ""); badge.textContent = item.tlp; tlp.append(badge); row.append(tlp);
    row.append(cell(item.type));
    const name = cell(""); const a = document.createElement("a");
    a.href = "/intel/object/" + encodeURIComponent(item.id); a.textContent = item.name; name.append(a); row.append(name);
    row.append(cell(item.submitter));
    body.prepend(row);
    const empty = document.getElementById("no-partners");
    if (empty) empty.remove();
  });
  source.addEventListener("alert", (ev) => {  // from the chain watch, shared through the hub
    const alert = JSON.parse(ev.data);
    const list = document.getElementById("live-alerts");
    if (!list) return;
    const li = document.createElement("li");
    li.className = "fresh alert-" + alert.status;
    const badge = document.createElement("span");
    badge.className = "tlp " + (TLP[alert.tlp] || ""); badge.textContent = alert.tlp; li.append(badge, " ");
    const a = document.createElement("a");
    a.href = "/intel/object/" + encodeURIComponent(alert.id); a.textContent = alert.name; li.append(a);
    if (alert.entity) li.append(" — " + alert.entity);
    if (alert.case) li.append(" (case " + alert.case + ")");
    if (alert.status === "retracted") { const s = document.createElement("strong"); s.textContent = " retracted"; li.append(s); }
    const when = document.createElement("span");
    when.className = "muted"; when.textContent = " " + alert.date_added.replace("T", " ").slice(0, 16) + " UTC"; li.append(when);
    list.prepend(li);
    const empty = document.getElementById("no-alerts");
    if (empty) empty.remove();
  });
  source.addEventListener("signed-out", () => { source.close(); window.location.href = "/login"; });
  // an answer that is not a stream (401: the session ended before the stream opened) closes it for good
  source.onerror = () => { if (source.readyState === EventSource.CLOSED) window.location.href = "/login"; };
})();
