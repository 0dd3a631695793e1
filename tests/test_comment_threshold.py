"""The comment threshold per organisation: default 10, set from the service and from
`valuechain threshold`, refused outside the threshold for numbers … 50 with a clear
message, and used wherever comments are shown (the comments service, the dashboard,
the comment API). Both databases."""

from __future__ import annotations

import json
import sys
from datetime import date

import pytest
from typer.testing import CliRunner

from tests.signin import admin_client
from valuechain import Valuechain
from valuechain.analytics.confidentiality import COMMENT_THRESHOLD, COMMENT_THRESHOLD_MAX
from valuechain.cli.main import app, main
from valuechain.domain.organisation import OrganisationMap
from valuechain.domain.response import Answer, Response
from valuechain.domain.unit import Unit, UnitKind
from valuechain.services import measure
from valuechain.services.comment import comments
from valuechain.services.dashboard import dashboard
from valuechain.services.errors import ValuechainError


def _org(size: int) -> OrganisationMap:
    """``size`` respondents of one customer unit, each with a comment about ``prov``."""
    responses = [
        Response(
            id=f"r-{i}",
            campaign="c1",
            instrument="pulse",
            rater_id="cust",
            rated_id="prov",
            submitted_on=date(2026, 5, 1 + i % 20),
            answers=[Answer("need_now", "need", 3.0)],
            comments=[("better_next", f"comment {i} about tickets and plans")],
        )
        for i in range(size)
    ]
    units = [Unit("prov", "Provider", UnitKind.TEAM), Unit("cust", "Customer", UnitKind.TEAM)]
    return OrganisationMap(units=units, results=[], links=[], people=[], responses=responses)


def _hidden(found: dict[str, object]) -> bool:
    groups = found["groups"]
    assert isinstance(groups, list) and groups
    return all(g["suppressed"] and g["comments"] is None for g in groups)


def test_default_and_setting(vc: Valuechain) -> None:
    vc.write_map(_org(11))
    assert measure.comment_threshold(vc) == COMMENT_THRESHOLD == 10
    assert not _hidden(comments(vc, "prov"))
    measure.set_comment_threshold(vc, 12)
    assert measure.comment_threshold(vc) == 12
    measure.set_comment_threshold(vc, COMMENT_THRESHOLD_MAX)
    assert measure.comment_threshold(vc) == COMMENT_THRESHOLD_MAX
    measure.set_comment_threshold(vc, measure.threshold(vc))  # the lowest allowed
    assert measure.comment_threshold(vc) == measure.threshold(vc)


def test_a_group_of_eleven_is_hidden_at_twelve(vc: Valuechain) -> None:
    org = _org(11)
    measure.set_comment_threshold(vc, 12)
    for client in admin_client(vc, org):
        found = comments(vc, "prov")
        assert found["threshold"] == 12 and _hidden(found)
        assert found["themes"] == []
        doc = dashboard(vc, "prov")
        assert doc["comments"]["threshold"] == 12 and _hidden(doc["comments"])
        page = client.get("/units/prov/dashboard")
        assert page.status_code == 200 and "comment 3 about" not in page.text
        api = client.get("/api/v1/units/prov/comments").json()
        assert api["threshold"] == 12 and _hidden(api)
    # Back at 11 the same group is shown.
    measure.set_comment_threshold(vc, 11)
    assert not _hidden(comments(vc, "prov"))


@pytest.mark.parametrize("value", [2, 4, 0, -1, COMMENT_THRESHOLD_MAX + 1, 1000, True])
def test_out_of_range_values_are_refused(vc: Valuechain, value: int) -> None:
    vc.write_map(_org(3))
    with pytest.raises(ValuechainError, match="comment threshold must be"):
        measure.set_comment_threshold(vc, value)
    assert measure.comment_threshold(vc) == COMMENT_THRESHOLD  # nothing changed


def test_never_below_the_threshold_for_numbers(vc: Valuechain) -> None:
    vc.write_map(_org(3))
    measure.set_comment_threshold(vc, 6)
    # Raising the numbers threshold above a stored comment threshold lifts it too.
    measure.set_threshold(vc, 8)
    assert measure.comment_threshold(vc) == 8
    with pytest.raises(ValuechainError, match=r"at least the threshold for numbers \(8\)"):
        measure.set_comment_threshold(vc, 7)
    measure.set_threshold(vc, 9)
    assert measure.comment_threshold(vc) == 9


def test_cli_shows_and_sets_both_thresholds(
    vc: Valuechain,
    cli_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    vc.write_map(_org(3))
    out = CliRunner().invoke(app, ["threshold", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout) == {"threshold": 5, "comment_threshold": 10}
    out = CliRunner().invoke(app, ["threshold", "--comments", "12", "--numbers", "6", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout) == {"threshold": 6, "comment_threshold": 12}
    out = CliRunner().invoke(app, ["threshold"])
    assert out.exit_code == 0 and "of 12 or more" in " ".join(out.stdout.split())
    for args, message in (
        (["--comments", "51"], "the comment threshold must be a whole number from 3 to 50"),
        (["--comments", "5"], "at least the threshold for numbers (6)"),
        (["--numbers", "11"], "the threshold must be a whole number from 3 to 10"),
    ):
        monkeypatch.setattr(sys, "argv", ["valuechain", "threshold", *args])
        with pytest.raises(SystemExit) as stopped:
            main()
        assert stopped.value.code == 2
        assert message in capsys.readouterr().err
    assert measure.comment_threshold(vc) == 12 and measure.threshold(vc) == 6
