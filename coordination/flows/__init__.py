"""Flows along the continuum: how many people were referred, accepted, engaged, completed,
declined, expired, disengaged or forwarded (and to which stage), per pathway and stage, how
long each step took, and the headline time from first contact to treatment entry.

- ``counts``: ``flow_counts``, the true counts of a scope and period, each day read from the
  monthly rollup, the daily rollup or the live tables.
- ``rollup_read``: the counts summed from rollup rows; ``live``: counted from the live
  ``ReferralEvent`` and ``Contact`` tables (the nightly rollup, ``coordination.rollup``,
  groups events the same way).
- ``steps``: the steps a referral moves along and the true counts per step (``FlowCounts``).
- ``histograms``: duration buckets, their aggregate columns and percentiles.
- ``periods``: UTC days, runs of days and whole months.
- ``suppression``: the small-cell rule every published count follows.
- ``report``: ``flow_report``, the published report; ``export``: its CSV table and the audit
  record of an export.
"""
