// Tells GOV.UK Frontend's styles and components that scripts run (its own snippet, as a file
// so that the Content-Security-Policy needs no inline script).
document.body.className += " js-enabled" + ("noModule" in HTMLScriptElement.prototype ? " govuk-frontend-supported" : "");
