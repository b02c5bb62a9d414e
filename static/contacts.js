// Continuum: the contact page's offline queue (see referral/web/contacts.py for the design).
// A contact is saved in this browser first and leaves the queue only once the API has
// answered for it: created (201) or recognised as already uploaded (200). Anything else the
// API refuses is kept apart, with the reason, until the volunteer discards it.
(function () {
  "use strict";

  const form = document.getElementById("contact-form");
  if (!form) return;
  const user = form.dataset.user;
  const api = form.dataset.api;
  const loginUrl = form.dataset.login;
  const QUEUE = "continuum.contacts.queue." + user;
  const REJECTED = "continuum.contacts.rejected." + user;
  const BATCH = 500; // the API's largest batch
  const RETRY_MS = 30000;
  const ONLINE_SETTLE_MS = 1000;

  const queueBox = document.getElementById("queue");
  const queueStatus = document.getElementById("queue-status");
  const uploadNow = document.getElementById("upload-now");
  const problemsBox = document.getElementById("queue-problems");
  const problemList = document.getElementById("queue-problem-list");
  const savedBox = document.getElementById("contact-saved");
  const savedText = document.getElementById("contact-saved-text");
  let uploading = false;
  let lastProblem = "";
  let signedOut = false;
  // The words come from Django's catalogue (/i18n/js/, kept offline by the service worker);
  // without it, English.
  const gettext = window.gettext || ((text) => text);
  const ngettext = window.ngettext || ((one, many, n) => (n === 1 ? one : many));
  const interpolate = window.interpolate || ((text, values) => text.replace(/%s/, values[0]));

  function announce(text) {
    savedText.textContent = text;
    savedBox.hidden = false;
  }

  function load(key) {
    try {
      return JSON.parse(localStorage.getItem(key) || "[]");
    } catch (error) {
      return [];
    }
  }

  function store(key, items) {
    localStorage.setItem(key, JSON.stringify(items));
  }

  function newUuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  function localNow() {
    const now = new Date();
    now.setMinutes(now.getMinutes() - now.getTimezoneOffset());
    return now.toISOString().slice(0, 16);
  }

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    const field = form.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function render() {
    const waiting = load(QUEUE).length;
    const rejected = load(REJECTED);
    queueBox.hidden = waiting === 0 && !lastProblem;
    queueBox.classList.toggle("waiting", waiting > 0);
    uploadNow.hidden = waiting === 0;
    if (waiting === 0) {
      queueStatus.textContent = lastProblem || "";
    } else {
      const what = interpolate(ngettext("%s contact waiting to upload", "%s contacts waiting to upload", waiting), [waiting]);
      queueStatus.textContent = lastProblem ? what + ". " + lastProblem : what + ".";
    }
    if (signedOut) {
      const link = document.createElement("a");
      link.href = loginUrl;
      link.textContent = gettext("Sign in");
      queueStatus.append(" ", link);
    }
    problemsBox.hidden = rejected.length === 0;
    problemList.replaceChildren(
      ...rejected.map((item, index) => {
        const li = document.createElement("li");
        const when = new Date(item.contact.occurred_at).toLocaleString();
        const pathway = window.Continuum.choiceText(form, "pathway", item.contact.pathway) || item.contact.pathway;
        li.textContent = when + " · " + pathway + ": " + item.reason + " ";
        const discard = document.createElement("button");
        discard.type = "button";
        discard.className = "govuk-button govuk-button--secondary govuk-!-margin-bottom-0";
        discard.textContent = gettext("Discard");
        discard.addEventListener("click", () => {
          const kept = load(REJECTED);
          kept.splice(index, 1);
          store(REJECTED, kept);
          render();
        });
        li.append(discard);
        return li;
      })
    );
  }

  function reasonOf(result) {
    return window.Continuum.refusal(form, result.status, result);
  }

  // A page being left starts nothing: its answer would be lost. A connection that comes
  // back is given a second to settle (and Chromium tells a page it is "online" again while
  // it is being replaced).
  let leaving = false;
  window.addEventListener("pagehide", () => (leaving = true));
  window.addEventListener("pageshow", () => (leaving = false));

  async function upload() {
    if (leaving) return;
    if (uploading) return;
    const batch = load(QUEUE).slice(0, BATCH);
    if (batch.length === 0) {
      render();
      return;
    }
    uploading = true;
    let progressed = false;
    try {
      let response;
      try {
        response = await fetch(api, {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
          body: JSON.stringify(batch),
        });
      } catch (error) {
        lastProblem = gettext("No connection: they upload when there is one.");
        return;
      }
      if (response.status === 401 || response.status === 403) {
        lastProblem = gettext("Signed out: sign in to upload them.");
        signedOut = true;
        return;
      }
      if (!response.ok) {
        lastProblem = interpolate(gettext("The server did not take them (%s); trying again later."), [response.status]);
        return;
      }
      const results = await response.json();
      const answered = new Map(results.map((result) => [result.client_uuid, result]));
      const rejected = load(REJECTED);
      const sent = new Set(batch.map((contact) => contact.client_uuid));
      for (const contact of batch) {
        const result = answered.get(contact.client_uuid);
        if (!result) {
          sent.delete(contact.client_uuid); // not answered: stays queued
        } else if (result.status !== 200 && result.status !== 201) {
          rejected.push({ contact: contact, reason: reasonOf(result) });
        }
      }
      // contacts queued while the upload ran are kept: only the answered ones leave
      store(QUEUE, load(QUEUE).filter((contact) => !sent.has(contact.client_uuid)));
      store(REJECTED, rejected);
      lastProblem = "";
      signedOut = false;
      progressed = sent.size > 0;
      const saved = batch.filter((contact) => {
        const result = answered.get(contact.client_uuid);
        return result && (result.status === 200 || result.status === 201);
      }).length;
      if (saved > 0) announce(interpolate(ngettext("%s contact saved.", "%s contacts saved.", saved), [saved]));
    } finally {
      uploading = false;
      render();
    }
    // more than one batch waiting: go on while each round takes some off the queue
    if (progressed && load(QUEUE).length > 0) upload();
  }

  function freshForm() {
    // a fresh form for the next contact; the pathway is usually the same
    form.elements.client_uuid.value = newUuid();
    form.elements.occurred_at.value = localNow();
    form.elements.place.value = "";
    form.elements.notes.value = "";
    form.querySelectorAll("input[name=offered]").forEach((box) => (box.checked = false));
  }

  const notesProblem = document.getElementById("c-notes-offline");

  function showNotesProblem(show) {
    if (notesProblem) notesProblem.hidden = !show;
  }

  // Notes are free text that may name someone: they never go into the phone's storage. A
  // contact with notes is uploaded at once, from memory; without a connection the form
  // stays as it is and says so.
  async function sendWithNotes(contact) {
    let results = null;
    try {
      const response = await fetch(api, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify([contact]),
      });
      if (response.ok) results = await response.json();
    } catch (error) {
      results = null;
    }
    const result = results && results[0];
    if (!result) {
      showNotesProblem(true);
      notesProblem.scrollIntoView();
      return;
    }
    showNotesProblem(false);
    if (result.status === 200 || result.status === 201) {
      freshForm();
      announce(form.dataset.savedText || gettext("Contact saved."));
    } else {
      const rejected = load(REJECTED);
      rejected.push({ contact: Object.assign({}, contact, { notes: null }), reason: reasonOf(result) });
      store(REJECTED, rejected);
      render();
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const notes = (data.get("notes") || "").trim();
    const contact = {
      client_uuid: data.get("client_uuid"),
      occurred_at: new Date(data.get("occurred_at")).toISOString(),
      place: (data.get("place") || "").trim(),
      pathway: data.get("pathway"),
      offered: data.getAll("offered"),
      notes: null,
    };
    if (notes) {
      sendWithNotes(Object.assign({}, contact, { notes: notes }));
      return;
    }
    showNotesProblem(false);
    const queue = load(QUEUE);
    queue.push(contact);
    store(QUEUE, queue);
    freshForm();
    announce(navigator.onLine ? gettext("Contact saved on this phone; uploading.") : gettext("Contact saved on this phone; it uploads when there is a connection."));
    render();
    upload();
  });

  uploadNow.addEventListener("click", () => upload());
  window.addEventListener("online", () => setTimeout(upload, ONLINE_SETTLE_MS));
  setInterval(() => {
    if (load(QUEUE).length > 0) upload();
  }, RETRY_MS);

  // The page may come from the service worker's copy: never reuse its id or its time.
  form.elements.client_uuid.value = newUuid();
  form.elements.occurred_at.value = localNow();
  render();
  upload();
})();
