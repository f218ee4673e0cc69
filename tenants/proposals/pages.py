"""The residents' proposal pages: browse and search (/proposals/), one proposal with its
supports and comments (/proposals/<id>), submitting one (/proposals/new), and rating the
spending priorities in the planning-input phase (/planning).

Every page works without JavaScript: filters are a GET form, actions are POST forms with the
browser's CSRF token (checked by the page blueprint), answered by a redirect (Post/Redirect/
Get) with a confirmation, or by the same form with its errors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import marshmallow as ma
from flask import abort, request, url_for
from werkzeug.wrappers import Response

from saas.core.refusals import Conflict, Invalid, NotFound
from saas.core.tenancy.context import current_tenant, db_session
from saas.core.web.i18n import _, localized
from saas.core.web.pages import (
    flash_ok,
    page_blueprint,
    redirect_after_post,
    render_page,
    sign_in_required,
    signed_in,
)
from tenants.cycles.services import current_cycle
from tenants.proposals import services
from tenants.proposals.reading import OPEN, phase_window, proposal_page
from tenants.proposals.schemas import CommentInputSchema, ProposalInputSchema
from tenants.proposals.search import BrowseOptions, browse_options, check_query, find_proposals
from tenants.voting import planning
from tenants.voting.keys import caller_voter_key

bp = page_blueprint("proposal_pages", __name__)
_PROPOSAL = ProposalInputSchema()
_COMMENT = CommentInputSchema()
FORM_FIELDS = ("title", "description", "category_key", "district_code", "location_text", "estimated_cost")


def _field_messages() -> dict[str, str]:
    # One sentence per field, saying what it needs (translated at request time).
    return {
        "title": _("Give your proposal a title of at most 200 characters."),
        "description": _("Describe your proposal in at most 20,000 characters."),
        "category_key": _("Choose a category from the list."),
        "district_code": _("Choose a dong from the list, or none."),
        "location_text": _("Say where in at most 300 characters, or leave it empty."),
        "estimated_cost": _("Enter the cost in won as a whole number, or leave it empty."),
    }


def _search_messages() -> dict[str, str]:
    return {
        "q": _("A search is at most 100 characters and 5 words."),
        "dong": _("Choose a dong from the list."),
        "category": _("Choose a category from the list."),
        "order": _("Choose an order from the list."),
        "page": _("There is no such page."),
    }


@dataclass(frozen=True)
class _Choices:
    dongs: list[tuple[str, str]]
    categories: list[tuple[str, str]]


def _choices(options: BrowseOptions) -> _Choices:
    return _Choices(
        [(d.code, localized(d, "name")) for d in options.districts],
        [(c.key, localized(c, "name")) for c in options.categories],
    )


def _page_url(args: Any) -> Callable[[int], str]:
    kept = {k: v for k, v in args.items() if k in ("q", "dong", "category", "order") and v}

    def page_url(number: int) -> str:
        values: dict[str, Any] = {**kept, "page": number} if number > 1 else dict(kept)
        return url_for("proposal_pages.proposal_list", **values)

    return page_url


def _render_list(cycle: Any, options: BrowseOptions, results: Any, errors: dict[str, list[str]]) -> str:
    return render_page(
        "proposals/list.html",
        cycle=cycle,
        options=options,
        choices=_choices(options),
        results=results,
        errors=errors,
        args=request.args,
        page_url=_page_url(request.args),
    )


@bp.get("/proposals/")
def proposal_list() -> Any:
    session = db_session()
    cycle = current_cycle(session)
    options = browse_options(session)
    args = request.args
    try:
        query = check_query(
            args.get("q"),
            district_code=args.get("dong"),
            category_key=args.get("category"),
            order=args.get("order"),
            page=args.get("page"),
        )
    except Invalid as refusal:
        messages = _search_messages()
        errors = {name: [messages[name]] for name in refusal.errors or {}}
        return _render_list(cycle, options, None, errors), 422
    results = find_proposals(session, cycle.id, query) if cycle is not None else None
    return _render_list(cycle, options, results, {})


def _page_of(proposal_id: int) -> Any:
    try:
        return proposal_page(db_session(), proposal_id, viewer=signed_in())
    except NotFound:
        abort(404)


def _render_proposal(
    proposal_id: int, *, errors: dict[str, list[str]] | None = None, comment: str = ""
) -> str:
    view = _page_of(proposal_id)
    cycle = current_cycle(db_session())
    return render_page(
        "proposals/detail.html",
        proposal=view,
        options=browse_options(db_session()),
        in_current_cycle=cycle is not None and cycle.id == view.cycle_id,
        errors=errors or {},
        comment=comment,
    )


@bp.get("/proposals/<int:proposal_id>")
def proposal_detail(proposal_id: int) -> str:
    return _render_proposal(proposal_id)


@bp.post("/proposals/<int:proposal_id>/support")
@sign_in_required
def support(proposal_id: int) -> Any:
    view = _page_of(proposal_id)
    person = signed_in()
    assert person is not None  # sign_in_required
    try:
        services.do_support(db_session(), view.cycle_id, proposal_id, supporter=person)
    except Conflict:
        return _render_proposal(proposal_id), 409
    flash_ok(_("Thank you: your support is counted."))
    return redirect_after_post("proposal_pages.proposal_detail", proposal_id=proposal_id)


@bp.post("/proposals/<int:proposal_id>/comments")
@sign_in_required
def comment(proposal_id: int) -> Any:
    view = _page_of(proposal_id)
    person = signed_in()
    assert person is not None
    body = (request.form.get("body") or "").strip()
    try:
        fields = _COMMENT.load({"body": body})
    except ma.ValidationError:
        errors = {"body": [_("Write a comment of at most 5,000 characters.")]}
        return _render_proposal(proposal_id, errors=errors, comment=body), 422
    try:
        services.do_comment(db_session(), view.cycle_id, proposal_id, author=person, body=fields["body"])
    except Conflict:
        return _render_proposal(proposal_id), 409
    flash_ok(_("Your comment is published."))
    return redirect_after_post("proposal_pages.proposal_detail", proposal_id=proposal_id)


def _proposal_form(form: Any) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The submitted fields, checked by the API's schema; errors as sentences per field."""
    raw: dict[str, Any] = {}
    for name in FORM_FIELDS:
        value = (form.get(name) or "").strip()
        if value:
            raw[name] = value
    cost = raw.get("estimated_cost")
    if cost is not None:
        digits = cost.replace(",", "").replace("원", "").replace("₩", "").strip()
        raw["estimated_cost"] = int(digits) if digits.isdigit() and len(digits) <= 16 else cost
    messages = _field_messages()
    try:
        return _PROPOSAL.load(raw), {}
    except ma.ValidationError as error:
        problems = error.messages if isinstance(error.messages, dict) else {}
        return {}, {name: [messages[name]] for name in FORM_FIELDS if name in problems}


def _render_new(cycle: Any, *, form: Any = None, errors: dict[str, list[str]] | None = None) -> str:
    return render_page(
        "proposals/new.html",
        cycle=cycle,
        window=phase_window(cycle, services.INTAKE),
        choices=_choices(browse_options(db_session())),
        form=form or {},
        errors=errors or {},
    )


@bp.get("/proposals/new")
@sign_in_required
def new_proposal() -> Any:
    cycle = current_cycle(db_session())
    body = _render_new(cycle)
    return body if phase_window(cycle, services.INTAKE).state == OPEN else (body, 409)


@bp.post("/proposals/new")
@sign_in_required
def submit_proposal() -> Any:
    session = db_session()
    cycle = current_cycle(session)
    if phase_window(cycle, services.INTAKE).state != OPEN:
        return _render_new(cycle), 409
    assert cycle is not None
    person = signed_in()
    assert person is not None
    fields, errors = _proposal_form(request.form)
    if errors:
        return _render_new(cycle, form=request.form, errors=errors), 422
    fields.pop("proposer_name", None)
    fields.pop("channel", None)
    try:
        proposal = services.do_submit_proposal(
            session, current_tenant(), cycle.id, fields,
            proposer=person, channel="online", entered_by=None, actor=person,
        )
    except Invalid as refusal:
        messages = _field_messages()
        errors = {name: [messages[name]] for name in refusal.errors or {} if name in messages}
        return _render_new(cycle, form=request.form, errors=errors), 422
    except Conflict:  # the phase closed meanwhile
        return _render_new(current_cycle(session)), 409
    flash_ok(_("Your proposal is submitted. Thank you!"))
    return redirect_after_post("proposal_pages.proposal_detail", proposal_id=proposal.id)


# --- planning input ---


def _render_planning(
    cycle: Any, *, chosen: dict[str, Any], errors: dict[str, list[str]] | None = None
) -> str:
    return render_page(
        "proposals/planning.html",
        cycle=cycle,
        window=phase_window(cycle, planning.PLANNING),
        categories=planning.planning_categories(db_session()),
        chosen=chosen,
        errors=errors or {},
    )


@bp.get("/planning")
@sign_in_required
def planning_page() -> Any:
    session = db_session()
    cycle = current_cycle(session)
    chosen: dict[str, Any] = (
        planning.my_ratings(session, cycle.id, person_key=caller_voter_key()) if cycle is not None else {}
    )
    body = _render_planning(cycle, chosen=chosen)
    return body if phase_window(cycle, planning.PLANNING).state == OPEN else (body, 409)


@bp.post("/planning")
@sign_in_required
def rate_priorities() -> Response | tuple[str, int]:
    session = db_session()
    cycle = current_cycle(session)
    if phase_window(cycle, planning.PLANNING).state != OPEN:
        return _render_planning(cycle, chosen={}), 409
    assert cycle is not None
    keys = [c.key for c in planning.planning_categories(session)]
    ratings: dict[str, int] = {}
    errors: dict[str, list[str]] = {}
    for key in keys:
        value = request.form.get(f"rating-{key}", "")
        if value == "":
            continue
        if value in ("1", "2", "3", "4", "5"):
            ratings[key] = int(value)
        else:
            errors[f"rating-{key}"] = [_("Choose a rating from 1 to 5.")]
    if not ratings and not errors:
        errors["ratings"] = [_("Rate at least one category.")]
    if errors:
        chosen = {key: request.form.get(f"rating-{key}", "") for key in keys}
        return _render_planning(cycle, chosen=chosen, errors=errors), 422
    try:
        planning.do_rate_priorities(session, cycle.id, person_key=caller_voter_key(), ratings=ratings)
    except Conflict:
        return _render_planning(current_cycle(session), chosen={}), 409
    flash_ok(_("Your ratings are saved. You can change them until the phase ends."))
    return redirect_after_post("proposal_pages.planning_page")
