from __future__ import annotations

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    """Page numbers with a client-chosen ``page_size`` (at most 100).

    A page that is not a positive whole number is a 400 naming ``page``; a page past the
    end is an empty 404, as DRF does."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 100

    def paginate_queryset(self, queryset, request, view=None):
        for name in (self.page_query_param, self.page_size_query_param):
            raw = request.query_params.get(name)
            if raw is not None and (not raw.isdigit() or int(raw) < 1):
                raise ValidationError({name: ["Must be a whole number of 1 or more."]})
        size = request.query_params.get(self.page_size_query_param)
        if size is not None and int(size) > self.max_page_size:
            raise ValidationError({self.page_size_query_param: [f"At most {self.max_page_size}."]})
        return super().paginate_queryset(queryset, request, view)
