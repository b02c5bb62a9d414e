// Continuum: registers the service worker that keeps the contact page, the referral page
// and the directory's last copy for use without a connection (see /sw.js).
if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {});
}
