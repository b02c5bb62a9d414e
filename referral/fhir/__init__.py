"""FHIR R4 for partners' systems: the SDOH Clinical Care IG's referral resources at /fhir/,
built from referrals (``resources``, ``mapping``), read and written through the referral
selectors and services (``selectors``, ``services``), notified with R4 backport
Subscriptions (``subscriptions``). See docs/fhir.md."""
