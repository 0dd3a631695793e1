"""The answer form behind a single-use survey link (``/s/{token}``): no sign-in, the
token is the credential.

Cross-site use is refused three ways (docs/access.md, "Survey links"): the form
carries a nonce derived from the token (HMAC-SHA256), which a page elsewhere cannot
compute without the token; a POST whose ``Origin`` is another site is refused; and
the page sends ``Referrer-Policy: same-origin`` and ``Cache-Control: no-store`` so
the token leaks neither to other sites nor into shared caches.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from valuechain.domain.instrument import IMPORTANCE_POINTS, Item, Scale
from valuechain.edge.dependencies import SURVEY_LINK, CurrentValuechain
from valuechain.edge.idempotency import IdempotentRoute
from valuechain.services import campaign as campaigns
from valuechain.web.templating import templates

router = APIRouter(route_class=IdempotentRoute, include_in_schema=False, dependencies=SURVEY_LINK)
NONCE_FIELD = "nonce"
PRIVATE_HEADERS = {
    "Cache-Control": "no-store",
    # Not no-referrer: with it, browsers send "Origin: null" on the form's own POST.
    "Referrer-Policy": "same-origin",
    "X-Robots-Tag": "noindex",
}


def form_nonce(token: str) -> str:
    """The hidden nonce of the form for ``token``: HMAC-SHA256 keyed by the token."""
    return hmac.new(token.encode(), b"valuechain survey form", hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Choice:
    value: int
    id: str
    checked: bool


@dataclass(frozen=True)
class Question:
    """One radio group (or text box) as the template draws it."""

    name: str  # the form field
    id: str  # the id of its first control, the error summary's link target
    legend: str
    scale: Scale | None
    choices: list[Choice]
    value: str
    error: str | None


@dataclass(frozen=True)
class ItemView:
    text: str
    questions: list[Question]


@dataclass(frozen=True)
class DimensionView:
    label: str
    items: list[ItemView]


def _question(
    name: str, legend: str, scale: Scale | None, values: dict[str, str], problems: dict[str, str]
) -> Question:
    value = values.get(name, "")
    choices = (
        []
        if scale is None
        else [
            Choice(v, f"{name}-{v}", value == str(v) or value == f"{v}.0")
            for v in range(scale.low, scale.high + 1)
        ]
    )
    return Question(
        name, choices[0].id if choices else name, legend, scale, choices, value, problems.get(name)
    )


def _item(
    item: Item,
    provider: str,
    form: campaigns.SurveyForm,
    values: dict[str, str],
    problems: dict[str, str],
) -> ItemView:
    text = item.wording(provider)
    if item.scale is None:
        name = campaigns.field_name("t", item.key)
        return ItemView(text, [_question(name, text, None, values, problems)])
    questions = []
    if item.expectation:
        questions.append(
            _question(
                campaigns.field_name("e", item.key),
                "What an excellent internal provider would do",
                item.scale,
                values,
                problems,
            )
        )
        legend = f"What {provider} does"
    else:
        legend = text
    questions.append(
        _question(campaigns.field_name("p", item.key), legend, item.scale, values, problems)
    )
    return ItemView(text, questions)


def _render(
    request: Request,
    token: str,
    form: campaigns.SurveyForm,
    values: dict[str, str],
    problems: dict[str, str],
    status_code: int = 200,
) -> Response:
    provider = form.provider_name
    dimensions = [
        DimensionView(d.label, [_item(i, provider, form, values, problems) for i in d.items])
        for d in form.instrument.dimensions
    ]
    importance = (
        [
            {
                "name": campaigns.field_name("i", d.key),
                "label": d.label,
                "value": values.get(campaigns.field_name("i", d.key), ""),
            }
            for d in form.instrument.drivers
        ]
        if form.instrument.importance_split
        else []
    )
    summary = []
    targets = {q.name: q.id for d in dimensions for it in d.items for q in it.questions}
    # Each problem in the summary names its question, so "Choose an answer" is never
    # left for the respondent to match up with one of many questions.
    asked = {
        q.name: it.text if len(it.questions) == 1 else f"{it.text} ({q.legend})"
        for d in dimensions
        for it in d.items
        for q in it.questions
    }
    if importance:
        targets["importance"] = importance[0]["name"]
    targets[campaigns.COMMENT_ITEM] = campaigns.COMMENT_ITEM
    for name, message in problems.items():
        where = asked.get(name)
        summary.append(
            {
                "href": "#" + targets.get(name, name),
                "message": f"“{where}”: {message}" if where else message,
            }
        )
    return templates.TemplateResponse(
        request,
        "survey/form.html",
        {
            "form": form,
            "token": token,
            "nonce": form_nonce(token),
            "dimensions": dimensions,
            "importance": importance,
            "importance_points": IMPORTANCE_POINTS,
            "importance_error": problems.get("importance"),
            "comment": values.get(campaigns.COMMENT_ITEM, ""),
            "comment_error": problems.get(campaigns.COMMENT_ITEM),
            "summary": summary,
        },
        status_code=status_code,
        headers=PRIVATE_HEADERS,
    )


def _message(request: Request, title: str, message: str, status_code: int) -> Response:
    return templates.TemplateResponse(
        request,
        "survey/message.html",
        {"title": title, "message": message},
        status_code=status_code,
        headers=PRIVATE_HEADERS,
    )


#: What a link answers when it does not open: a respondent has no account and no
#: menu, so these get the survey's own message page (with its private headers).
LINK_REFUSED = (campaigns.LinkUnknown, campaigns.LinkSpent)


def _link_page(request: Request, error: campaigns.LinkUnknown | campaigns.LinkSpent) -> Response:
    title = "This link no longer works" if error.status == 410 else "Survey not found"
    return _message(request, title, str(error), error.status)


@router.get("/s/{token}", response_class=HTMLResponse)
def survey_page(token: str, request: Request, vc: CurrentValuechain) -> Response:
    """The answer form of a single-use link; 404 unknown, 410 used or closed."""
    try:
        form = campaigns.open_link(vc, token)
    except LINK_REFUSED as error:
        return _link_page(request, error)
    return _render(request, token, form, {}, {})


def _cross_site(request: Request) -> bool:
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin == "null"
    return urlsplit(origin).netloc != request.headers.get("host", "")


@router.post("/s/{token}", response_class=HTMLResponse)
async def submit_survey(token: str, request: Request, vc: CurrentValuechain) -> Response:
    """Store the answers once and go to the thank-you page; with problems, the form
    again (422) with an error summary and everything typed kept."""
    from starlette.concurrency import run_in_threadpool

    fields = await request.form()
    values = {k: v for k, v in fields.items() if isinstance(v, str)}
    nonce = values.pop(NONCE_FIELD, "")
    if _cross_site(request) or not hmac.compare_digest(nonce, form_nonce(token)):
        return await run_in_threadpool(_forbidden_or_unknown, request, vc, token)
    try:
        form = await run_in_threadpool(campaigns.open_link, vc, token)
    except LINK_REFUSED as error:
        return _link_page(request, error)
    submission = campaigns.submission_from_form(form.instrument, values)
    try:
        await run_in_threadpool(campaigns.submit, vc, token, submission)
    except campaigns.InvalidAnswers as invalid:
        return _render(request, token, form, values, invalid.problems, invalid.status)
    except LINK_REFUSED as error:
        return _link_page(request, error)
    return RedirectResponse("/survey/thanks", status_code=303, headers=PRIVATE_HEADERS)


def _forbidden_or_unknown(request: Request, vc: Any, token: str) -> Response:
    try:
        campaigns.open_link(vc, token)
    except LINK_REFUSED as error:
        return _link_page(request, error)
    return _message(
        request,
        "This form did not come from Valuechain",
        "Open the link from your invitation email again and answer there.",
        403,
    )


@router.get("/survey/thanks", response_class=HTMLResponse)
def thanks(request: Request) -> Response:
    """The thank-you page after a stored submission."""
    return _message(
        request,
        "Thank you",
        "Your answers are stored, without your name. The link you used no longer works.",
        200,
    )
