// Entry page: VND grouping as typed, live ratio percentage, and saves that survive no signal.
// A field save that cannot be sent is kept in localStorage and replayed when the connection
// returns (the `online` event and a retry timer); the server's answer then replaces the field.
(function () {
  "use strict";
  // Loaded from the page body, so boosted navigation runs it too; only once per document.
  if (window.mttqEntryLoaded) return;
  window.mttqEntryLoaded = true;
  var KEY = "mttq.pendingSaves";
  var RETRY_MS = 15000;
  var msg = function (name) {
    var root = document.getElementById("entry");
    return (root && root.dataset["msg" + name]) || "";
  };

  // Conflicts (409) and invalid figures (422) come back as the field to show: swap them in.
  if (window.htmx) {
    // Settling copies `style` attributes, which the CSP forbids; classes are enough here.
    htmx.config.attributesToSettle = ["class"];
    htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "409", swap: true, error: false },
      { code: "422", swap: true, error: false },
      { code: "[45]..", swap: false, error: true }
    ];
  }

  // --- pending saves ---------------------------------------------------------------------
  // Saves are kept per signed-in user: on a shared phone, one user's pending figures are never
  // sent under another's session.
  function currentUser() {
    var root = document.getElementById("entry");
    return root ? root.dataset.user || "" : null;
  }
  function loadAll() {
    try { return JSON.parse(localStorage.getItem(KEY) || "[]"); } catch (e) { return []; }
  }
  function load() {
    var user = currentUser();
    if (user === null) return [];  // not on an entry page: nothing is sent from here
    return loadAll().filter(function (p) { return p.user === user; });
  }
  function store(list) {
    // `list` holds this user's saves: keep the other users' as they are.
    var user = currentUser();
    var others = loadAll().filter(function (p) { return user === null || p.user !== user; });
    try { localStorage.setItem(KEY, JSON.stringify(others.concat(list))); } catch (e) { /* full */ }
  }

  function fieldValues(field) {
    var data = {};
    field.querySelectorAll("input[name]").forEach(function (i) {
      if ((i.type === "radio" || i.type === "checkbox") && !i.checked) return;
      data[i.name] = i.value;
    });
    return data;
  }
  function versionOf(field) {
    var v = field.querySelector('input[name$=".version"]');
    return v ? v.value : "0";
  }

  function queue(field) {
    var url = field.dataset.url;
    var parts = url.split("/"); // /entry/<unit>/<period>/<indicator>
    var list = load().filter(function (p) { return p.url !== url; });
    list.push({ user: currentUser() || "", url: url, unit: parts[2], period: parts[3], indicator: parts[4],
                fields: fieldValues(field), expected_version: versionOf(field), at: Date.now() });
    store(list);
    showPending(field);
    banner();
    schedule();
  }
  function drop(url) {
    store(load().filter(function (p) { return p.url !== url; }));
    banner();
  }

  function showPending(field) {
    field.classList.add("is-pending");
    field.classList.remove("is-saved");
    var s = field.querySelector(".field-status");
    if (s) { s.className = "field-status field-pending"; s.textContent = msg("Pending"); }
  }

  function banner() {
    var box = document.getElementById("net-status");
    if (!box) return;
    var n = load().length;
    if (n > 0) {
      box.textContent = msg("Banner").replace("{n}", n);
      box.hidden = false;
    } else if (!navigator.onLine) {
      box.textContent = msg("Offline");
      box.hidden = false;
    } else {
      box.hidden = true;
      box.textContent = "";
    }
  }

  var sending = false;
  function replay() {
    if (sending || !navigator.onLine) return;
    var list = load();
    if (!list.length) return;
    sending = true;
    var meta = document.querySelector('meta[name="csrf-token"]');
    var next = function (i) {
      if (i >= list.length) { sending = false; banner(); schedule(); return; }
      var p = list[i];
      var body = new URLSearchParams();
      Object.keys(p.fields).forEach(function (k) { body.append(k, p.fields[k]); });
      body.set(p.indicator + ".version", p.expected_version);
      fetch(p.url, {
        method: "POST", credentials: "same-origin", body: body,
        headers: { "HX-Request": "true", "X-CSRF-Token": meta ? meta.content : "" }
      }).then(function (r) {
        if (r.status >= 500) throw new Error("server " + r.status);
        return r.text().then(function (html) {
          drop(p.url);
          var field = document.querySelector('.entry-field[data-url="' + p.url + '"]');
          if (field && (r.status === 200 || r.status === 409 || r.status === 422)) {
            var tmp = document.createElement("div");
            tmp.innerHTML = html.trim();
            var fresh = tmp.firstElementChild;
            if (fresh) {
              field.replaceWith(fresh);
              if (window.htmx) htmx.process(fresh);
            }
            var count = tmp.querySelector("#filled-count");
            var shown = document.getElementById("filled-count");
            if (count && shown) shown.textContent = count.textContent;
          }
          next(i + 1);
        });
      }).catch(function () { sending = false; banner(); schedule(); });
    };
    next(0);
  }

  var timer = null;
  function schedule() {
    if (timer || !load().length) return;
    timer = setTimeout(function () { timer = null; replay(); }, RETRY_MS);
  }

  // Restore what is still pending into the fields on this page (after a reload or return).
  function restore() {
    load().forEach(function (p) {
      var field = document.querySelector('.entry-field[data-url="' + p.url + '"]');
      if (!field) return;
      field.querySelectorAll("input[name]").forEach(function (i) {
        if (!(i.name in p.fields) && i.type !== "radio") return;
        if (i.type === "radio") i.checked = p.fields[i.name] === i.value;
        else if (!/\.version$/.test(i.name)) i.value = p.fields[i.name];
      });
      showPending(field);
    });
  }

  function fieldOf(elt) { return elt && elt.closest ? elt.closest(".entry-field") : null; }

  document.addEventListener("htmx:beforeRequest", function (e) {
    var field = fieldOf(e.detail.elt);
    if (!field || e.detail.requestConfig.verb !== "post") return;
    if (field.dataset.measure === "ratio") {
      var num = field.querySelector('input[name$=".numerator"]');
      var den = field.querySelector('input[name$=".denominator"]');
      if (num && den && (num.value.trim() === "") !== (den.value.trim() === "")) {
        e.preventDefault();
        var s = field.querySelector(".field-status");
        if (s) { s.className = "field-status muted"; s.textContent = msg("Ratio"); }
        return;
      }
    }
    if (!navigator.onLine) { e.preventDefault(); queue(field); }
  });
  document.addEventListener("htmx:sendError", function (e) {
    var field = fieldOf(e.detail.elt);
    if (field) queue(field);
  });
  document.addEventListener("htmx:timeout", function (e) {
    var field = fieldOf(e.detail.elt);
    if (field) queue(field);
  });
  document.addEventListener("htmx:afterRequest", function (e) {
    var field = fieldOf(e.detail.elt);
    var xhr = e.detail.xhr;
    if (field && xhr && xhr.status >= 200 && xhr.status < 500 && xhr.status !== 0) drop(field.dataset.url);
  });

  window.addEventListener("online", function () { banner(); replay(); });
  window.addEventListener("offline", banner);

  // --- typing helpers ----------------------------------------------------------------------
  function groupVnd(input) {
    var before = input.value.slice(0, input.selectionStart || 0).replace(/\D/g, "").length;
    var digits = input.value.replace(/\D/g, "").replace(/^0+(?=\d)/, "");
    var grouped = digits.replace(/\B(?=(\d{3})+(?!\d))/g, ".");
    if (grouped === input.value) return;
    input.value = grouped;
    var pos = 0, seen = 0;
    while (pos < grouped.length && seen < before) { if (/\d/.test(grouped[pos])) seen++; pos++; }
    try { input.setSelectionRange(pos, pos); } catch (err) { /* not focusable */ }
  }
  function percent(field) {
    var out = field.querySelector("output");
    var num = field.querySelector('input[name$=".numerator"]');
    var den = field.querySelector('input[name$=".denominator"]');
    if (!out || !num || !den) return;
    var n = parseInt(num.value.replace(/\D/g, ""), 10), d = parseInt(den.value.replace(/\D/g, ""), 10);
    out.textContent = (d > 0 && n >= 0) ? (Math.round(n / d * 1000) / 10).toFixed(1).replace(".", ",") + " %" : "—";
  }
  document.addEventListener("input", function (e) {
    var t = e.target;
    if (!(t instanceof HTMLInputElement)) return;
    if (t.hasAttribute("data-vnd") && /[\d]/.test(t.value) && !/[^\d.\s]/.test(t.value)) groupVnd(t);
    var field = fieldOf(t);
    if (field && field.dataset.measure === "ratio") percent(field);
  });

  function start() { restore(); banner(); replay(); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
  // A boosted navigation swaps in another entry page: show its pending fields too.
  document.addEventListener("htmx:afterSettle", function (e) {
    if (e.detail.boosted || (e.detail.elt && e.detail.elt.tagName === "BODY")) { restore(); banner(); }
  });
})();
