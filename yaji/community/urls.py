from django.urls import path

from yaji.community import views

app_name = "community"

urlpatterns = [
    path("works/new/", views.work_new, name="work_new"),
    path("works/<int:work_id>/", views.work_play, name="work_play"),
    # the social side
    path("feed/", views.feed, name="feed"),
    path("posts/new/", views.post_new, name="post_new"),
    path("posts/<int:post_id>/", views.post_detail, name="post_detail"),
    path("posts/<int:post_id>/comments/", views.comment_add, name="comment_add"),
    path("posts/<int:post_id>/share/", views.post_share, name="post_share"),
    path("posts/<int:post_id>/delete/", views.post_remove, name="post_remove"),
    path(
        "posts/<int:post_id>/<str:reaction>/",
        views.post_react,
        name="post_react",
    ),
    path("comments/<int:comment_id>/delete/", views.comment_remove, name="comment_remove"),
    path("s/<str:code>/", views.share_open, name="share_open"),
    path("people/<int:user_id>/", views.person_detail, name="person_detail"),
    path("people/<int:user_id>/follow/", views.person_follow, name="person_follow"),
    path("topics/", views.topic_list, name="topic_list"),
    path("topics/<str:slug>/", views.topic_detail, name="topic_detail"),
    path("challenges/<str:slug>/", views.challenge_detail, name="challenge_detail"),
    path("contests/", views.contest_list, name="contest_list"),
    path("contests/<slug:slug>/", views.contest_detail, name="contest_detail"),
    path("contests/<slug:slug>/submit/", views.contest_submit, name="contest_submit"),
    path(
        "contests/<slug:slug>/vote/<int:submission_id>/",
        views.contest_vote,
        name="contest_vote",
    ),
    path("checkin/", views.checkin, name="checkin"),
    path("leaderboard/", views.leaderboard_weekly, name="leaderboard"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read/", views.notifications_read, name="notifications_read"),
]
