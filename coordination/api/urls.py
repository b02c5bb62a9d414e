from coordination.api import board, conferences, flows

urlpatterns = [*board.urlpatterns, *conferences.urlpatterns, *flows.urlpatterns]
