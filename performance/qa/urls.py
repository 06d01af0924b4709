from django.urls import path

from . import views

urlpatterns = [
    path("qa/", views.qa_queue, name="qa-queue"),
    path("qa/dashboard/", views.qa_dashboard, name="qa-dashboard"),
    path("qa/inspections/<int:pk>/dispute/", views.inspection_dispute, name="inspection-dispute"),
]
