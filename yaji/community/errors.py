"""Stable error codes of the community app (never rename one; add new ones)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from yaji.core.errors import ApplicationError, Conflict, NotFound, ValidationFailed


class InvalidMedia(ValidationFailed):
    code = "invalid_media"
    default_message = _(
        "作品文件无法识别，或与声称的格式不符。音频支持 MP3、OGG、M4A、WAV、FLAC，图片支持 JPEG、PNG、WebP。"
    )


class MediaTooLarge(ValidationFailed):
    code = "media_too_large"
    status = 413
    default_message = _("作品文件过大。")


class InvalidCover(ValidationFailed):
    code = "invalid_cover"
    default_message = _("封面只接受不超过 5 MB 的 JPEG、PNG 或 WebP 图片。")


class UnsupportedKind(ValidationFailed):
    code = "unsupported_work_kind"
    default_message = _("暂不支持该类型的作品。")


class InvalidWork(ValidationFailed):
    code = "invalid_work"
    default_message = _("作品信息无效。")


class WorkNotFound(NotFound):
    code = "work_not_found"
    default_message = _("找不到该作品。")


class WorkNotPlayable(Conflict):
    code = "work_not_playable"
    default_message = _("该作品没有可播放的音频。")


class PlayNotFound(NotFound):
    code = "play_not_found"
    default_message = _("播放凭证无效。")


class PlayExpired(ApplicationError):
    code = "play_expired"
    status = 410
    default_message = _("播放凭证已过期，请重新开始播放。")


# --- social ------------------------------------------------------------------------------------


class UserNotFound(NotFound):
    code = "user_not_found"
    default_message = _("找不到该用户。")


class CannotFollowSelf(ValidationFailed):
    code = "cannot_follow_self"
    default_message = _("不能关注自己。")


class InvalidPost(ValidationFailed):
    code = "invalid_post"
    default_message = _("动态内容无效。")


class InvalidPostImage(ValidationFailed):
    code = "invalid_post_image"
    default_message = _("图片无法识别：只接受不超过 10 MB 的 JPEG、PNG 或 WebP 图片。")


class InvalidPostVideo(ValidationFailed):
    code = "invalid_post_video"
    default_message = _("视频无法识别：只接受不超过 100 MB 的 MP4 或 WebM 视频。")


class UnknownTag(ValidationFailed):
    code = "unknown_tagged_item"
    default_message = _("标记的商品或作品不存在。")


class PostNotFound(NotFound):
    code = "post_not_found"
    default_message = _("找不到该动态，可能已被删除。")


class InvalidComment(ValidationFailed):
    code = "invalid_comment"
    default_message = _("评论须为 1 到 1000 个字。")


class CommentNotFound(NotFound):
    code = "comment_not_found"
    default_message = _("找不到该评论。")


class TopicNotFound(NotFound):
    code = "topic_not_found"
    default_message = _("找不到该话题。")


class InvalidTopic(ValidationFailed):
    code = "invalid_topic"
    default_message = _("话题名须为 1 到 30 个字，不含空格和 #。")


class ShareNotFound(NotFound):
    code = "share_not_found"
    default_message = _("分享链接无效。")


class InvalidCursor(ValidationFailed):
    code = "invalid_cursor"
    default_message = _("翻页参数无效。")


class NotificationNotFound(NotFound):
    code = "notification_not_found"
    default_message = _("找不到该通知。")


# --- challenges, contests, engagement --------------------------------------------------------


class ChallengeNotFound(NotFound):
    code = "challenge_not_found"
    default_message = _("找不到该挑战。")


class InvalidChallenge(ValidationFailed):
    code = "invalid_challenge"
    default_message = _("挑战信息无效：须有名称，截止时间须晚于开始时间。")


class ContestNotFound(NotFound):
    code = "contest_not_found"
    default_message = _("找不到该设计大赛。")


class InvalidContest(ValidationFailed):
    code = "invalid_contest"
    default_message = _("大赛信息无效：须有名称和设计要求，投稿期在投票期之前。")


class SubmissionWindowClosed(Conflict):
    code = "contest_submissions_closed"
    default_message = _("现在不在投稿期内。")


class AlreadySubmitted(Conflict):
    code = "contest_already_submitted"
    default_message = _("每人每场大赛只能投一份作品。")


class InvalidSubmission(ValidationFailed):
    code = "invalid_contest_submission"
    default_message = _("参赛作品须有名称（不超过 80 个字）和一张设计图。")


class SubmissionNotFound(NotFound):
    code = "contest_submission_not_found"
    default_message = _("找不到该参赛作品。")


class VotingWindowClosed(Conflict):
    code = "contest_voting_closed"
    default_message = _("现在不在投票期内。")


class AlreadyVoted(Conflict):
    code = "contest_already_voted"
    default_message = _("每个账号每场大赛只能投一票。")


class RealNameRequired(ApplicationError):
    code = "real_name_required"
    status = 403
    default_message = _("完成实名认证后才能投票。")


class MinorNightVoting(ApplicationError):
    code = "contest_minor_night"
    status = 403
    default_message = _("未成年人 22:00 至次日 06:00 不能投票，请明天再来。")


class CannotVoteOwn(ValidationFailed):
    code = "contest_cannot_vote_own"
    default_message = _("不能给自己的作品投票。")


class ResultsNotReady(Conflict):
    code = "contest_results_not_ready"
    default_message = _("投票尚未结束，不能公布结果。")


class ResultsAlreadyPublished(Conflict):
    code = "contest_results_published"
    default_message = _("结果已经公布。")


class NoWinner(Conflict):
    code = "contest_no_winner"
    default_message = _("大赛还没有获胜作品。")


class AlreadyCheckedIn(Conflict):
    code = "already_checked_in"
    default_message = _("今天已经签到过了。")
