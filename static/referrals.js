// Continuum: referrals made without a connection (see referral/web/offline.py).
// Online, the form posts as it always does (the consent gate, check your answers). Offline,
// the referral is kept in this browser with the phone's own id (the API's client_uuid) and
// sent through the API when the connection comes back; a person made offline is recorded
// first, under an Idempotency-Key made with it. Either is sent until the API has answered
// for it, and a replay is recognised, so each arrives exactly once. What is kept: ids,
// codes and, for a new person until they are recorded, their street name. Never names,
// birth dates, phone numbers or the free-text "Why".
(function () {
  "use strict";

  const form = document.getElementById("referral-form");
  if (!form) return;
  const text = form.dataset;
  const QUEUE = "continuum.referrals.queue." + text.user;
  const REJECTED = "continuum.referrals.rejected." + text.user;
  const RETRY_MS = 30000;
  const ONLINE_SETTLE_MS = 1000;

  const $ = (id) => document.getElementById(id);
  const queueBox = $("rq-queue");
  const queueStatus = $("rq-status");
  const uploadNow = $("rq-upload");
  const problemsBox = $("rq-problems");
  const problemList = $("rq-problem-list");
  const savedBox = $("rq-saved");
  const savedText = $("rq-saved-text");
  const offlineNote = $("rq-offline");
  const invalid = $("rq-invalid");
  const newPersonGroup = $("rq-new-person");
  const newPerson = $("n-new-person");
  const personSelect = $("n-person");
  const serviceSelect = $("n-service");
  const reason = $("n-reason");
  let uploading = false;
  let lastProblem = "";

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

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    const field = form.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function announce(message) {
    savedText.textContent = message;
    savedBox.hidden = false;
  }

  function count(one, many, n) {
    return n === 1 ? one : many.replace("NUMBER", String(n));
  }

  function optionText(select, value) {
    const option = select && Array.from(select.options).find((o) => o.value === value);
    return option ? option.textContent.trim() : "";
  }

  function render() {
    const waiting = load(QUEUE).length;
    const rejected = load(REJECTED);
    queueBox.hidden = waiting === 0 && !lastProblem;
    uploadNow.hidden = waiting === 0;
    const what = waiting === 0 ? "" : count(text.textWaitingOne, text.textWaitingMany, waiting);
    queueStatus.textContent = [what, lastProblem].filter(Boolean).join(" ");
    if (lastProblem === text.textSignedOut) {
      const link = document.createElement("a");
      link.className = "govuk-link";
      link.href = text.login;
      link.textContent = text.textSignIn;
      queueStatus.append(" ", link);
    }
    problemsBox.hidden = rejected.length === 0;
    problemList.replaceChildren(
      ...rejected.map((entry, index) => {
        const li = document.createElement("li");
        const item = entry.referral;
        const who = item.person ? optionText(personSelect, item.person) : item.new_person ? text.textNewPerson : "";
        li.textContent = [optionText(serviceSelect, item.to_service), who, entry.reason].filter(Boolean).join(" · ") + " ";
        const discard = document.createElement("button");
        discard.type = "button";
        discard.className = "govuk-button govuk-button--secondary govuk-!-margin-bottom-0";
        discard.textContent = text.textDiscard;
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

  function showMode() {
    const offline = !navigator.onLine;
    offlineNote.hidden = !offline;
    newPersonGroup.hidden = !offline;
    newPerson.disabled = !offline;
    if (reason) reason.disabled = offline;
  }

  function reasonOf(status, body) {
    return window.Continuum.refusal(form, status, body, { display_name: "new_person" });
  }

  function replaceItem(item) {
    store(QUEUE, load(QUEUE).map((queued) => (queued.client_uuid === item.client_uuid ? item : queued)));
  }

  function dropItem(item) {
    store(QUEUE, load(QUEUE).filter((queued) => queued.client_uuid !== item.client_uuid));
  }

  function reject(item, status, body) {
    dropItem(item);
    const rejected = load(REJECTED);
    rejected.push({ referral: item, reason: reasonOf(status, body) });
    store(REJECTED, rejected);
  }

  async function post(url, body, key) {
    const headers = { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() };
    if (key) headers["Idempotency-Key"] = key;
    const response = await fetch(url, { method: "POST", credentials: "same-origin", headers: headers, body: JSON.stringify(body) });
    let answer = null;
    try {
      answer = await response.json();
    } catch (error) {
      answer = null;
    }
    return { status: response.status, body: answer };
  }

  // "stop" when the whole queue has to wait (no connection, signed out, the server busy),
  // "rejected" when the API refused this one for what it is
  function verdict(result) {
    if (result.status === 200 || result.status === 201) return "done";
    if (result.status === 401 || result.status === 403) {
      lastProblem = text.textSignedOut;
      return "stop";
    }
    const code = result.body && result.body.code;
    if ((result.status === 409 && code === "idempotency_in_progress") || result.status === 429 || result.status >= 500) {
      lastProblem = text.textRefused;
      return "stop";
    }
    return "rejected";
  }

  // A page being left starts nothing: its answer would be lost. A connection that comes
  // back is given a second to settle (and Chromium tells a page it is "online" again while
  // it is being replaced).
  let leaving = false;
  window.addEventListener("pagehide", () => (leaving = true));
  window.addEventListener("pageshow", () => (leaving = false));

  async function upload() {
    if (leaving) return;
    if (uploading || load(QUEUE).length === 0) {
      render();
      return;
    }
    uploading = true;
    let sent = 0;
    try {
      for (const queued of load(QUEUE)) {
        const item = Object.assign({}, queued);
        if (item.new_person) {
          const made = await post(text.peopleApi, { display_name: item.new_person.display_name }, item.new_person.key);
          const outcome = verdict(made);
          if (outcome === "stop") return;
          if (outcome === "rejected") {
            reject(item, made.status, made.body);
            continue;
          }
          // recorded: from now on the queue holds the person's id, not their street name
          item.person = made.body.id;
          delete item.new_person;
          replaceItem(item);
        }
        const body = { client_uuid: item.client_uuid, to_service: item.to_service, pathway: item.pathway, urgency: item.urgency };
        if (item.person) body.person = item.person;
        if (item.task_force) body.task_force = Number(item.task_force);
        const answer = await post(text.api, body, null);
        const outcome = verdict(answer);
        if (outcome === "stop") return;
        if (outcome === "rejected") {
          reject(item, answer.status, answer.body);
          continue;
        }
        dropItem(item);
        sent += 1;
      }
      lastProblem = "";
    } catch (error) {
      lastProblem = text.textNoConnection; // the rest waits for the connection
    } finally {
      uploading = false;
      if (sent > 0) announce(count(text.textSentOne, text.textSentMany, sent));
      render();
    }
  }

  form.addEventListener("submit", (event) => {
    if (navigator.onLine) return; // online: the form posts itself, with every step
    event.preventDefault();
    const data = new FormData(form);
    const pseudonym = (data.get("new_person") || "").trim();
    const person = data.get("person") || "";
    if (!data.get("to_service") || !data.get("pathway")) {
      invalid.hidden = false;
      invalid.scrollIntoView();
      return;
    }
    invalid.hidden = true;
    const item = {
      client_uuid: data.get("client_uuid"),
      to_service: data.get("to_service"),
      pathway: data.get("pathway"),
      urgency: data.get("urgency") || "routine",
      person: person || null,
      new_person: !person && pseudonym ? { key: newUuid(), display_name: pseudonym } : null,
      task_force: data.get("task_force") || null,
    };
    const queue = load(QUEUE);
    queue.push(item);
    store(QUEUE, queue);
    // a fresh form for the next referral
    form.reset();
    form.elements.client_uuid.value = newUuid();
    announce(text.textQueued);
    render();
    upload();
  });

  // Arriving from the directory ("Refer to this service") while the page comes from the
  // phone's copy: the copy knows nothing of the link's choice, so it is made here.
  const params = new URLSearchParams(location.search);
  if (serviceSelect && !serviceSelect.value && params.get("service")) serviceSelect.value = params.get("service");
  if (personSelect && !personSelect.value && params.get("person")) personSelect.value = params.get("person");
  personSelect.addEventListener("change", () => {
    if (personSelect.value) newPerson.value = "";
  });

  uploadNow.addEventListener("click", () => upload());
  window.addEventListener("online", () => {
    showMode();
    setTimeout(upload, ONLINE_SETTLE_MS);
  });
  window.addEventListener("offline", showMode);
  setInterval(() => {
    if (load(QUEUE).length > 0) upload();
  }, RETRY_MS);

  // The page may be the phone's copy: never reuse its id.
  form.elements.client_uuid.value = newUuid();
  showMode();
  render();
  upload();
})();
