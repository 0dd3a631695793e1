"""Connect: the external customers' outcomes."""

from __future__ import annotations

from sqlalchemy import Float, ForeignKeyConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from valuechain.store.tables.base import SQLITE_CLUSTERED, Base


class OutcomeRow(Base):
    """Capability 7, Connect: one metric of one external customer in one month."""

    __tablename__ = "outcomes"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "unit_id"],
            ["units.org_id", "units.id"],
            name="fk_outcomes_unit",
            ondelete="CASCADE",
            deferrable=True,
            initially="DEFERRED",
        ),
        SQLITE_CLUSTERED,
    )

    org_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    metric: Mapped[str] = mapped_column(String(200), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)  # YYYY-MM
    value: Mapped[float] = mapped_column(Float)
