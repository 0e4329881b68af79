"""Jobs API routes (mounted under /api)."""

from __future__ import annotations

from django.urls import path

from jobs.api import views

urlpatterns = [
    path("jobs", views.JobsView.as_view(), name="jobs"),
    path("jobs/v2", views.JobsV2View.as_view(), name="jobs-v2"),
    path("jobs/v2/<str:job_id>", views.JobV2View.as_view(), name="job-v2"),
    path("jobs/counts", views.JobCountsView.as_view(), name="job-counts"),
    path("jobs/<str:job_id>", views.JobView.as_view(), name="job"),
    path("tasks", views.TasksView.as_view(), name="tasks"),
    path("tasks/<int:task_id>", views.TaskView.as_view(), name="task"),
    path("jobs/<str:job_id>/cancel", views.JobCancelView.as_view(), name="job-cancel"),
]
