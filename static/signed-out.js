// Continuum: on the login page nobody is signed in on this phone, so the service worker
// forgets the pages it kept for the last member (their pickers name the people they see).
// The queues of what was made offline stay, each under its member's name, until that
// member signs in again and they upload.
(function () {
  "use strict";
  if (!("serviceWorker" in navigator)) return;
  navigator.serviceWorker.getRegistration("/").then((registration) => {
    const worker = registration && (registration.active || registration.waiting);
    if (!worker) return;
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      document.documentElement.dataset.offlineCopies = "forgotten";
    };
    worker.postMessage("signed-out", [channel.port2]);
  }).catch(() => {});
})();
