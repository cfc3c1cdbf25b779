"""billing's statement pages: a customer's statement on screen, as a PDF and by e-mail,
and the PDF of a statement already issued (included by billing.urls). Each page is the
admin's (admin.site.admin_view: signed-in staff, never cached, CSRF-checked)."""

from django.contrib import admin
from django.urls import URLPattern, path

from billing import statement_views

urlpatterns: list[URLPattern] = [
    path(
        "admin/billing/customers/<int:pk>/statement/",
        admin.site.admin_view(statement_views.customer_statement),
        name="customer_statement",
    ),
    path(
        "admin/billing/customers/<int:pk>/statement.pdf",
        admin.site.admin_view(statement_views.customer_statement_pdf),
        name="customer_statement_pdf",
    ),
    path(
        "admin/billing/statements/<int:pk>/statement.pdf",
        admin.site.admin_view(statement_views.issued_statement_pdf),
        name="issued_statement_pdf",
    ),
]
