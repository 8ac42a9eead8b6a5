from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from ninja import Field, Schema


class ErrorOut(Schema):
    code: str
    message: str
    extra: dict[str, Any]


class WorkIn(Schema):
    title: str = Field(..., min_length=1, max_length=120)
    kind: str = Field(..., description="audio, image or design (video is not open yet)")
    description: str = Field("", max_length=10_000)
    tags: str = Field("", max_length=400, description="Comma-separated tags, at most 10")


class CreatorOut(Schema):
    id: int
    display_name: str


class WorkOut(Schema):
    id: int
    kind: str
    title: str
    description: str
    tags: list[str]
    media_url: str
    media_format: str
    media_size: int
    duration_ms: int
    cover_url: str | None
    creator: CreatorOut
    published_at: datetime


class PlayOut(Schema):
    token: str = Field(..., description="Send it back with every heartbeat; shown only once")
    session_id: int
    duration_ms: int
    expires_at: datetime
    heartbeat_interval_ms: int


class HeartbeatIn(Schema):
    token: str = Field(..., min_length=1, max_length=200)
    position_ms: int = Field(..., ge=0, le=2**31 - 1)


class HeartbeatOut(Schema):
    listened_ms: int
    coverage_pct: float
    completed: bool
    max_position_ms: int


# --- social ------------------------------------------------------------------------------------


class PersonOut(Schema):
    id: int
    display_name: str


class PersonCardOut(Schema):
    id: int
    display_name: str
    followers: int
    following: int
    is_following: bool = Field(..., description="Does the caller follow this person?")


class PersonPageOut(Schema):
    items: list[PersonOut]
    next_cursor: str | None


class FollowOut(Schema):
    following: bool
    changed: bool
    followers: int


class TopicOut(Schema):
    id: int
    name: str
    slug: str
    description: str


class TopicIn(Schema):
    name: str = Field(..., min_length=1, max_length=31)
    description: str = Field("", max_length=2_000)


class PostImageOut(Schema):
    url: str
    width: int
    height: int


class TaggedWorkOut(Schema):
    id: int
    title: str
    kind: str


class PostOut(Schema):
    id: int
    author: PersonOut
    text: str
    status: str = Field(..., description="visible, or held/blocked (shown only to the author)")
    images: list[PostImageOut]
    video_url: str | None
    topics: list[TopicOut]
    works: list[TaggedWorkOut]
    product_ids: list[int]
    like_count: int
    favourite_count: int
    comment_count: int
    share_count: int
    liked: bool
    favourited: bool
    created_at: datetime


class PostPageOut(Schema):
    items: list[PostOut]
    next_cursor: str | None


class TrendingPageOut(Schema):
    items: list[PostOut]
    page: int
    has_next: bool


class PostIn(Schema):
    text: str = Field("", max_length=2_000)
    topics: str = Field("", max_length=200, description="Comma-separated topic names")
    product_ids: str = Field("", max_length=250, pattern=r"^[0-9, ]*$")
    work_ids: str = Field("", max_length=250, pattern=r"^[0-9, ]*$")


class CommentIn(Schema):
    text: str = Field(..., min_length=1, max_length=1_000)
    parent_id: int | None = Field(None, ge=1, le=2**63 - 1)


class CommentOut(Schema):
    id: int
    post_id: int
    author: PersonOut
    parent_id: int | None
    root_id: int | None
    text: str
    status: str
    created_at: datetime


class CommentThreadOut(Schema):
    comment: CommentOut
    replies: list[CommentOut]


class CommentPageOut(Schema):
    threads: list[CommentThreadOut]
    next_cursor: str | None


class ReactionOut(Schema):
    active: bool
    changed: bool
    count: int


class ShareIn(Schema):
    channel: str = Field("", max_length=20)


class ShareOut(Schema):
    code: str
    post_id: int
    sharer_id: int
    url: str
    created_at: datetime


class NotificationOut(Schema):
    id: int
    kind: str
    actor: PersonOut | None
    post_id: int | None
    comment_id: int | None
    text: str
    read: bool
    created_at: datetime


class NotificationPageOut(Schema):
    items: list[NotificationOut]
    next_cursor: str | None
    unread: int


class UnreadOut(Schema):
    unread: int


class MarkReadIn(Schema):
    ids: list[Annotated[int, Field(ge=1, le=2**63 - 1)]] | None = Field(
        None, max_length=200, description="Omit to mark all read"
    )


class MarkedOut(Schema):
    marked: int
    unread: int


# --- challenges, contests, engagement --------------------------------------------------------


class LeaderboardRowOut(Schema):
    rank: int
    score: int
    post_id: int
    author_id: int


class ChallengeOut(Schema):
    topic: str
    slug: str
    title: str
    rules: str
    prizes: str
    starts_at: datetime
    ends_at: datetime
    state: str = Field(..., description="upcoming, running or ended")
    entry_count: int
    leaderboard: list[LeaderboardRowOut]


class SubmissionIn(Schema):
    title: str = Field(..., min_length=1, max_length=80)
    description: str = Field("", max_length=2000)


class SubmissionOut(Schema):
    id: int
    title: str
    description: str
    author_id: int
    image_url: str
    status: str
    final_votes: int | None = Field(None, description="counted votes, after the results")


class ContestOut(Schema):
    id: int
    slug: str
    title: str
    brief: str
    prizes: str
    submissions_open_at: datetime
    submissions_close_at: datetime
    voting_open_at: datetime
    voting_close_at: datetime
    phase: str = Field(
        ..., description="upcoming, submissions, between, voting, counting, published"
    )
    results_published_at: datetime | None
    winner_submission_id: int | None
    product_id: int | None
    submissions: list[SubmissionOut]


class VoteIn(Schema):
    submission_id: int = Field(..., ge=1, le=2**63 - 1)


class VoteOut(Schema):
    id: int
    submission_id: int
    flagged: bool


class CheckInOut(Schema):
    day: str
    streak: int
    new_badges: list[str]


class WeeklyRowOut(Schema):
    rank: int
    user_id: int
    display_name: str
    points: int
