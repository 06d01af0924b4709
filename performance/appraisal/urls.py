from django.urls import path

from . import views

urlpatterns = [
    path("me/", views.my_results, name="my-results"),
    path("appraisals/<int:pk>/", views.appraisal_detail, name="appraisal-detail"),
    path("appraisals/<int:pk>/appeal/", views.appeal_create, name="appeal-create"),
    path("team/", views.team, name="team"),
    path("team/<int:cycle_id>/rate/<int:staff_id>/", views.kci_form, name="kci-form"),
    path("hr/", views.hr_dashboard, name="hr-dashboard"),
]
