// Continuum: what the API said when it refused something a phone had queued, in the words
// of the page the volunteer filled in. The API names its fields ("occurred_at"); the page
// knows what they are called on screen ("When"), so each message is put after its field's
// label, and a field the page does not show is left unnamed. The messages themselves come
// from the API in the member's language. Used by contacts.js and referrals.js.
(function () {
  "use strict";
  const gettext = window.gettext || ((text) => text);
  const interpolate = window.interpolate || ((text, values) => text.replace(/%s/, values[0]));

  function words(element) {
    return element ? element.textContent.replace(/\s+/g, " ").trim() : "";
  }

  // The label of the page's field called `name`: a radio's or box's group legend, else the
  // label for its id.
  function labelOf(form, name) {
    const input = form.querySelector('[name="' + CSS.escape(name) + '"]');
    if (!input) return "";
    const fieldset = input.closest("fieldset");
    if ((input.type === "radio" || input.type === "checkbox") && fieldset) {
      return words(fieldset.querySelector("legend"));
    }
    return input.id ? words(form.querySelector('label[for="' + CSS.escape(input.id) + '"]')) : "";
  }

  // What `value` of the field `name` reads as on the page: the option's or the radio's label.
  function choiceText(form, name, value) {
    const selector = '[name="' + CSS.escape(name) + '"]';
    for (const input of form.querySelectorAll(selector)) {
      if (input.tagName === "SELECT") {
        const option = Array.from(input.options).find((o) => o.value === String(value));
        if (option) return words(option);
      } else if (input.value === String(value) && input.id) {
        const label = form.querySelector('label[for="' + CSS.escape(input.id) + '"]');
        if (label) return words(label);
      }
    }
    return "";
  }

  // `aliases` names the page's field for an API field it shows under another name
  // (the people API's display_name is the referral page's new_person, say).
  function refusal(form, status, body, aliases) {
    const errors = (body && body.errors) || {};
    const parts = Object.keys(errors).map((field) => {
      const message = [].concat(errors[field]).join(" ");
      const label = labelOf(form, (aliases && aliases[field]) || field);
      return label ? label + ": " + message : message;
    });
    if (parts.length) return parts.join("; ");
    if (body && body.detail) return body.detail;
    return interpolate(gettext("Refused by the server (error %s)."), [status]);
  }

  window.Continuum = Object.assign(window.Continuum || {}, { refusal: refusal, choiceText: choiceText });
})();
