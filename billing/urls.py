"""billing's pages: the public document check and the admin's PDF downloads."""

from django.urls import include, path

from billing import views

app_name = "billing"

urlpatterns = [
    path("", include("billing.statement_urls")),
    path("verify/<str:number>/<str:code>/", views.verify, name="verify"),
    path(
        "admin/billing/sales/<int:pk>/invoice.pdf", views.sale_invoice_pdf, name="sale_invoice_pdf"
    ),
    path(
        "admin/billing/sales/<int:pk>/thermal.pdf", views.sale_thermal_pdf, name="sale_thermal_pdf"
    ),
    path(
        "admin/billing/payments/<int:pk>/receipt.pdf",
        views.payment_receipt_pdf,
        name="payment_receipt_pdf",
    ),
    path(
        "admin/billing/payments/<int:pk>/thermal.pdf",
        views.payment_thermal_pdf,
        name="payment_thermal_pdf",
    ),
    path(
        "admin/billing/credit-notes/<int:pk>/credit-note.pdf",
        views.credit_note_pdf_view,
        name="credit_note_pdf",
    ),
    path(
        "admin/billing/credit-notes/<int:pk>/thermal.pdf",
        views.credit_note_thermal_pdf,
        name="credit_note_thermal_pdf",
    ),
    path(
        "admin/billing/returns/<int:pk>/return.pdf",
        views.cylinder_return_pdf_view,
        name="cylinder_return_pdf",
    ),
    path("admin/billing/sales/<int:pk>/resend/", views.sale_resend, name="sale_resend"),
    path("admin/billing/payments/<int:pk>/resend/", views.payment_resend, name="payment_resend"),
    path(
        "admin/billing/credit-notes/<int:pk>/resend/",
        views.credit_note_resend,
        name="credit_note_resend",
    ),
    path(
        "admin/billing/returns/<int:pk>/resend/",
        views.cylinder_return_resend,
        name="cylinder_return_resend",
    ),
]
