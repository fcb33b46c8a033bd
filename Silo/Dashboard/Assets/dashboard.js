// The RayOrleans dashboard's shared code: building elements, reading the JSON API, formatting, the
// navigation bar and the refresh loop. Plain browser JavaScript, no build step, no library.
//
// Safety: every value that comes from the API (task names, error messages, actor names, labels) reaches
// the page through el(), which adds it as a text node or an attribute value, never as HTML. No code here
// assigns innerHTML, so a task named "<img onerror=...>" is shown as those characters.
"use strict";

const Dash = (() => {
  /** How often a page reads the API again. */
  const refreshMs = 3000;

  /** Terminal job statuses: a job in one of them writes no more logs. */
  const finishedJobStatuses = new Set(["SUCCEEDED", "FAILED", "STOPPED"]);

  const pages = [
    { href: "./", title: "Overview" },
    { href: "cluster", title: "Cluster" },
    { href: "jobs", title: "Jobs" },
    { href: "actors", title: "Actors" },
    { href: "tasks", title: "Tasks" },
    { href: "memory", title: "Objects & memory" },
    { href: "placement-groups", title: "Placement groups" },
  ];

  /**
   * Creates an element. attrs: plain attributes, plus "class", "text" (text content) and "on*" handlers
   * (functions). Children: nodes, strings (added as text), numbers, null/undefined (skipped), arrays.
   */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") node.className = value;
      else if (name === "text") node.textContent = String(value);
      else if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    append(node, children);
    return node;
  }

  function append(node, children) {
    for (const child of children) {
      if (child === null || child === undefined) continue;
      if (Array.isArray(child)) append(node, child);
      else if (child instanceof Node) node.appendChild(child);
      else node.appendChild(document.createTextNode(String(child)));
    }
  }

  /** Replaces the children of the element with id `id`. */
  function fill(id, ...children) {
    const target = document.getElementById(id);
    target.replaceChildren();
    append(target, children);
  }

  /** An API error: the status and the server's message (a 400 names the bad filter). */
  class ApiError extends Error {
    constructor(path, status, message) {
      super(`GET ${path}: ${status} ${message}`.trim());
      this.status = status;
    }
  }

  async function get(path) {
    const response = await fetch(path, { cache: "no-store", headers: { Accept: "application/json" } });
    if (!response.ok) {
      throw new ApiError(path, response.status, (await response.text()).slice(0, 500));
    }
    return response;
  }

  /** GETs JSON; throws ApiError on a status other than 2xx. */
  async function getJson(path) {
    return (await get(path)).json();
  }

  /** A path with a query string of the non-empty values of `params`. */
  function withQuery(path, params) {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(params)) {
      if (value !== null && value !== undefined && String(value) !== "") query.set(name, value);
    }
    const text = query.toString();
    return text ? `${path}?${text}` : path;
  }

  // --- Formatting

  function number(value) {
    if (value === null || value === undefined) return "";
    return Number.isInteger(value) ? value.toLocaleString("en-US") : Number(value).toLocaleString("en-US", { maximumFractionDigits: 2 });
  }

  function bytes(value) {
    if (value === null || value === undefined) return "";
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let amount = Number(value);
    let unit = 0;
    while (Math.abs(amount) >= 1024 && unit < units.length - 1) {
      amount /= 1024;
      unit++;
    }
    return `${unit === 0 ? amount : amount.toFixed(1)} ${units[unit]}`;
  }

  /** A resource amount as a person reads it: memory in bytes, everything else as a number. */
  function amount(resource, value) {
    return resource === "memory" || resource.endsWith("_memory") ? bytes(value) : number(value);
  }

  /** A UTC timestamp in the browser's local time, or "" when absent. */
  function time(iso) {
    if (!iso) return "";
    const date = new Date(iso);
    return Number.isNaN(date.getTime()) || date.getFullYear() < 2000 ? "" : date.toLocaleString("en-GB");
  }

  function duration(startIso, endIso) {
    if (!startIso) return "";
    const start = new Date(startIso).getTime();
    const end = endIso ? new Date(endIso).getTime() : Date.now();
    const ms = Math.max(0, end - start);
    if (ms < 1000) return `${ms} ms`;
    if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
    if (ms < 3600000) return `${Math.floor(ms / 60000)} min ${Math.floor((ms % 60000) / 1000)} s`;
    return `${Math.floor(ms / 3600000)} h ${Math.floor((ms % 3600000) / 60000)} min`;
  }

  /** The first characters of an id, the whole of it in the tooltip. */
  function shortId(id) {
    if (!id) return "";
    const text = String(id);
    return el("span", { class: "id", title: text }, text.length > 12 ? text.slice(0, 8) + "…" : text);
  }

  /** An object id as the API's text form writes it (task id without dashes, colon, index). */
  function objectId(id) {
    if (!id || typeof id === "string") return id || "";
    return `${String(id.taskId).replaceAll("-", "")}:${id.index}`;
  }

  /** A state or status as a coloured label (the colour comes from the stylesheet, by value). */
  function badge(state) {
    if (!state) return "";
    const known = /^[A-Z_]+$/.test(state) ? ` state-${state.toLowerCase()}` : "";
    return el("span", { class: `badge${known}` }, state);
  }

  /** A bar of `used` out of `total`, with the numbers beside it. */
  function bar(used, total, format) {
    const fraction = total > 0 ? Math.min(1, Math.max(0, used / total)) : 0;
    const fillBar = el("span", { class: "bar-fill" + (fraction >= 0.9 ? " high" : "") });
    fillBar.style.width = `${(fraction * 100).toFixed(1)}%`;
    const show = format || number;
    return el("span", { class: "bar-row" },
      el("span", { class: "bar", title: `${(fraction * 100).toFixed(0)}%` }, fillBar),
      el("span", { class: "bar-text" }, `${show(used)} / ${show(total)}`));
  }

  /** A resource set ({amounts: {CPU: 2}}) as "CPU: 2, memory: 1.0 GiB". */
  function resources(set) {
    const amounts = (set && set.amounts) || set || {};
    return Object.entries(amounts).map(([name, value]) => `${name}: ${amount(name, value)}`).join(", ");
  }

  /**
   * A table. columns: [{ title, cell: row => node or text, class }]. Shows `empty` in one row when there
   * are no rows.
   */
  function table(columns, rows, empty) {
    const head = el("thead", null, el("tr", null, columns.map(c => el("th", { class: c.class }, c.title))));
    const body = el("tbody");
    if (rows.length === 0) {
      body.appendChild(el("tr", null, el("td", { class: "empty", colspan: columns.length }, empty || "None.")));
    }
    for (const row of rows) {
      body.appendChild(el("tr", null, columns.map(c => el("td", { class: c.class }, c.cell(row)))));
    }
    return el("table", null, head, body);
  }

  /** A count with its caption, for the summary cards at the top of a page. */
  function card(caption, value, extra) {
    return el("div", { class: "card" }, el("div", { class: "card-value" }, value), el("div", { class: "card-caption" }, caption), extra || null);
  }

  // --- Page frame

  let config = null;

  /** What the host says about itself: its node id, and where the Orleans Dashboard is (or null). */
  async function hostConfig() {
    if (!config) {
      try {
        config = await getJson("config.json");
      } catch {
        config = { nodeId: null, orleansDashboard: null };
      }
    }
    return config;
  }

  /** Builds the header: the title, the page links (the current one marked), and the refresh line. */
  async function frame(current) {
    const links = pages.map(p => el("a", { href: p.href, class: p.href === current ? "current" : null }, p.title));
    const nav = el("nav", null, links);
    const status = el("span", { class: "status" }, el("span", { id: "refresh", class: "refresh" }));
    const header = el("header", null, el("a", { class: "brand", href: "./" }, "RayOrleans"), nav, status);
    document.body.prepend(header);
    const { orleansDashboard, nodeId } = await hostConfig();
    if (orleansDashboard) nav.appendChild(el("a", { href: orleansDashboard, class: "external" }, "Orleans grains"));
    if (nodeId) header.title = `Served by node ${nodeId}`;
  }

  /**
   * Runs `render` now and every few seconds while the page is visible. A failure shows on the refresh line
   * (the last good content stays) and the next round tries again.
   */
  function refresh(render) {
    let running = false;
    let paused = false;
    const round = async () => {
      if (running || paused || document.hidden) return;
      running = true;
      const line = document.getElementById("refresh");
      try {
        await render();
        line.className = "refresh";
        line.textContent = `updated ${new Date().toLocaleTimeString("en-GB")}`;
      } catch (e) {
        line.className = "refresh failed";
        line.textContent = `update failed: ${e.message}`;
      } finally {
        running = false;
      }
    };
    const toggle = el("button", { type: "button", class: "pause", title: "Stop or restart the automatic refresh" }, "pause");
    toggle.addEventListener("click", () => {
      paused = !paused;
      toggle.textContent = paused ? "resume" : "pause";
      if (!paused) round();
    });
    document.querySelector("header .status").appendChild(toggle);
    document.addEventListener("visibilitychange", round);
    round();
    setInterval(round, refreshMs);
    return round;
  }

  /** The page's query parameters as an object, and a way to write them back without reloading. */
  function query() {
    return Object.fromEntries(new URLSearchParams(location.search));
  }

  function setQuery(params) {
    history.replaceState(null, "", withQuery(location.pathname, params));
  }

  /**
   * Binds a filter form: its named fields start from the page's query and write it back on change.
   * Returns a function that reads the current values.
   */
  function filters(form, onChange) {
    const initial = query();
    for (const field of form.elements) {
      if (field.name && initial[field.name] !== undefined) field.value = initial[field.name];
    }
    const read = () => {
      const values = {};
      for (const field of form.elements) {
        if (field.name && field.value !== "") values[field.name] = field.value.trim();
      }
      return values;
    };
    const changed = () => {
      setQuery(read());
      onChange();
    };
    form.addEventListener("submit", e => {
      e.preventDefault();
      changed();
    });
    form.addEventListener("change", changed);
    return read;
  }

  return {
    refreshMs, finishedJobStatuses, el, fill, get, getJson, withQuery, number, bytes, amount, time, duration, shortId, objectId, badge, bar,
    resources, table, card, frame, refresh, query, setQuery, filters, hostConfig, ApiError,
  };
})();
