// Field use on one bar of signal: saves that are never lost, on every page.
//
// A figure that cannot be sent (no signal, a timeout, an ended session) is kept in IndexedDB,
// which survives a reload, a closed tab and a restarted phone, under the signed-in user's name.
// Every page shows "n chưa gửi" and sends the kept saves when the connection returns, with a
// CSRF token fetched fresh (a page opened from the service worker's cache may carry an old one).
// When the session has ended the saves stay kept and the page asks to sign in; after signing in
// they are sent. A kept save ends only as saved, or as a conflict or an invalid figure shown in
// its field for the user to resolve; never silently. Also here: VND grouping as typed, the
// ratio's percentage, "keep last month's figure", and refusing to submit without signal.
(function () {
  "use strict";
  var RETRY_MS = 15000;
  var DB_NAME = "mttq", STORE = "queue";

  function msg(name) {
    var box = document.getElementById("net-status");
    var root = document.getElementById("entry");
    return (box && box.dataset["msg" + name]) || (root && root.dataset["msg" + name]) || "";
  }
  function currentUser() { return document.body ? document.body.dataset.user || "" : ""; }

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

  // --- the kept saves (IndexedDB; one per field URL, the latest typed figure wins) ------------
  var dbPromise = null;
  function db() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        if (!window.indexedDB) { reject(new Error("no IndexedDB")); return; }
        var req = indexedDB.open(DB_NAME, 1);
        req.onupgradeneeded = function () { req.result.createObjectStore(STORE, { keyPath: "url" }); };
        req.onsuccess = function () { resolve(req.result); };
        req.onerror = function () { reject(req.error); };
      });
    }
    return dbPromise;
  }
  function tx(mode, work) {
    return db().then(function (d) {
      return new Promise(function (resolve, reject) {
        var t = d.transaction(STORE, mode);
        var result = work(t.objectStore(STORE));
        t.oncomplete = function () { resolve(result && "result" in result ? result.result : undefined); };
        t.onerror = function () { reject(t.error); };
      });
    });
  }
  function allKept() { return tx("readonly", function (s) { return s.getAll(); }).then(function (l) { return l || []; }); }
  function mine(list) { var u = currentUser(); return list.filter(function (p) { return p.user === u; }); }
  function putKept(item) { return tx("readwrite", function (s) { s.put(item); }); }
  function dropKept(url) { return tx("readwrite", function (s) { s["delete"](url); }); }
  function getKept(url) { return tx("readonly", function (s) { return s.get(url); }); }

  function fieldBody(field) {
    var body = [];
    field.querySelectorAll("input[name], textarea[name]").forEach(function (i) {
      if ((i.type === "radio" || i.type === "checkbox") && !i.checked) return;
      if (i.name === "keep") return;
      body.push([i.name, i.value]);
    });
    return body;
  }
  function fieldLabel(field) {
    var legend = field.querySelector("legend");
    return legend ? legend.textContent.replace(/\s+/g, " ").trim() : field.dataset.url;
  }

  function keep(field) {
    var item = { url: field.dataset.url, user: currentUser(), body: fieldBody(field), page: location.pathname,
                 label: fieldLabel(field), state: "pending", at: Date.now() };
    showPending(field);
    return putKept(item).then(banner).then(schedule);
  }

  function showPending(field) {
    field.classList.add("is-pending");
    field.classList.remove("is-saved");
    var s = field.querySelector(".field-status");
    if (s) { s.className = "field-status field-pending"; s.textContent = msg("FieldPending"); }
  }

  // --- the banner: "n chưa gửi" on every page --------------------------------------------------
  var expired = false;
  function banner() {
    var box = document.getElementById("net-status");
    if (!box) return Promise.resolve();
    return allKept().then(function (list) {
      var own = currentUser() ? mine(list) : list;
      box.textContent = "";
      if (!own.length) {
        if (!navigator.onLine) { box.textContent = msg("Offline"); box.hidden = false; }
        else box.hidden = true;
        return;
      }
      var text = msg("Pending").replace("{n}", own.length);
      var attention = own.filter(function (p) { return p.state !== "pending"; });
      var line = document.createElement("span");
      box.appendChild(line);
      if (expired || !currentUser()) {
        line.textContent = text + " – " + msg("Expired") + " ";
        if (location.pathname !== "/login") {
          var a = document.createElement("a");
          a.href = "/login?next=" + encodeURIComponent(location.pathname + location.search);
          a.textContent = msg("Signin");
          box.appendChild(a);
        }
      } else {
        line.textContent = text + " – " + msg("Later");
      }
      if (attention.length && !expired) {
        var here = attention.filter(function (p) { return fieldFor(p.url); });
        var other = attention.filter(function (p) { return !fieldFor(p.url); });
        var extra = document.createElement("span");
        extra.textContent = " " + msg("Attention").replace("{n}", attention.length) + (other.length ? ": " : ".");
        box.appendChild(extra);
        if (other.length && !here.length) {
          var link = document.createElement("a");
          link.href = other[0].page;
          link.textContent = other[0].label;
          box.appendChild(link);
        }
      }
      box.hidden = false;
    })["catch"](function () { /* no IndexedDB: nothing kept, nothing to show */ });
  }

  function fieldFor(url) {
    var all = document.querySelectorAll(".entry-field[data-url]");
    for (var i = 0; i < all.length; i++) if (all[i].dataset.url === url) return all[i];
    return null;
  }

  // --- sending what is kept ---------------------------------------------------------------------
  function freshToken() {
    return fetch("/csrf-token", { credentials: "same-origin", cache: "no-store" }).then(function (r) {
      if (r.status === 401) return null;
      if (!r.ok) throw new Error("token " + r.status);
      return r.json().then(function (j) {
        if (j.user !== currentUser()) return null;  // another user signed in meanwhile
        var meta = document.querySelector('meta[name="csrf-token"]');
        if (meta) meta.content = j.token;
        document.querySelectorAll('input[name="csrf_token"]').forEach(function (i) { i.value = j.token; });
        return j.token;
      });
    });
  }

  function swapIn(field, html) {
    var tmp = document.createElement("div");
    tmp.innerHTML = html.trim();
    var fresh = tmp.firstElementChild;
    if (!fresh || !fresh.classList.contains("entry-field")) return;
    field.replaceWith(fresh);
    if (window.htmx) htmx.process(fresh);
    var count = tmp.querySelector("#filled-count");
    var shown = document.getElementById("filled-count");
    if (count && shown) shown.textContent = count.textContent;
    showKeepButtons(fresh);
  }

  function sendOne(p, token) {
    var body = new URLSearchParams();
    p.body.forEach(function (kv) { body.append(kv[0], kv[1]); });
    return fetch(p.url, {
      method: "POST", credentials: "same-origin", body: body, redirect: "manual",
      headers: { "HX-Request": "true", "X-CSRF-Token": token }
    }).then(function (r) {
      // An ended session answers with a redirect to /login (or 401); a stale token with 403.
      if (r.type === "opaqueredirect" || r.status === 401 || r.status === 403) return "expired";
      if (r.status >= 500 || r.status === 0) throw new Error("server " + r.status);
      return r.text().then(function (html) {
        var field = fieldFor(p.url);
        if (r.status === 200) {
          if (field) swapIn(field, html);
          return dropKept(p.url).then(function () { return "saved"; });
        }
        // 409 (someone else changed it) or 422 (refused): shown in its field to resolve. The
        // save stays kept until the user saves the field again or takes the other figure.
        if (field) swapIn(field, html);
        p.state = r.status === 409 ? "conflict" : "invalid";
        return putKept(p).then(function () { return p.state; });
      });
    });
  }

  var sending = false;
  function send() {
    if (sending || !navigator.onLine || !currentUser()) return Promise.resolve();
    return allKept().then(function (list) {
      // Conflicts and refusals are sent again only where their field is shown to resolve them.
      var todo = mine(list).filter(function (p) { return p.state === "pending" || fieldFor(p.url); });
      if (!todo.length) return;
      sending = true;
      return freshToken().then(function (token) {
        if (!token) { expired = true; return; }
        expired = false;
        var chain = Promise.resolve();
        todo.forEach(function (p) {
          chain = chain.then(function () {
            if (expired) return;
            return sendOne(p, token).then(function (result) {
              if (result === "expired") expired = true;
              if (result === "saved") refreshKeptPage();
            });
          });
        });
        return chain;
      });
    })["catch"](function () { /* still no signal: try again later */ })
      .then(function () { sending = false; return banner(); }).then(schedule);
  }

  var timer = null;
  function schedule() {
    if (timer) return;
    allKept().then(function (list) {
      if (!mine(list).some(function (p) { return p.state === "pending"; }) || timer) return;
      timer = setTimeout(function () { timer = null; send(); }, RETRY_MS);
    })["catch"](function () {});
  }

  // Put what is still kept back into its fields on this page (after a reload or a return).
  function restore() {
    return allKept().then(function (list) {
      mine(list).forEach(function (p) {
        var field = fieldFor(p.url);
        if (!field) return;
        var values = {};
        p.body.forEach(function (kv) { values[kv[0]] = kv[1]; });
        field.querySelectorAll("input[name], textarea[name]").forEach(function (i) {
          if (i.type === "radio") i.checked = values[i.name] === i.value;
          else if (i.type !== "hidden" && i.name in values) i.value = values[i.name];
        });
        var v = field.querySelector('input[name$=".version"]');
        p.body.forEach(function (kv) { if (v && kv[0] === v.name) v.value = kv[1]; });
        showPending(field);
      });
    })["catch"](function () {});
  }

  function fieldOf(elt) { return elt && elt.closest ? elt.closest(".entry-field") : null; }
  function ownRequest(e, field) {
    var path = e.detail.pathInfo && (e.detail.pathInfo.finalRequestPath || e.detail.pathInfo.requestPath);
    return field && path && path.split("?")[0] === field.dataset.url;
  }
  function toLogin(xhr) {
    return xhr && xhr.responseURL && /\/login(\?|$)/.test(new URL(xhr.responseURL).pathname + "?");
  }

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
    if (!navigator.onLine) { e.preventDefault(); keep(field); }
  });
  document.addEventListener("htmx:beforeSwap", function (e) {
    // The session ended: the save was answered with the sign-in page. Keep it, ask to sign in.
    var field = fieldOf(e.detail.elt);
    var xhr = e.detail.xhr;
    if (field && (toLogin(xhr) || xhr.status === 401 || xhr.status === 403)) {
      e.detail.shouldSwap = false;
      e.detail.isError = false;
      if (e.detail.requestConfig && e.detail.requestConfig.verb === "post") {
        if (xhr.status === 403) { keep(field).then(send); return; }  // maybe a stale token
        expired = true;
        keep(field);
      }
    }
  });
  document.addEventListener("htmx:sendError", function (e) {
    var field = fieldOf(e.detail.elt);
    if (field && e.detail.requestConfig.verb === "post") keep(field);
  });
  document.addEventListener("htmx:timeout", function (e) {
    var field = fieldOf(e.detail.elt);
    if (field && e.detail.requestConfig.verb === "post") keep(field);
  });
  document.addEventListener("htmx:afterRequest", function (e) {
    // The field's own save (or "take theirs") was answered: what was kept for it has ended.
    var field = fieldOf(e.detail.elt) || fieldFor((e.detail.pathInfo || {}).requestPath);
    var xhr = e.detail.xhr;
    if (!xhr || toLogin(xhr) || !ownRequest(e, field)) return;
    if (xhr.status === 200 || xhr.status === 409 || xhr.status === 422) {
      var url = field.dataset.url;
      if (xhr.status === 200) refreshKeptPage();
      var done = xhr.status === 200 ? dropKept(url) : getKept(url).then(function (p) {
        if (p) { p.state = xhr.status === 409 ? "conflict" : "invalid"; return putKept(p); }
      });
      done.then(banner)["catch"](function () {});
    }
  });
  document.addEventListener("htmx:afterSwap", function (e) {
    var t = e.detail.target;
    if (t && t.querySelectorAll) showKeepButtons(document);
  });

  window.addEventListener("online", function () { expired = false; banner(); send(); });
  window.addEventListener("offline", banner);

  // --- without signal: a form that would post is kept or refused, and says so ---------------------
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (navigator.onLine || !form || (form.method || "").toLowerCase() !== "post") return;
    e.preventDefault();
    if (form.id === "entry-form") {
      // "Save all": each filled field is kept and sent when the connection returns.
      form.querySelectorAll(".entry-field[hx-post]").forEach(function (field) {
        var changed = Array.prototype.some.call(field.querySelectorAll("input, textarea"), function (i) {
          return (i.type === "radio" ? i.checked !== i.defaultChecked : i.value !== i.defaultValue);
        });
        if (changed) keep(field);
      });
    }
    var box = document.getElementById("net-status");
    if (box) { box.textContent = msg("Refused"); box.hidden = false; }
  }, true);

  // The sign-out form: kept saves stay (they are the user's); pages kept offline are dropped.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (form && form.getAttribute("action") === "/logout" && navigator.serviceWorker && navigator.serviceWorker.controller) {
      navigator.serviceWorker.controller.postMessage({ type: "forget-pages" });
    }
  });

  // --- typing helpers ----------------------------------------------------------------------------
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

  // "Keep last month's figure": one tap fills the stock's inputs and saves them.
  function showKeepButtons(root) {
    root.querySelectorAll("button.keep-last[hidden]").forEach(function (b) { b.hidden = false; });
  }
  document.addEventListener("click", function (e) {
    var b = e.target && e.target.closest ? e.target.closest("button.keep-last") : null;
    if (!b) return;
    var field = fieldOf(b);
    var last = JSON.parse(b.dataset.keep || "{}");
    var changed = null;
    field.querySelectorAll("input[name]").forEach(function (i) {
      var part = i.name.split(".").pop();
      if (i.type !== "hidden" && part in last) { i.value = last[part]; changed = i; }
    });
    if (field.dataset.measure === "ratio") percent(field);
    if (changed) changed.dispatchEvent(new Event("change", { bubbles: true }));
  });

  // --- the service worker: keeps the app shell and entry pages for use without signal ------------
  function precache() {
    var root = document.getElementById("entry");
    if (!root || !root.dataset.precache || !navigator.serviceWorker) return;
    var urls = root.dataset.precache.split(" ").filter(Boolean);
    navigator.serviceWorker.ready.then(function (reg) {
      if (reg.active) reg.active.postMessage({ type: "keep-pages", urls: urls, current: location.pathname });
    });
  }
  // After saves, the kept copy of this page is refreshed (once, when the saving has paused), so
  // that opened without signal it shows the saved figures and their versions.
  var refreshTimer = null;
  function refreshKeptPage() {
    if (!navigator.serviceWorker || !navigator.serviceWorker.controller) return;
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(function () {
      navigator.serviceWorker.controller.postMessage({ type: "keep-pages", urls: [location.pathname], fresh: true });
    }, 3000);
  }
  if ("serviceWorker" in navigator && window.isSecureContext) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" })["catch"](function () {});
  }

  function start() {
    showKeepButtons(document);
    restore().then(banner).then(function () { return send(); }).then(function () {
      // Keep the other pages for later once this one has loaded and sent what it had.
      setTimeout(precache, 2000);
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
