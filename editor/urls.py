from django.urls import path

from editor import views, views_capture, views_lessons, views_sharing

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("designs/new", views.new_design, name="new-design"),
    path("designs/import", views.import_design, name="import-design"),
    path("designs/<int:design_id>/", views.design_detail, name="design"),
    path("designs/<int:design_id>/lesson/", views_lessons.lesson, name="lesson"),
    path("designs/<int:design_id>/capture.pcap", views_capture.capture_pcap, name="capture-pcap"),
    path("lessons/tutorial", views_lessons.start_tutorial, name="start-tutorial-lesson"),
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
    path("designs/<int:design_id>/sharing", views_sharing.sharing, name="sharing"),
    path("designs/<int:design_id>/fork", views_sharing.fork_design, name="fork-design"),
    path("designs/<int:design_id>/history", views_sharing.history, name="history"),
    path(
        "designs/<int:design_id>/revisions/<int:number>/restore",
        views_sharing.restore_revision,
        name="restore-revision",
    ),
    path("gallery/", views_sharing.gallery, name="gallery"),
    path("shared/<str:token>/", views_sharing.shared_design, name="shared"),
    path("shared/<str:token>/fork", views_sharing.fork_shared_design, name="fork-shared"),
    path("examples/<slug:slug>/", views.example_detail, name="example"),
    path("examples/<slug:slug>/copy", views.copy_example, name="copy-example"),
]
