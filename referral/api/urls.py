from referral.api import consents, contacts, emergency, people, referrals

urlpatterns = [
    *people.urlpatterns,
    *emergency.urlpatterns,
    *consents.urlpatterns,
    *contacts.urlpatterns,
    *referrals.urlpatterns,
]
