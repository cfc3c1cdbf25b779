from django.contrib import admin
from django.urls import path

from reporting import views

app_name = "reports"
wrap = admin.site.admin_view

urlpatterns = [
    path("", wrap(views.report_index), name="index"),
    path("jobs/<int:pk>/download/", wrap(views.job_download), name="job-download"),
    path("<slug:slug>/", wrap(views.report_view), name="report"),
]
