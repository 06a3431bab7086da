from django.urls import path

from editor import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("designs/new", views.new_design, name="new-design"),
    path("designs/import", views.import_design, name="import-design"),
    path("designs/<int:design_id>/", views.design_detail, name="design"),
    path("designs/<int:design_id>/save", views.save_design, name="save-design"),
    path("designs/<int:design_id>/delete", views.delete_design, name="delete-design"),
    path(
        "designs/<int:design_id>/revisions/<int:number>/",
        views.revision_detail,
        name="revision",
    ),
    path(
        "designs/<int:design_id>/export.<str:text_format>",
        views.export_design,
        name="export-design",
    ),
    path("examples/<slug:slug>/", views.example_detail, name="example"),
    path("examples/<slug:slug>/copy", views.copy_example, name="copy-example"),
]
