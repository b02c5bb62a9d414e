// Starts GOV.UK Frontend's components (error summary focus, skip link, character counts).
import { initAll } from "./vendor/govuk/govuk-frontend.min.js";

initAll();
