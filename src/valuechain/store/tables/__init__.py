"""Tables, one module per capability (map, measure, agree, request, partner, connect,
tell, trust) on one :class:`Base`. Every row carries ``org_id`` so one deployment holds
many organisations and tables can later be distributed (sharded) by it.

Every table is re-exported here: ``from valuechain.store.tables import UnitRow`` and
``Base.metadata`` (Alembic's target) see them all."""

from __future__ import annotations

from valuechain.store.tables.agree import (
    AGREEMENT_STATES,
    NEGOTIATION_STATES,
    AgreementRow,
    CalendarRow,
    CapacityShareRow,
    CommitmentRow,
    NegotiationRow,
)
from valuechain.store.tables.base import NAMING, SQLITE_CLUSTERED, Base
from valuechain.store.tables.connect import OutcomeRow
from valuechain.store.tables.map import (
    RELATIONS,
    RESULT_KINDS,
    ROLES,
    UNIT_KINDS,
    LinkRow,
    OrganisationRow,
    PersonRow,
    ResultRow,
    UnitRow,
)
from valuechain.store.tables.measure import (
    CAMPAIGN_STATES,
    AnswerRow,
    CampaignGroupRow,
    CampaignRow,
    CommentRow,
    ImportanceRow,
    InstrumentItemRow,
    InstrumentRow,
    InvitationRow,
    InvitationTokenRow,
    MeasureBlockRow,
    MeasureCellRow,
    MeasureOpenCampaignRow,
    ResponseRow,
    SealedResponseRow,
)
from valuechain.store.tables.partner import (
    ACTION_STATUSES,
    ALIGNMENTS,
    SIDES,
    WORKSPACE_KINDS,
    ActionRow,
    WorkspaceEntryRow,
)
from valuechain.store.tables.request import (
    REQUEST_STATES,
    RequestCommentRow,
    RequestEventRow,
    RequestRow,
)
from valuechain.store.tables.tell import (
    CHANNELS,
    OUTBOX_STATUSES,
    NotificationOutboxRow,
    NotificationPreferenceRow,
    NotificationWebhookRow,
)
from valuechain.store.tables.trust import (
    ACCOUNT_ROLES,
    AccountRow,
    AuditEventRow,
    IdempotencyKeyRow,
    SessionRow,
    SignInFailureRow,
)

__all__ = [
    "ACCOUNT_ROLES",
    "ACTION_STATUSES",
    "AGREEMENT_STATES",
    "ALIGNMENTS",
    "CAMPAIGN_STATES",
    "CHANNELS",
    "NAMING",
    "NEGOTIATION_STATES",
    "OUTBOX_STATUSES",
    "RELATIONS",
    "REQUEST_STATES",
    "RESULT_KINDS",
    "ROLES",
    "SIDES",
    "SQLITE_CLUSTERED",
    "UNIT_KINDS",
    "WORKSPACE_KINDS",
    "AccountRow",
    "ActionRow",
    "AgreementRow",
    "AnswerRow",
    "AuditEventRow",
    "Base",
    "CalendarRow",
    "CampaignGroupRow",
    "CampaignRow",
    "CapacityShareRow",
    "CommentRow",
    "CommitmentRow",
    "IdempotencyKeyRow",
    "ImportanceRow",
    "InstrumentItemRow",
    "InstrumentRow",
    "InvitationRow",
    "InvitationTokenRow",
    "LinkRow",
    "MeasureBlockRow",
    "MeasureCellRow",
    "MeasureOpenCampaignRow",
    "NegotiationRow",
    "NotificationOutboxRow",
    "NotificationPreferenceRow",
    "NotificationWebhookRow",
    "OrganisationRow",
    "OutcomeRow",
    "PersonRow",
    "RequestCommentRow",
    "RequestEventRow",
    "RequestRow",
    "ResponseRow",
    "ResultRow",
    "SealedResponseRow",
    "SessionRow",
    "SignInFailureRow",
    "UnitRow",
    "WorkspaceEntryRow",
]
