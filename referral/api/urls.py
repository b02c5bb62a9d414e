from referral.api import consents, contacts, people, referrals

urlpatterns = [
    *people.urlpatterns,
    *consents.urlpatterns,
    *contacts.urlpatterns,
    *referrals.urlpatterns,
]
