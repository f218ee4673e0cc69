"""The resident's ballot pages: /vote/ (the envelopes open for voting), /vote/<envelope> (the
ballot of one envelope, a plain form that works without JavaScript), its review and cast,
/receipt/<code> and the public /receipts check.

Each view parses its input, calls one service of this package and renders; the words of a
refusal or of a project that no longer fits come from the refusal's class and attributes
(`words.py`), in the reader's language.
"""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Any

from flask import Flask, abort, jsonify, redirect, request, url_for
from werkzeug.wrappers import Response

from saas.core.auth import actor
from saas.core.extensions import queues
from saas.core.refusals import NotFound, Refusal
from saas.core.tenancy.context import db_autocommit, db_session
from saas.core.web.assets import register_static_folder
from saas.core.web.i18n import _
from saas.core.web.pages import (
    flash_ok,
    page_blueprint,
    portal_path,
    render_page,
    sign_in_required,
    sign_in_url,
    signed_in,
)
from tenants.voting import ballot_page, drafts, receipts, selection, words
from tenants.voting.keys import caller_voter_key
from tenants.voting.refusals import ChoiceUnreadable
from tenants.voting.rules import BASES

bp = page_blueprint("voting_pages", __name__)
bp.record_once(
    lambda state: register_static_folder(
        typing.cast(Flask, state.app), "voting", Path(__file__).parent / "static"
    )
)


def _person_key() -> str | None:
    """The signed-in person's voter key (as the API's), or None."""
    if signed_in() is None:
        return None
    return caller_voter_key()


class _NotInVoting(Exception):
    pass


def _envelope_or_404(envelope: str, **kw: Any) -> ballot_page.EnvelopeBallot:
    """The envelope's ballot; 404 for an envelope the cycle in voting does not have (another
    tenant's too: the session reads only this one's), _NotInVoting when no cycle is."""
    try:
        return ballot_page.envelope_ballot(db_session(), envelope, **kw)
    except NotFound:
        if not ballot_page.voting_overview(db_session(), person_key=None).in_voting:
            raise _NotInVoting from None
        abort(404)


@bp.errorhandler(_NotInVoting)
def _to_the_landing_page(_error: _NotInVoting) -> Response:
    """No cycle is in voting (any more): the landing page says when it opens or closed."""
    return redirect(url_for(".index"), code=303)


def _ballot(ballot: ballot_page.EnvelopeBallot, *, status: int = 200, **context: Any) -> tuple[str, int]:
    return render_page("voting/ballot.html", ballot=ballot, words=words, section="vote", **context), status


@bp.get("/vote/")
def index() -> str:
    overview = ballot_page.voting_overview(db_session(), person_key=_person_key())
    return render_page("voting/index.html", overview=overview, words=words, section="vote")


@bp.get("/vote/<envelope>")
def ballot(envelope: str) -> Any:
    """The ballot of one envelope. `?sel=` brings back a selection made before signing in
    (shown, and saved by the next update or review)."""
    carried = request.args.get("sel")
    try:
        shown = _envelope_or_404(envelope, person_key=_person_key(), carried=carried)
    except ChoiceUnreadable as refused:
        shown = _envelope_or_404(envelope, person_key=_person_key())
        return _ballot(shown, status=refused.status, refusal=words.refusal(refused, shown.rules))
    return _ballot(shown, carried=carried is not None)


@bp.post("/vote/<envelope>")
def update(envelope: str) -> Any:
    """The ballot form sent: `action` update (show where it stands, keep it) or review.
    Signed in, the selection is kept as a draft; before sign-in it travels in the form, and
    to the sign-in and back in the URL (`sel`)."""
    key = _person_key()
    shown = _envelope_or_404(envelope, person_key=key)
    ids = [p.id for p in shown.projects]
    try:
        chosen = selection.parse_form(shown.rules, request.form, ids)
    except ChoiceUnreadable as refused:
        return _ballot(
            shown,
            status=refused.status,
            refusal=words.refusal(refused, shown.rules),
            errors=words.field_errors(refused),
        )
    wants_review = request.form.get("action") == "review"
    if key is None:
        if wants_review:
            back = portal_path(url_for(".ballot", envelope=envelope, sel=selection.encode(chosen)))
            return redirect(sign_in_url(back), code=303)
        again = _envelope_or_404(envelope, person_key=None, selection=chosen)
        if again.standing.over:  # nothing is kept before sign-in, but the rule is said all the same
            return _ballot(again, status=422, refusal=words.problem(again.standing, again.rules))
        return _ballot(again)
    try:
        standing = drafts.do_save_draft(
            db_session(), shown.cycle_id, envelope_id=shown.envelope.id, person_key=key, selection=chosen
        )
    except Refusal as refused:
        again = _envelope_or_404(envelope, person_key=key, selection=chosen)
        return _ballot(again, status=refused.status, refusal=words.refusal(refused, shown.rules))
    if wants_review:
        if standing.complete:
            return redirect(url_for(".review", envelope=envelope), code=303)
        again = _envelope_or_404(envelope, person_key=key)
        return _ballot(again, status=422, refusal=words.problem(standing, shown.rules))
    flash_ok(_("Your selection is kept. It is not yet submitted."))
    return redirect(url_for(".ballot", envelope=envelope), code=303)


@bp.post("/vote/<envelope>/draft")
def draft(envelope: str) -> Response | tuple[Response, int]:
    """The script's endpoint: a selection as JSON (`{"selection": {"<id>": value}}`), kept as
    the draft when signed in; answers where it stands, in words for the page."""
    key = _person_key()
    shown = _envelope_or_404(envelope, person_key=key)
    body = request.get_json(silent=True)
    raw = body.get("selection") if isinstance(body, dict) else None
    if not isinstance(raw, dict):
        return jsonify({"message": _("The selection could not be read.")}), 400
    try:
        chosen = selection.decode(
            "-".join(f"{pid}.{value}" for pid, value in raw.items()), [p.id for p in shown.projects]
        )
        if key is None:
            standing = ballot_page.envelope_ballot(
                db_session(), envelope, person_key=None, selection=chosen
            ).standing
        else:
            standing = drafts.do_save_draft(
                db_session(), shown.cycle_id, envelope_id=shown.envelope.id, person_key=key, selection=chosen
            )
    except Refusal as refused:
        return jsonify({"message": words.refusal(refused, shown.rules)}), refused.status
    return jsonify(words.standing_json(standing, shown.rules, saved=key is not None))


def _review(review: ballot_page.Review, *, status: int = 200, **context: Any) -> tuple[str, int]:
    return (
        render_page("voting/review.html", review=review, words=words, bases=BASES, section="vote", **context),
        status,
    )


@bp.get("/vote/<envelope>/review")
@sign_in_required
def review(envelope: str) -> Any:
    key = _person_key()
    assert key is not None  # sign_in_required
    try:
        shown = ballot_page.review_of(db_session(), envelope, person_key=key)
    except NotFound:
        abort(404)
    return _review(shown)


def _voter(form: Any) -> dict[str, Any]:
    """The voter's declared basis and birth year, refused by field."""
    basis = form.get("basis", "")
    if basis not in BASES:
        raise ChoiceUnreadable("Choose on what basis you vote.", field="basis", reason="not_on_ballot")
    year = form.get("birth_year", "").strip()
    if not (year.isascii() and year.isdigit() and len(year) == 4 and 1900 <= int(year) <= 2100):
        raise ChoiceUnreadable(
            "Give your year of birth (four digits).", field="birth_year", reason="not_a_number"
        )
    return {"basis": basis, "birth_year": int(year)}


@bp.post("/vote/<envelope>/review")
@sign_in_required
def cast(envelope: str) -> Any:
    """Cast the reviewed ballot (one statement, as the API's vote) and show its receipt."""
    key = _person_key()
    assert key is not None  # sign_in_required
    try:
        voter = _voter(request.form)
        cycle = request.form.get("cycle", "")
        done = ballot_page.do_cast_reviewed(
            db_session(),
            db_autocommit(),
            envelope,
            person_key=key,
            voter=voter,
            marked_by=actor(),
            cycle_id=int(cycle) if cycle.isascii() and cycle.isdigit() and len(cycle) <= 18 else None,
            reviewed=ballot_page.reviewed_choices(request.form.getlist("choice"))
            if "choice" in request.form
            else None,
        )
    except NotFound:
        abort(404)
    except Refusal as refused:
        db_session().rollback()
        try:
            again = ballot_page.review_of(db_session(), envelope, person_key=key)
        except NotFound:  # voting closed: the landing page says since when
            overview = ballot_page.voting_overview(db_session(), person_key=key)
            body = render_page(
                "voting/index.html",
                overview=overview,
                words=words,
                section="vote",
                refusal=words.refusal(refused, {}),
            )
            return body, refused.status
        return _review(
            again,
            status=refused.status,
            refusal=words.refusal(refused, again.rules),
            errors=words.field_errors(refused),
            form=request.form,
        )
    return redirect(url_for(".receipt", code=done.receipt_code), code=303)


def _check(code: str) -> receipts.ReceiptCheck:
    return receipts.check_receipt(
        db_session(), code, asked_by=request.remote_addr or "unknown", counter=queues.connection
    )


@bp.get("/receipt/<code>")
def receipt(code: str) -> Any:
    """A receipt: the code, when and on which channel, and what it proves."""
    try:
        found = _check(code)
    except Refusal as refused:
        body = render_page(
            "voting/receipts.html", refusal=words.refusal(refused, {}), code=code, section="vote"
        )
        return body, refused.status, getattr(refused, "headers", {})
    body = render_page("voting/receipt.html", check=found, code=code, words=words, section="vote")
    return body, 200 if found.found else 404


@bp.get("/receipts")
def receipts_form() -> str:
    return render_page("voting/receipts.html", section="vote")


@bp.post("/receipts")
def check() -> Any:
    code = request.form.get("code", "")
    try:
        found = _check(code)
    except Refusal as refused:
        body = render_page(
            "voting/receipts.html",
            refusal=words.refusal(refused, {}),
            errors=words.field_errors(refused),
            code=code,
            section="vote",
        )
        return body, refused.status, refused.headers
    body = render_page("voting/receipts.html", check=found, code=code, words=words, section="vote")
    return body, 200 if found.found else 404
