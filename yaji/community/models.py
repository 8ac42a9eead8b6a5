from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class WorkKind(models.TextChoices):
    AUDIO = "audio", _("音频")
    VIDEO = "video", _("视频")
    IMAGE = "image", _("图片")
    DESIGN = "design", _("设计稿")


class WorkStatus(models.TextChoices):
    PUBLISHED = "published", _("已发布")
    HIDDEN = "hidden", _("已隐藏")


class Work(models.Model):
    """A creator's published piece: a song, an aria, an image, a design."""

    creator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="works"
    )
    kind = models.CharField(_("类型"), max_length=10, choices=WorkKind.choices)
    title = models.CharField(_("标题"), max_length=120)
    description = models.TextField(_("简介 / 歌词"), blank=True, default="")
    tags = models.JSONField(_("标签"), default=list, blank=True)
    media = models.FileField(_("作品文件"), upload_to="works/media/%Y/%m/", max_length=200)
    # Read from the file on the server, never from the client.
    media_format = models.CharField(_("文件格式"), max_length=10)
    media_size = models.PositiveBigIntegerField(_("文件大小"))
    duration_ms = models.PositiveIntegerField(_("时长（毫秒）"), default=0)
    cover = models.FileField(
        _("封面"), upload_to="works/covers/%Y/%m/", max_length=200, blank=True, default=""
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=WorkStatus.choices, default=WorkStatus.PUBLISHED
    )
    published_at = models.DateTimeField(_("发布时间"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("作品")
        verbose_name_plural = _("作品")
        indexes = [
            models.Index(fields=["creator", "-published_at"], name="work_creator_pub_idx"),
            models.Index(fields=["status", "-published_at"], name="work_status_pub_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def playable(self) -> bool:
        return self.kind == WorkKind.AUDIO and self.duration_ms > 0


class PlaySession(models.Model):
    """One verified play of a work by a user: a token, its heartbeats and what they proved."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="play_sessions"
    )
    work = models.ForeignKey(Work, on_delete=models.CASCADE, related_name="play_sessions")
    token_hash = models.CharField(max_length=64, unique=True)  # sha256 of the raw token
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    last_heartbeat_at = models.DateTimeField()
    last_position_ms = models.PositiveIntegerField(default=0)
    max_position_ms = models.PositiveIntegerField(default=0)
    listened_ms = models.PositiveIntegerField(default=0)  # length of the coverage
    coverage = models.JSONField(default=list)  # merged [start, end) intervals, ms
    heartbeats = models.PositiveIntegerField(default=0)
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("播放记录")
        verbose_name_plural = _("播放记录")
        indexes = [
            models.Index(fields=["user", "work", "completed_at"], name="play_user_work_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("issued_at")),
                name="play_expires_after_issue",
            ),
        ]

    def __str__(self) -> str:
        return f"play {self.pk} of work {self.work_id}"


# --- the social graph and posts ------------------------------------------------------------------


class Visibility(models.TextChoices):
    """What moderation decided about a post or comment (``moderation_screen``'s statuses)."""

    VISIBLE = "visible", _("可见")
    HELD = "held", _("审核中")
    BLOCKED = "blocked", _("未通过审核")


class Follow(models.Model):
    follower = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="following_edges"
    )
    followee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follower_edges"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("关注")
        verbose_name_plural = _("关注")
        constraints = [
            models.UniqueConstraint(fields=["follower", "followee"], name="follow_once"),
            models.CheckConstraint(
                condition=~models.Q(follower=models.F("followee")), name="follow_not_self"
            ),
        ]
        indexes = [models.Index(fields=["followee", "-id"], name="follow_followee_idx")]

    def __str__(self) -> str:
        return f"{self.follower_id} → {self.followee_id}"


class Topic(models.Model):
    """A #话题: posts gather under it; a description says what it is about."""

    name = models.CharField(_("话题"), max_length=30, unique=True)
    slug = models.SlugField(_("网址标识"), max_length=60, unique=True, allow_unicode=True)
    description = models.TextField(_("简介"), blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("话题")
        verbose_name_plural = _("话题")

    def __str__(self) -> str:
        return f"#{self.name}"


class Post(models.Model):
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="posts"
    )
    text = models.TextField(_("内容"), blank=True, default="")
    video = models.FileField(
        _("视频"), upload_to="posts/videos/%Y/%m/", max_length=200, blank=True, default=""
    )
    video_format = models.CharField(max_length=10, blank=True, default="")
    status = models.CharField(
        _("审核状态"), max_length=10, choices=Visibility.choices, default=Visibility.VISIBLE
    )
    topics = models.ManyToManyField(Topic, blank=True, related_name="posts")
    works = models.ManyToManyField(Work, blank=True, related_name="posts")
    products = models.ManyToManyField("catalog.Product", blank=True, related_name="+")
    # Counters move with their rows in one transaction (F() updates), so they equal the rows.
    like_count = models.PositiveIntegerField(default=0)
    favourite_count = models.PositiveIntegerField(default=0)
    comment_count = models.PositiveIntegerField(default=0)  # visible, not deleted comments
    share_count = models.PositiveIntegerField(default=0)
    deleted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("动态")
        verbose_name_plural = _("动态")
        indexes = [
            models.Index(fields=["author", "-id"], name="post_author_idx"),
            models.Index(fields=["status", "-id"], name="post_status_idx"),
        ]

    def __str__(self) -> str:
        return f"post {self.pk}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class PostImage(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="images")
    image = models.FileField(upload_to="posts/images/%Y/%m/", max_length=200)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.image.name


class Comment(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comments"
    )
    # A reply points at the comment it answers; ``root`` is the top-level comment of the thread.
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies"
    )
    root = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="thread"
    )
    text = models.TextField(_("评论"))
    status = models.CharField(
        _("审核状态"), max_length=10, choices=Visibility.choices, default=Visibility.VISIBLE
    )
    deleted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("评论")
        verbose_name_plural = _("评论")
        indexes = [models.Index(fields=["post", "root", "id"], name="comment_post_idx")]

    def __str__(self) -> str:
        return f"comment {self.pk} on post {self.post_id}"


class Like(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="likes")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "post"], name="like_once")]

    def __str__(self) -> str:
        return f"{self.user_id} ♥ {self.post_id}"


class Favourite(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="favourites")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "post"], name="favourite_once")]
        indexes = [models.Index(fields=["user", "-id"], name="favourite_user_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} ☆ {self.post_id}"


class Share(models.Model):
    """A share link of a post; its code attributes later purchases to the sharer."""

    code = models.CharField(max_length=16, unique=True)
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="shares")
    sharer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=20, blank=True, default="")
    opened_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.code


class NotificationKind(models.TextChoices):
    LIKE = "like", _("点赞")
    COMMENT = "comment", _("评论")
    REPLY = "reply", _("回复")
    FOLLOW = "follow", _("关注")
    MENTION = "mention", _("提及")
    SYSTEM = "system", _("系统通知")


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    kind = models.CharField(max_length=10, choices=NotificationKind.choices)
    post = models.ForeignKey(Post, on_delete=models.CASCADE, null=True, blank=True)
    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, null=True, blank=True)
    text = models.CharField(max_length=500, blank=True, default="")  # system notices
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        indexes = [
            models.Index(fields=["recipient", "-id"], name="notification_inbox_idx"),
            models.Index(
                fields=["recipient"],
                condition=models.Q(read_at__isnull=True),
                name="notification_unread_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.recipient_id}"


# --- challenges, design contests, engagement -----------------------------------------------------


class Challenge(models.Model):
    """A topic with a deadline, rules and prizes: its entries are the topic's posts made while
    it runs, ranked on a leaderboard by engagement (see ``challenges.ENTRY_SCORE``)."""

    topic = models.OneToOneField(Topic, on_delete=models.CASCADE, related_name="challenge")
    title = models.CharField(_("挑战名称"), max_length=80)
    rules = models.TextField(_("规则"), blank=True, default="")
    prizes = models.TextField(_("奖品"), blank=True, default="")
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("截止时间"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("挑战")
        verbose_name_plural = _("挑战")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="challenge_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return self.title


class Contest(models.Model):
    """A design contest: a brief, a submission window, then a voting window, then results."""

    slug = models.SlugField(_("网址标识"), max_length=60, unique=True)
    title = models.CharField(_("大赛名称"), max_length=80)
    brief = models.TextField(_("设计要求"))
    prizes = models.TextField(_("奖品"), blank=True, default="")
    submissions_open_at = models.DateTimeField(_("投稿开始"))
    submissions_close_at = models.DateTimeField(_("投稿截止"))
    voting_open_at = models.DateTimeField(_("投票开始"))
    voting_close_at = models.DateTimeField(_("投票截止"))
    results_published_at = models.DateTimeField(_("结果公布时间"), null=True, blank=True)
    winner = models.ForeignKey(
        "ContestSubmission", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The product the winning design became (a catalog listing, linked after the results).
    product = models.ForeignKey(
        "catalog.Product", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("设计大赛")
        verbose_name_plural = _("设计大赛")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(submissions_close_at__gt=models.F("submissions_open_at"))
                & models.Q(voting_open_at__gte=models.F("submissions_close_at"))
                & models.Q(voting_close_at__gt=models.F("voting_open_at")),
                name="contest_windows_in_order",
            )
        ]

    def __str__(self) -> str:
        return self.title


class ContestSubmission(models.Model):
    """One design entered into a contest (one per author per contest), screened like a post."""

    contest = models.ForeignKey(Contest, on_delete=models.CASCADE, related_name="submissions")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contest_submissions"
    )
    title = models.CharField(_("作品名称"), max_length=80)
    description = models.TextField(_("设计说明"), blank=True, default="")
    image = models.FileField(upload_to="contests/designs/%Y/%m/", max_length=200)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    status = models.CharField(
        _("审核状态"), max_length=10, choices=Visibility.choices, default=Visibility.VISIBLE
    )
    # Counted when the results are published: votes not flagged as suspicious.
    final_votes = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("参赛作品")
        verbose_name_plural = _("参赛作品")
        constraints = [
            models.UniqueConstraint(fields=["contest", "author"], name="contest_submit_once")
        ]

    def __str__(self) -> str:
        return self.title


class ContestVote(models.Model):
    """One vote per account per contest — the database refuses a second one."""

    contest = models.ForeignKey(Contest, on_delete=models.CASCADE, related_name="votes")
    submission = models.ForeignKey(
        ContestSubmission, on_delete=models.CASCADE, related_name="votes"
    )
    voter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    device = models.CharField(max_length=64, blank=True, default="")  # fingerprint of this vote
    known_devices = models.JSONField(default=list)  # the voter's signed-in devices' fingerprints
    ip = models.GenericIPAddressField(null=True, blank=True)
    ip_cluster = models.CharField(max_length=64, blank=True, default="")  # /24 or /64
    flagged = models.BooleanField(default=False)
    flag_reason = models.CharField(max_length=40, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("投票")
        verbose_name_plural = _("投票")
        constraints = [
            models.UniqueConstraint(fields=["contest", "voter"], name="contest_vote_once")
        ]
        indexes = [models.Index(fields=["submission", "flagged"], name="contest_vote_sub_idx")]

    def __str__(self) -> str:
        return f"{self.voter_id} → {self.submission_id}"


class CheckIn(models.Model):
    """One daily check-in; ``day`` is the calendar day in China (Asia/Shanghai)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    streak = models.PositiveIntegerField()  # consecutive days ending with this one
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("签到")
        verbose_name_plural = _("签到")
        constraints = [
            models.UniqueConstraint(fields=["user", "day"], name="checkin_once_a_day"),
            models.CheckConstraint(condition=models.Q(streak__gte=1), name="checkin_streak_pos"),
        ]
        indexes = [models.Index(fields=["day"], name="checkin_day_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.day}"


class BadgeAward(models.Model):
    """A badge someone earned (codes in ``engagement.BADGES``); each at most once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    code = models.CharField(max_length=30)
    awarded_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("徽章")
        verbose_name_plural = _("徽章")
        constraints = [models.UniqueConstraint(fields=["user", "code"], name="badge_once")]

    def __str__(self) -> str:
        return f"{self.code} → {self.user_id}"
