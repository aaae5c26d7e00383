// Service worker (served from /sw.js, scope "/"; the server puts `const SHELL = [...]` above
// this line: the versioned URLs of the app shell's static files).
//
// - Static files (versioned, immutable): from the cache, else the network, then kept.
// - Entry pages (/entry/...): from the network when there is signal, and kept; from the cache
//   without signal, so an entry page opened once opens again in a field with no signal. The
//   month picker's /entry?unit=&period= and /entry itself are answered from the kept pages too.
// - Any other page without signal: the kept /offline page, which says what can be opened.
// - Saves (POST) are never answered here: the page keeps them in IndexedDB (static/entry.js).
/* global SHELL */
"use strict";
var SHELL_CACHE = "mttq-shell-" + SHELL.join("|").replace(/[^a-z0-9]/gi, "").slice(-60);
var PAGES_CACHE = "mttq-pages-v1";
var LAST_ENTRY = "/__last-entry__";
var OFFLINE = "/offline";

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(SHELL_CACHE).then(function (cache) {
    return cache.addAll(SHELL.concat([OFFLINE]));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) {
      return k.indexOf("mttq-shell-") === 0 && k !== SHELL_CACHE;
    }).map(function (k) { return caches["delete"](k); }));
  }).then(function () { return self.clients.claim(); }));
});

function isEntryPage(url) {
  return /^\/entry\/[^/]+\/\d{4}-\d{2}(\/villages)?$/.test(url.pathname) && !url.search;
}

function keepPage(request, response) {
  var url = new URL(request.url);
  if (!response || !response.ok || response.redirected || response.type !== "basic" || !isEntryPage(url)) {
    return Promise.resolve();
  }
  var copy = response.clone();
  return caches.open(PAGES_CACHE).then(function (cache) {
    return Promise.all([
      cache.put(url.pathname, copy),
      url.pathname.slice(-9) === "/villages" ? null
        : cache.put(LAST_ENTRY, new Response(url.pathname, { headers: { "Content-Type": "text/plain" } }))
    ]);
  });
}

// Without signal: the kept page for this address, or the one the address would redirect to.
function keptPage(url) {
  return caches.open(PAGES_CACHE).then(function (cache) {
    if (url.pathname === "/entry" && url.searchParams.get("unit") && url.searchParams.get("period")) {
      var target = "/entry/" + url.searchParams.get("unit") + "/" + url.searchParams.get("period") +
        (url.searchParams.get("view") === "villages" ? "/villages" : "");
      return cache.match(target).then(function (hit) { return hit ? Response.redirect(target, 303) : null; });
    }
    if (url.pathname === "/entry" || url.pathname === "/") {
      return cache.match(LAST_ENTRY).then(function (last) {
        return last ? last.text().then(function (path) { return Response.redirect(path, 303); }) : null;
      });
    }
    return cache.match(url.pathname);
  }).then(function (hit) {
    return hit || caches.match(OFFLINE);
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.indexOf("/static/") === 0 || url.pathname === "/favicon.ico") {
    event.respondWith(caches.match(request).then(function (hit) {
      return hit || fetch(request).then(function (response) {
        if (response.ok && url.searchParams.get("v")) {
          var copy = response.clone();
          caches.open(SHELL_CACHE).then(function (cache) { cache.put(request, copy); });
        }
        return response;
      });
    }));
    return;
  }
  if (request.mode !== "navigate") return;  // htmx fragments, /csrf-token: the network only
  event.respondWith(fetch(request).then(function (response) {
    event.waitUntil(keepPage(request, response));
    return response;
  })["catch"](function () { return keptPage(url); }));
});

// The entry page asks to keep its neighbours (previous month, the villages page) while online;
// signing out forgets the kept pages (the next user of the phone must not open them).
self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type === "keep-pages" && Array.isArray(data.urls)) {
    event.waitUntil(caches.open(PAGES_CACHE).then(function (cache) {
      return Promise.all(data.urls.map(function (path) {
        if (typeof path !== "string" || path.charAt(0) !== "/") return null;
        return cache.match(path).then(function (hit) {
          if (hit && !data.fresh) return null;
          var request = new Request(path, { credentials: "same-origin" });
          return fetch(request).then(function (response) { return keepPage(request, response); })["catch"](function () {});
        });
      }));
    }));
  }
  if (data.type === "forget-pages") {
    event.waitUntil(caches["delete"](PAGES_CACHE));
  }
});
