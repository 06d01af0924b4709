from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("me/", views.my_results, name="my-results"),
    path("appraisals/<int:pk>/", views.appraisal_detail, name="appraisal-detail"),
    path("appraisals/<int:pk>/appeal/", views.appeal_create, name="appeal-create"),
    path("team/", views.team, name="team"),
    path("team/<int:cycle_id>/rate/<int:staff_id>/", views.kci_form, name="kci-form"),
    path("hr/", views.hr_dashboard, name="hr-dashboard"),
    path("qa/", views.qa_queue, name="qa-queue"),
    path("qa/dashboard/", views.qa_dashboard, name="qa-dashboard"),
    path("qa/inspections/<int:pk>/dispute/", views.inspection_dispute, name="inspection-dispute"),
]
