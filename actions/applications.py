"""The one workflow of every application kind (F3, F10, F15): a table of transitions.

    submitted 待受理 --accept--> accepted 受理中 --approve--> approved 通过
                                         |--reject---> rejected 不通过
                                         `--return---> returned 待补充资料 --supplement--> accepted
    submitted --withdraw--> withdrawn 已撤回

A kind (project add, good-info declaration, ...) is registered with `register_kind`: its label,
who may submit it, its validation and its effect on approval. Every transition is one
transaction that moves the status with a conditional UPDATE on (id, status), so a stale page,
a double click or two officers at once find the row moved and change nothing; it writes the
trail event, the audit entry and the template messages to the applicant and the leader.
"""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from typing import Any, cast

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from core.uploads import StoredUpload
from models.applications import (
    Application,
    ApplicationEvent,
    ApplicationStatus,
    Attachment,
    AttachmentPurpose,
)
from models.officers import Officer, OfficerRole
from models.people import Person, PersonStatus, Role
from models.projects import Project
from settings import Settings

from .audit import Actor, record_audit
from .clock import now
from .errors import ActionError
from .outbox import enqueue_template_to_people

S = ApplicationStatus
CHINA_TIME = timezone(timedelta(hours=8))
# Modules that register kinds; imported on first use so that every kind is known wherever the
# engine is used. A new kind's module is added here.
KIND_MODULES: tuple[str, ...] = ("actions.projects",)


class Transition(StrEnum):
    SUBMIT = "submit"
    ACCEPT = "accept"
    APPROVE = "approve"
    REJECT = "reject"
    RETURN = "return"
    SUPPLEMENT = "supplement"
    WITHDRAW = "withdraw"

    @property
    def label(self) -> str:
        return {"submit": "提交", "accept": "受理", "approve": "审核通过", "reject": "审核不通过",
                "return": "退回补充资料", "supplement": "补充资料后重新提交",
                "withdraw": "撤回"}[self.value]


@dataclass(frozen=True)
class Rule:
    sources: frozenset[ApplicationStatus]
    target: ApplicationStatus
    by_officer: bool  # officers review; the enterprise withdraws and supplements
    needs_opinion: bool = False


TRANSITIONS: dict[Transition, Rule] = {
    Transition.ACCEPT: Rule(frozenset({S.SUBMITTED}), S.ACCEPTED, by_officer=True),
    Transition.APPROVE: Rule(frozenset({S.ACCEPTED}), S.APPROVED, by_officer=True),
    Transition.REJECT: Rule(frozenset({S.ACCEPTED}), S.REJECTED, by_officer=True,
                            needs_opinion=True),
    Transition.RETURN: Rule(frozenset({S.ACCEPTED}), S.RETURNED, by_officer=True,
                            needs_opinion=True),
    # A supplemented application goes back to the officer who already accepted it.
    Transition.SUPPLEMENT: Rule(frozenset({S.RETURNED}), S.ACCEPTED, by_officer=False),
    Transition.WITHDRAW: Rule(frozenset({S.SUBMITTED}), S.WITHDRAWN, by_officer=False),
}
REVIEW_TRANSITIONS = tuple(t for t, r in TRANSITIONS.items() if r.by_officer)


def allowed_transitions(status: ApplicationStatus, *, by_officer: bool) -> list[Transition]:
    return [t for t, r in TRANSITIONS.items() if status in r.sources and r.by_officer == by_officer]


@dataclass(frozen=True)
class Submission:
    """What the applicant sent, before the kind's validation."""

    applicant: Person
    fields: dict[str, Any]
    project_id: int | None = None


@dataclass(frozen=True)
class Draft:
    """A validated submission: the payload to keep and what lists and messages show."""

    payload: dict[str, Any]
    title: str
    district: str
    project: Project | None = None


Validator = Callable[[BaseDBAsyncClient, Submission], Awaitable[Draft]]
Effect = Callable[[BaseDBAsyncClient, Application, Actor], Awaitable[None]]


async def no_effect(conn: BaseDBAsyncClient, application: Application, actor: Actor) -> None:
    return None


@dataclass(frozen=True)
class ApplicationKind:
    key: str  # stored in Application.kind, e.g. "project_add"
    label: str  # 新增物业项目
    number_prefix: str  # two capital letters starting the 业务编号
    validate: Validator
    on_approve: Effect = no_effect
    submitter_roles: frozenset[Role] = field(
        default_factory=lambda: frozenset({Role.LEADER, Role.HANDLER}))
    reviewer_roles: tuple[OfficerRole, ...] = (OfficerRole.CITY,)
    resubmittable: bool = False  # 重新新增 from a rejected one
    # (label, value) rows of a payload for the detail pages; the raw keys when not given.
    describe: Callable[[dict[str, Any]], list[tuple[str, str]]] | None = None

    def rows(self, payload: dict[str, Any]) -> list[tuple[str, str]]:
        if self.describe is not None:
            return self.describe(payload)
        return [(key, str(value)) for key, value in payload.items()]


KINDS: dict[str, ApplicationKind] = {}


def register_kind(kind: ApplicationKind) -> ApplicationKind:
    KINDS[kind.key] = kind
    return kind


def _ensure_kinds() -> None:
    for module in KIND_MODULES:
        importlib.import_module(module)


def all_kinds() -> list[ApplicationKind]:
    _ensure_kinds()
    return list(KINDS.values())


def get_kind(key: str) -> ApplicationKind:
    _ensure_kinds()
    kind = KINDS.get(key)
    if kind is None:
        raise ActionError("unknown_kind", "没有这种申请类型。", 404)
    return kind


def person_actor(person: Person) -> Actor:
    return Actor("person", person.id, person.name, person.enterprise_id)  # type: ignore[attr-defined]


def officer_actor(officer: Officer) -> Actor:
    return Actor("officer", officer.id, officer.name)


def application_url(settings: Settings, application_id: int) -> str:
    return f"{settings.public_base_url}/h5/applications/{application_id}"


NOT_FOUND = ActionError("application_not_found", "申请不存在或您无权查看。", 404)


def enterprise_may_see(person: Person, application: Application) -> bool:
    """Leaders and handlers see their enterprise's applications; a manager their own."""
    return (person.is_active and application.enterprise_id == person.enterprise_id  # type: ignore[attr-defined]
            and (person.role != Role.MANAGER or application.applicant_id == person.id))


def officer_may_see(officer: Officer, application: Application) -> bool:
    return officer.role == OfficerRole.CITY or application.district == officer.district


# -- submitting ----------------------------------------------------------------------------------

async def do_submit_application(
    settings: Settings,
    applicant: Person,
    kind_key: str,
    fields: dict[str, Any],
    *,
    project_id: int | None = None,
    uploads: Sequence[tuple[StoredUpload, AttachmentPurpose]] = (),
    resubmitted_from_id: int | None = None,
) -> Application:
    """A new application (待受理) with its attachments; 重新新增 links it to the rejected one."""
    kind = get_kind(kind_key)
    if not applicant.is_active or applicant.role not in kind.submitter_roles:
        raise ActionError("not_allowed", f"您没有提交“{kind.label}”申请的权限。", 403)
    async with in_transaction() as conn:
        if resubmitted_from_id is not None:
            await _check_resubmission(conn, applicant, kind, resubmitted_from_id)
        draft = await kind.validate(conn, Submission(applicant, fields, project_id))
        at = now()
        application = await Application.create(
            kind=kind.key, number=uuid.uuid4().hex, status=S.SUBMITTED,
            enterprise_id=applicant.enterprise_id, applicant_id=applicant.id,  # type: ignore[attr-defined]
            project_id=draft.project.id if draft.project else None, title=draft.title[:200],
            district=draft.district, payload=draft.payload,
            resubmitted_from_id=resubmitted_from_id, submitted_at=at, updated_at=at,
            using_db=conn)
        # 业务编号: the kind's prefix, the day and the id, unique without a counter.
        application.number = f"{kind.number_prefix}{at.astimezone(CHINA_TIME):%Y%m%d}" \
                             f"{application.id:06d}"
        await Application.filter(id=application.id).using_db(conn).update(
            number=application.number)
        await _add_attachments(conn, application, applicant, uploads, at)
        actor = person_actor(applicant)
        await _record_step(conn, settings, application, kind, Transition.SUBMIT, None, actor,
                           opinion="", at=at)
        await record_audit(conn, actor, "application.submitted", "application", application.id,
                           new={"kind": kind.key, "number": application.number,
                                "payload": draft.payload,
                                "attachments": [u.stored_name for u, _ in uploads]})
    return application


async def _check_resubmission(conn: BaseDBAsyncClient, applicant: Person,
                              kind: ApplicationKind, source_id: int) -> None:
    source = await Application.filter(
        id=source_id, enterprise_id=applicant.enterprise_id).using_db(conn).first()  # type: ignore[attr-defined]
    if source is None:
        raise NOT_FOUND
    if not kind.resubmittable or source.kind != kind.key:
        raise ActionError("not_resubmittable", f"“{kind.label}”申请不能重新新增。", 409)
    if source.status != S.REJECTED:
        raise ActionError("not_resubmittable", "只有审核不通过的申请才能重新新增。", 409)
    if await Application.filter(resubmitted_from_id=source.id).using_db(conn).exists():
        raise ActionError("already_resubmitted", "该申请已经重新新增过，请查看新的申请。", 409)


async def _add_attachments(conn: BaseDBAsyncClient, application: Application, person: Person,
                           uploads: Sequence[tuple[StoredUpload, AttachmentPurpose]],
                           at: datetime) -> None:
    for upload, purpose in uploads:
        await Attachment.create(
            application_id=application.id, purpose=purpose, stored_name=upload.stored_name,
            display_name=upload.display_name, kind=upload.kind, mime=upload.mime,
            size=upload.size, sha256=upload.sha256, uploaded_by_id=person.id, created_at=at,
            using_db=conn)


# -- moving it on --------------------------------------------------------------------------------

async def do_review_application(
    settings: Settings,
    officer: Officer,
    application_id: int,
    transition: Transition,
    opinion: str = "",
) -> Application:
    """An officer accepts, approves, rejects or returns an application, with an opinion."""
    rule = TRANSITIONS[transition]
    if not rule.by_officer:
        raise ActionError("not_allowed", f"审核人员不能{transition.label}申请。", 403)

    def check(application: Application, kind: ApplicationKind) -> None:
        if not officer.active or not officer_may_see(officer, application):
            raise NOT_FOUND
        if officer.role not in kind.reviewer_roles:
            raise ActionError("not_allowed", f"“{kind.label}”申请由市经办人审核。", 403)

    return await _move(settings, application_id, transition, officer_actor(officer), check,
                       opinion=opinion)


async def do_withdraw_application(settings: Settings, person: Person,
                                  application_id: int) -> Application:
    """撤回: only while no officer has accepted it; a withdrawn one is void for good."""
    return await _move(settings, application_id, Transition.WITHDRAW, person_actor(person),
                       _enterprise_check(person))


async def do_supplement_application(
    settings: Settings,
    person: Person,
    application_id: int,
    fields: dict[str, Any] | None,
    *,
    note: str = "",
    uploads: Sequence[tuple[StoredUpload, AttachmentPurpose]] = (),
) -> Application:
    """补充资料: the returned application, edited (validated again) and with more files, goes
    back to review."""
    return await _move(settings, application_id, Transition.SUPPLEMENT, person_actor(person),
                       _enterprise_check(person), opinion=note, fields=fields,
                       uploads=uploads, uploader=person)


def _enterprise_check(person: Person) -> Callable[[Application, ApplicationKind], None]:
    def check(application: Application, kind: ApplicationKind) -> None:
        if not enterprise_may_see(person, application):
            raise NOT_FOUND
        if application.applicant_id != person.id and person.role == Role.MANAGER:
            raise ActionError("not_allowed", "只有申请人或企业负责人可以办理。", 403)

    return check


async def _move(
    settings: Settings,
    application_id: int,
    transition: Transition,
    actor: Actor,
    check: Callable[[Application, ApplicationKind], None],
    *,
    opinion: str = "",
    fields: dict[str, Any] | None = None,
    uploads: Sequence[tuple[StoredUpload, AttachmentPurpose]] = (),
    uploader: Person | None = None,
) -> Application:
    rule = TRANSITIONS[transition]
    opinion = opinion.strip()
    if rule.needs_opinion and not opinion:
        raise ActionError("opinion_required", f"{transition.label}时请填写审核意见。")
    if len(opinion) > 1000:
        raise ActionError("opinion_too_long", "意见不能超过 1000 字。")
    async with in_transaction() as conn:
        application = await Application.filter(id=application_id).using_db(conn).first()
        if application is None:
            raise NOT_FOUND
        kind = get_kind(application.kind)
        check(application, kind)
        before = application.status
        if before not in rule.sources:
            raise _not_allowed(before, transition)
        at = now()
        changes: dict[str, Any] = {"status": rule.target, "updated_at": at}
        if rule.by_officer:
            changes["last_opinion"] = opinion
        if rule.target in (S.APPROVED, S.REJECTED):
            changes["decided_at"] = at
        if fields is not None and uploader is not None:
            draft = await kind.validate(
                conn, Submission(uploader, fields, application.project_id))
            changes.update(payload=draft.payload, title=draft.title[:200],
                           district=draft.district)
        # The status in the WHERE clause makes the move happen once: a second, concurrent
        # move of the same application finds no row in `before` and is refused.
        moved = await Application.filter(id=application.id, status=before).using_db(
            conn).update(**changes)
        if moved != 1:
            current = await Application.filter(id=application.id).using_db(conn).get()
            raise _not_allowed(current.status, transition)
        for name, value in changes.items():
            setattr(application, name, value)
        if uploader is not None:
            await _add_attachments(conn, application, uploader, uploads, at)
        if transition == Transition.APPROVE:
            await kind.on_approve(conn, application, actor)
        await _record_step(conn, settings, application, kind, transition, before, actor,
                           opinion=opinion, at=at)
        await record_audit(conn, actor, f"application.{transition.value}", "application",
                           application.id, old={"status": before.value},
                           new={"status": rule.target.value, "opinion": opinion,
                                **({"payload": changes["payload"]} if "payload" in changes
                                   else {})},
                           enterprise_id=application.enterprise_id)
    return application


def _not_allowed(status: ApplicationStatus, transition: Transition) -> ActionError:
    return ActionError("transition_not_allowed",
                       f"该申请当前状态为“{status.label}”，不能{transition.label}。"
                       "页面可能已过期，请刷新后查看。", 409)


async def _record_step(conn: BaseDBAsyncClient, settings: Settings, application: Application,
                       kind: ApplicationKind, transition: Transition,
                       before: ApplicationStatus | None, actor: Actor, *, opinion: str,
                       at: datetime) -> None:
    """The trail row and the status message to the applicant and the enterprise leader(s)."""
    await ApplicationEvent.create(
        application_id=application.id, transition=transition.value, from_status=before,
        to_status=application.status, opinion=opinion, actor_type=actor.kind,
        actor_id=actor.id, actor_name=actor.name, created_at=at, using_db=conn)
    leaders = cast(list[int], await Person.filter(
        enterprise_id=application.enterprise_id, role=Role.LEADER,
        status=PersonStatus.ACTIVE).using_db(conn).values_list("id", flat=True))
    # dict.fromkeys: one message when the applicant is the leader.
    recipients: list[int] = list(dict.fromkeys([application.applicant_id, *leaders]))
    await enqueue_template_to_people(
        conn, recipients, template_key="APPLICATION_STATUS",
        values={"thing1": kind.label, "character_string2": application.number,
                "phrase3": application.status.label, "time4": at.astimezone(CHINA_TIME),
                "thing5": opinion or _status_hint(application.status)},
        url=application_url(settings, application.id), subject=("application", application.id))


def _status_hint(status: ApplicationStatus) -> str:
    return {S.SUBMITTED: "已提交，等待受理", S.ACCEPTED: "已受理，正在审核",
            S.APPROVED: "审核通过，已生效", S.REJECTED: "审核不通过",
            S.RETURNED: "请补充资料后重新提交", S.WITHDRAWN: "申请已撤回"}[status]
