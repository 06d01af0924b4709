from django.urls import path

from . import views

urlpatterns = [
    path("statements/", views.my_statements, name="my-statements"),
    path("statements/<int:pk>/", views.statement, name="statement"),
    path("statements/<int:pk>.csv", views.statement_csv, name="statement-csv"),
    path("budget/<int:cycle_id>/", views.budget, name="budget"),
]
