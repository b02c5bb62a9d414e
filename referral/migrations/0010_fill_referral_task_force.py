from django.db import migrations


def fill_task_force(apps, schema_editor):
    """Each existing referral goes to the task force its two organisations share (the oldest
    when they share several); with none shared it stays without one, seen by no
    coordinator."""
    Referral = apps.get_model("referral", "Referral")
    TaskForce = apps.get_model("services_directory", "TaskForce")
    memberships: dict = {}
    for task_force in TaskForce.objects.order_by("pk").prefetch_related("organizations"):
        for organization in task_force.organizations.all():
            memberships.setdefault(organization.pk, []).append(task_force.pk)
    pairs = Referral.objects.values_list(
        "sender_organization_id", "receiving_organization_id"
    ).distinct()
    for sender, receiver in pairs:
        shared = [pk for pk in memberships.get(sender, []) if pk in memberships.get(receiver, [])]
        if shared:
            Referral.objects.filter(
                sender_organization_id=sender, receiving_organization_id=receiver
            ).update(task_force_id=shared[0])


class Migration(migrations.Migration):
    dependencies = [
        ("referral", "0009_referral_task_force"),
    ]

    operations = [
        migrations.RunPython(fill_task_force, migrations.RunPython.noop),
    ]
