{% load static %}// Continuum contacts: keep the contact page and its assets so that it opens offline.
// Contacts themselves are queued by the page (contacts.js), never by this worker.
const CACHE = "continuum-contacts-v2";
// The scripts' catalogue too: the page's offline messages in the member's language.
const SHELL = ["{% url 'contact-new' %}", "{% static 'continuum.css' %}", "{% static 'contacts.js' %}", "{% url 'javascript-catalog' %}"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
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
  // The network first, so that a signed-out phone meets the login page; the copy offline.
  event.respondWith(
    fetch(request)
      .then((response) => {
        if (response.ok && !response.redirected) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(url.pathname, copy));
        }
        return response;
      })
      .catch(() => caches.match(url.pathname).then((cached) => cached || Response.error()))
  );
});
