from coordination.api import board, conferences, flows, metrics

urlpatterns = [
    *board.urlpatterns,
    *conferences.urlpatterns,
    *flows.urlpatterns,
    *metrics.urlpatterns,
]
