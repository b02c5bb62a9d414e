from __future__ import annotations

from django.core.paginator import InvalidPage, Paginator
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination

from core.text import WHOLE_NUMBER_MAX, whole_number


class Pagination(PageNumberPagination):
    """Page numbers with a client-chosen ``page_size`` (at most 100).

    A page that is not a positive whole number in ASCII digits is a 400 naming ``page``
    (``str.isdigit`` would take '²', which ``int`` then refuses with a 500); a page past
    the end is a 404, as DRF does."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 100

    def paginate_queryset(self, queryset, request, view=None):
        self.check_parameters(request)
        return super().paginate_queryset(queryset, request, view)

    def check_parameters(self, request) -> None:
        for name in (self.page_query_param, self.page_size_query_param):
            raw = request.query_params.get(name)
            if raw is not None and whole_number(raw, minimum=1) is None:
                raise ValidationError({name: [_("Must be a whole number of 1 or more.")]})
        size = request.query_params.get(self.page_size_query_param)
        if size is not None and int(size) > self.max_page_size:
            raise ValidationError({self.page_size_query_param: [f"At most {self.max_page_size}."]})

    def paginate_search(self, search, request) -> list:
        """A page of a search that answers a page and its total in one step
        (``search.page(offset=, limit=) -> (items, total)``), with the same parameters,
        links and errors as ``paginate_queryset``."""
        self.check_parameters(request)
        size = self.get_page_size(request)
        number = int(request.query_params.get(self.page_query_param, 1))
        if (number - 1) * size > WHOLE_NUMBER_MAX:  # past any end; an OFFSET that large fails
            raise NotFound(self.invalid_page_message.format(page_number=number, message="Empty"))
        items, total = search.page(offset=(number - 1) * size, limit=size)
        try:
            # the page's numbers and links, from the total alone
            self.page = Paginator(range(total), size).page(number)
        except InvalidPage as exc:
            raise NotFound(
                self.invalid_page_message.format(page_number=number, message=exc)
            ) from None
        self.page.object_list = items
        self.request = request
        return items
