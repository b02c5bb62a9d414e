"""Task-force coordination: what needs a human (the board), case conferences, and the daily
flow rollups that keep the dashboard fast over years of data.

The board itself is computed from rules over live data (``coordination.selectors``); what is
stored here is only what people add to it: who took an item and what they noted.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from services_directory.models import Organization, TaskForce

# Upper bounds (seconds) of the duration histogram buckets; the last bucket is open.
# Percentiles are estimated within a bucket, so they are accurate to the bucket width.
DURATION_BUCKETS = (
    60, 300, 900, 1800, 3600, 2 * 3600, 4 * 3600, 8 * 3600, 12 * 3600,
    86400, 2 * 86400, 3 * 86400, 5 * 86400, 7 * 86400, 10 * 86400, 14 * 86400,
    21 * 86400, 30 * 86400, 45 * 86400, 60 * 86400, 90 * 86400, 180 * 86400, 365 * 86400,
)  # fmt: skip


class BoardRule(models.TextChoices):
    PAST_SLA = "past_sla", _("Referral past its SLA")
    NEAR_SLA = "near_sla", _("Referral near its SLA")
    DECLINED_NO_FOLLOW_UP = "declined_no_follow_up", _("Declined, no new referral within 72 h")
    STALLED = "stalled", _("Stalled between stages (14 days)")
    NO_CAPACITY = "no_capacity", _("Service at zero capacity or not accepting")
    EMERGENCY_ACCESS = "emergency_access", _("Emergency access to a person (42 CFR 2.51)")
    LONG_WAIT = "long_wait", _("Waiting for a place longer than the service's stated wait")
    UNCLASSIFIED = "unclassified", _("Service without a stage (not offered for referrals)")


class BoardItemState(models.Model):
    """A coordinator's hold on a board item: assignment and notes. The item is identified by
    its rule and target (a referral, a person or a service)."""

    task_force = models.ForeignKey(TaskForce, on_delete=models.CASCADE, related_name="+")
    rule = models.CharField(max_length=32, choices=BoardRule.choices)
    target_label = models.CharField(max_length=100)
    target_id = models.CharField(max_length=64)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.TextField(blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("board item")
        verbose_name_plural = _("board items")
        constraints = [
            models.UniqueConstraint(
                fields=["task_force", "rule", "target_label", "target_id"],
                name="one_state_per_board_item",
            )
        ]

    def __str__(self) -> str:
        return f"{self.rule} {self.target_label}:{self.target_id}"


class CaseConference(models.Model):
    task_force = models.ForeignKey(
        TaskForce, on_delete=models.CASCADE, related_name="case_conferences"
    )
    held_on = models.DateField()
    title = models.CharField(max_length=200)
    minutes = models.TextField(blank=True, help_text="Pseudonymous: display names only.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("case conference")
        verbose_name_plural = _("case conferences")
        ordering = ["-held_on", "id"]

    def __str__(self) -> str:
        return f"{self.title} ({self.held_on})"


class AgendaItem(models.Model):
    conference = models.ForeignKey(
        CaseConference, on_delete=models.CASCADE, related_name="agenda_items"
    )
    position = models.PositiveIntegerField(default=0)
    title = models.CharField(max_length=300)
    rule = models.CharField(max_length=32, choices=BoardRule.choices, blank=True)
    referral = models.ForeignKey(
        "referral.Referral", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    person = models.ForeignKey(
        "referral.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    discussion = models.TextField(blank=True)

    class Meta:
        verbose_name = _("agenda item")
        verbose_name_plural = _("agenda items")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.title


class ActionItem(models.Model):
    conference = models.ForeignKey(
        CaseConference, on_delete=models.CASCADE, related_name="action_items"
    )
    agenda_item = models.ForeignKey(
        AgendaItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="actions"
    )
    description = models.CharField(max_length=500)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    due_on = models.DateField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("action item")
        verbose_name_plural = _("action items")
        ordering = ["due_on", "id"]

    def __str__(self) -> str:
        return self.description


class TransitionRollup(models.Model):
    """Referral transitions of one period, per pathway, stage and step, with duration
    histograms (time in the previous state, and since the journey began), for one scope:
    a task force (referrals its organisations sent or received, counted once) or one
    organisation (referrals it sent or received, counted once). Per-scope rows rather than
    per sender and receiver pair, so that a task force's period is a few hundred rows at most,
    not one row per event. Written by the nightly rollup; never by hand."""

    task_force = models.ForeignKey(
        TaskForce, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    pathway = models.CharField(max_length=24)
    stage = models.CharField(max_length=20)
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12)
    count = models.PositiveIntegerField()
    previous_histogram = models.JSONField(default=list)
    journey_histogram = models.JSONField(default=list)

    class Meta:
        verbose_name = _("daily flow rollup")
        verbose_name_plural = _("daily flow rollups")
        abstract = True


class DailyTransitionRollup(TransitionRollup):
    """One UTC day's transitions (``TransitionRollup``)."""

    day = models.DateField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(task_force__isnull=True, organization__isnull=False)
                | models.Q(task_force__isnull=False, organization__isnull=True),
                name="transition_rollup_one_scope",
            ),
            models.UniqueConstraint(
                fields=["day", "task_force", "pathway", "stage", "from_status", "to_status"],
                condition=models.Q(task_force__isnull=False),
                name="one_task_force_transition_rollup_row",
            ),
            models.UniqueConstraint(
                fields=["day", "organization", "pathway", "stage", "from_status", "to_status"],
                condition=models.Q(organization__isnull=False),
                name="one_organization_transition_rollup_row",
            ),
        ]
        indexes = [
            models.Index(fields=["task_force", "day"]),
            models.Index(fields=["organization", "day"]),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.from_status}->{self.to_status} x{self.count}"


class MonthlyTransitionRollup(TransitionRollup):
    """One whole UTC month's transitions: the sums of its daily rows, written by the rollup
    whenever a day of a month whose days are all rolled up is rolled up (again). A year is
    read from a dozen months' rows instead of 365 days' (about 30 times fewer rows to sum);
    the days at the edges of a period, and months not wholly rolled up, come from the daily
    rows."""

    month = models.DateField(help_text="The first day of the month.")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(task_force__isnull=True, organization__isnull=False)
                | models.Q(task_force__isnull=False, organization__isnull=True),
                name="monthly_transition_rollup_one_scope",
            ),
            models.UniqueConstraint(
                fields=["month", "task_force", "pathway", "stage", "from_status", "to_status"],
                condition=models.Q(task_force__isnull=False),
                name="one_task_force_monthly_transition_rollup_row",
            ),
            models.UniqueConstraint(
                fields=["month", "organization", "pathway", "stage", "from_status", "to_status"],
                condition=models.Q(organization__isnull=False),
                name="one_organization_monthly_transition_rollup_row",
            ),
        ]
        indexes = [
            models.Index(fields=["task_force", "month"]),
            models.Index(fields=["organization", "month"]),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.from_status}->{self.to_status} x{self.count}"


class DailyContactRollup(models.Model):
    day = models.DateField()
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    pathway = models.CharField(max_length=24)
    count = models.PositiveIntegerField()

    class Meta:
        verbose_name = _("daily contact rollup")
        verbose_name_plural = _("daily contact rollups")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "organization", "pathway"], name="one_contact_rollup_row"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.organization_id} {self.pathway} x{self.count}"


class MonthlyContactRollup(models.Model):
    """One whole UTC month's contacts per organisation and pathway, kept with
    ``MonthlyTransitionRollup``."""

    month = models.DateField(help_text="The first day of the month.")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    pathway = models.CharField(max_length=24)
    count = models.PositiveIntegerField()

    class Meta:
        verbose_name = _("monthly contact rollup")
        verbose_name_plural = _("monthly contact rollups")
        constraints = [
            models.UniqueConstraint(
                fields=["month", "organization", "pathway"], name="one_monthly_contact_rollup_row"
            )
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.organization_id} {self.pathway} x{self.count}"


class RollupRun(models.Model):
    """The days the rollup has completed: the API uses rollups for these, live data after."""

    day = models.DateField(unique=True)
    finished_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("rollup run")
        verbose_name_plural = _("rollup runs")

    def __str__(self) -> str:
        return str(self.day)


class MetricsRollup(models.Model):
    """The outcome metrics' counts (``coordination.metrics``) of one UTC day's referrals (the
    day they were made) that had *settled* by the rollup's cutoff, per pathway, for one scope
    (a task force: the referrals made in it; or one organisation: those it sent or received).

    A referral has settled once nothing can change what it adds to any metric: its status is
    final (no move leads out of it) and every window a metric waits for has passed (48 days
    from the journey start, 90 days from engagement). Its windowed counts are then fixed, so a
    row holds for any later request. Referrals not settled at the cutoff are counted live.
    Written by the nightly rollup (``coordination.metrics_rollup``); never by hand."""

    day = models.DateField()
    task_force = models.ForeignKey(
        TaskForce, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    pathway = models.CharField(max_length=24)
    # the counts of ``coordination.metrics.COUNTS`` (what each is: ``_referral_counts``)
    referrals = models.PositiveIntegerField(default=0)
    accepted = models.PositiveIntegerField(default=0)
    waited = models.PositiveIntegerField(default=0)
    t_same_day = models.PositiveIntegerField(default=0)
    e_same_day = models.PositiveIntegerField(default=0)
    t_72h = models.PositiveIntegerField(default=0)
    e_72h = models.PositiveIntegerField(default=0)
    t_14d = models.PositiveIntegerField(default=0)
    e_14d = models.PositiveIntegerField(default=0)
    t_34d = models.PositiveIntegerField(default=0)
    e_34d = models.PositiveIntegerField(default=0)
    engaged_30d = models.PositiveIntegerField(default=0)
    retained_30d = models.PositiveIntegerField(default=0)
    engaged_90d = models.PositiveIntegerField(default=0)
    retained_90d = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("daily metrics rollup")
        verbose_name_plural = _("daily metrics rollups")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(task_force__isnull=True, organization__isnull=False)
                | models.Q(task_force__isnull=False, organization__isnull=True),
                name="metrics_rollup_one_scope",
            ),
            models.UniqueConstraint(
                fields=["day", "task_force", "pathway"],
                condition=models.Q(task_force__isnull=False),
                name="one_task_force_metrics_rollup_row",
            ),
            models.UniqueConstraint(
                fields=["day", "organization", "pathway"],
                condition=models.Q(organization__isnull=False),
                name="one_organization_metrics_rollup_row",
            ),
        ]
        indexes = [
            models.Index(fields=["task_force", "day"]),
            models.Index(fields=["organization", "day"]),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.pathway}"


class MetricsReasonRollup(models.Model):
    """The coded reasons of one UTC day's settled referrals (``MetricsRollup``): declines,
    losses to follow-up and unsuccessful completions, per pathway, status and code."""

    day = models.DateField()
    task_force = models.ForeignKey(
        TaskForce, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    pathway = models.CharField(max_length=24)
    status = models.CharField(max_length=12)
    code = models.CharField(max_length=32, blank=True)
    count = models.PositiveIntegerField()

    class Meta:
        verbose_name = _("daily metrics reason rollup")
        verbose_name_plural = _("daily metrics reason rollups")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(task_force__isnull=True, organization__isnull=False)
                | models.Q(task_force__isnull=False, organization__isnull=True),
                name="metrics_reason_rollup_one_scope",
            ),
        ]
        indexes = [
            models.Index(fields=["task_force", "day"]),
            models.Index(fields=["organization", "day"]),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.status} {self.code} x{self.count}"


class MetricsRollupRun(models.Model):
    """How far the metrics rollup goes: its rows hold the referrals made before ``until``
    that had settled by its start (the cutoff, midnight UTC of ``until``). One row, or none
    before the first run (then every metric is counted live)."""

    until = models.DateField()
    finished_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("metrics rollup run")
        verbose_name_plural = _("metrics rollup runs")

    def __str__(self) -> str:
        return str(self.until)
