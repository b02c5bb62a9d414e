// The directory's "Use my location": asks the browser for the phone's position only when
// the member presses the button, fills the "near" field and searches. Without scripts (or
// without permission) the field can be typed in.
(function () {
  "use strict";
  const button = document.getElementById("d-locate");
  const field = document.getElementById("d-near");
  const status = document.getElementById("d-locate-status");
  const form = document.getElementById("directory-form");
  if (!button || !field || !form || !("geolocation" in navigator)) return;
  const gettext = window.gettext || ((text) => text);
  button.hidden = false;
  button.addEventListener("click", () => {
    status.textContent = gettext("Finding where you are…");
    navigator.geolocation.getCurrentPosition(
      (position) => {
        const { latitude, longitude } = position.coords;
        field.value = latitude.toFixed(5) + "," + longitude.toFixed(5);
        status.textContent = "";
        form.requestSubmit();
      },
      () => {
        status.textContent = gettext("Your location is not available; type a place's coordinates instead.");
      },
      { enableHighAccuracy: false, timeout: 10000, maximumAge: 300000 }
    );
  });
})();
