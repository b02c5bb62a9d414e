"""The referral app's web pages: the contact page (offline-capable) and the referrals
inbox and outbox. Django templates, mobile-first; every read and write goes through the
same selectors and services as the API."""

from referral.web import contacts, notifications, offline, people, referrals

urlpatterns = [
    *contacts.urlpatterns,
    *offline.urlpatterns,
    *referrals.urlpatterns,
    *notifications.urlpatterns,
    *people.urlpatterns,
]
