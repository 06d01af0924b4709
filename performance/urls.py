from django.urls import include, path

urlpatterns = [
    path("", include("performance.appraisal.urls")),
    path("", include("performance.qa.urls")),
]
