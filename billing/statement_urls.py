"""billing's statement pages: a customer's statement on screen, as a PDF and by e-mail,
and the monthly statement runs (included by billing.urls)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
