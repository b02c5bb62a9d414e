{% load static %}// Continuum offline: keeps the pages a phone needs in the street (log a contact, make a
// referral, the directory's last copy) and their assets, so that they open without a
// connection. Contacts and referrals themselves are queued by those pages (contacts.js,
// referrals.js), never by this worker, and no page with a person's identity is ever kept.
const CACHE = "continuum-offline-v3";
const PAGES = ["{% url 'contact-new' %}", "{% url 'referral-new-page' %}", "{% url 'directory-page' %}"];
const ASSETS = [
  "{% static 'vendor/govuk/govuk-frontend.min.css' %}",
  "{% static 'vendor/govuk/govuk-frontend.min.js' %}",
  "{% static 'continuum.css' %}",
  "{% static 'continuum-init.mjs' %}",
  "{% static 'js-enabled.js' %}",
  "{% static 'offline.js' %}",
  "{% static 'contacts.js' %}",
  "{% static 'referrals.js' %}",
  "{% static 'refusals.js' %}",
  "{% static 'directory.js' %}",
  // the scripts' messages in the member's language (Django's JavaScriptCatalog)
  "{% url 'javascript-catalog' %}",
];
const SHELL = [...PAGES, ...ASSETS];

// A page is kept only as the member saw it: never a redirect (to the login page, say).
function keep(cache, path, response) {
  if (response.ok && !response.redirected) return cache.put(path, response);
  return Promise.resolve();
}

// The kept pages are one member's (the people they see, by street name, in the pickers):
// once nobody is signed in they go, and only the assets stay. The login page says so
// (static/signed-out.js), and so does a page asked for that answers with the login page.
function forgetPages() {
  return caches.open(CACHE).then((cache) => Promise.all(PAGES.map((path) => cache.delete(path))));
}

self.addEventListener("message", (event) => {
  if (event.data !== "signed-out") return;
  const done = forgetPages().then(() => {
    if (event.ports[0]) event.ports[0].postMessage("forgotten");
  });
  event.waitUntil(done);
});

self.addEventListener("install", (event) => {
  // the assets, and each page this member may open (one that is not theirs is skipped)
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) =>
        cache.addAll(ASSETS).then(() =>
          Promise.all(PAGES.map((path) => fetch(path, { credentials: "same-origin" }).then((response) => keep(cache, path, response)).catch(() => {})))
        )
      )
      .then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((key) => key !== CACHE).map((key) => caches.delete(key))))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin || !SHELL.includes(url.pathname)) {
    return;
  }
  // The network first, so that a signed-out phone meets the login page; the last copy
  // offline (one per page: the directory's last search, whatever its filters).
  event.respondWith(
    fetch(request)
      .then((response) => {
        if (response.redirected) {
          forgetPages(); // sent to the login page: this phone's member is signed out
          return response;
        }
        const copy = response.clone();
        caches.open(CACHE).then((cache) => keep(cache, url.pathname, copy));
        return response;
      })
      .catch(() => caches.match(url.pathname).then((cached) => cached || Response.error()))
  );
});
