"""The fake's state and its HTTP face (see the package docstring for what it covers)."""

from __future__ import annotations

import copy
import itertools
import json
import logging
import queue
import secrets
import threading
import time
from calendar import monthrange
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, request

from saas.core import clock as platform_clock

log = logging.getLogger(__name__)
API_VERSION = "2025-fake"  # the fake answers one shape, whatever version is asked for


class StripeFakeError(Exception):
    def __init__(self, status: int, message: str, param: str | None = None, code: str | None = None):
        super().__init__(message)
        self.status, self.message, self.param, self.code = status, message, param, code


def parse_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding (`a[b][0][c]=v`) into nested dicts; all-digit keys become lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = key.replace("]", "").split("[")
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value

    def listify(node: Any) -> Any:
        if isinstance(node, dict):
            node = {k: listify(v) for k, v in node.items()}
            if node and all(k.isdigit() for k in node):
                return [node[k] for k in sorted(node, key=int)]
        return node

    return listify(root)


def _add_months(ts: int, months: int) -> int:
    moment = datetime.fromtimestamp(ts, UTC)
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, monthrange(year, month)[1])
    return int(moment.replace(year=year, month=month, day=day).timestamp())


class FakeStripe:
    """All objects in memory, one lock around every request (the fake is not about speed)."""

    def __init__(
        self,
        *,
        webhook_secret: str | None = None,
        webhook_url: str | None = None,
        deliver: str = "auto",
        clock: Callable[[], int] | None = None,
    ) -> None:
        self.webhook_secret = webhook_secret
        self.webhook_url = webhook_url
        self.deliver_mode = deliver  # auto: POST each event at once; manual: keep them in `outbox`
        self.clock = clock or (lambda: int(platform_clock.timestamp()))
        self.lock = threading.RLock()
        self.objects: dict[str, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        self.outbox: list[dict[str, Any]] = []
        self.idempotent: dict[tuple[str, str], tuple[int, Any]] = {}
        self._numbers = itertools.count(1)
        self._deliveries: queue.Queue[dict[str, Any]] = queue.Queue()
        if webhook_url and deliver == "auto":
            threading.Thread(target=self._deliver_forever, name="stripe-fake-webhooks", daemon=True).start()

    def _deliver_forever(self) -> None:
        while True:
            event = self._deliveries.get()
            # Stripe retries a failed delivery with backoff, and so does the fake, in order
            # (the demo's web server starts after the first tenants subscribe).
            for delay in (0.5, 1, 2, 4, 8, 15, 30, 60, 0):
                if self.post_event(event) or not delay:
                    break
                time.sleep(delay)

    # ---- state across restarts (the demo's fake lives as long as the demo's database) -----
    def dump(self) -> dict[str, Any]:
        with self.lock:
            return {
                "objects": self.objects,
                "events": self.events,
                "idempotent": [
                    [key, path, status, body] for (key, path), (status, body) in self.idempotent.items()
                ],
            }

    def load(self, state: dict[str, Any]) -> None:
        with self.lock:
            self.objects = state["objects"]
            self.events = state["events"]
            self.idempotent = {(key, path): (status, body) for key, path, status, body in state["idempotent"]}
            numbered = sum(1 for o in self.objects.values() if o.get("number"))
            self._numbers = itertools.count(numbered + 1)

    # ---- helpers -------------------------------------------------------------------------
    def _id(self, prefix: str) -> str:
        return f"{prefix}_{secrets.token_hex(8)}"

    def get(self, object_id: str, kind: str) -> dict[str, Any]:
        found = self.objects.get(object_id)
        if found is None or found["object"] != kind:
            raise StripeFakeError(404, f"No such {kind}: '{object_id}'", "id", "resource_missing")
        return found

    def _store(self, obj: dict[str, Any]) -> dict[str, Any]:
        self.objects[obj["id"]] = obj
        return obj

    def emit(self, event_type: str, obj: dict[str, Any]) -> None:
        event = {
            "id": self._id("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": self.clock(),
            "type": event_type,
            "livemode": False,
            "data": {"object": copy.deepcopy(self.render(obj))},
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
        }
        self.events.append(event)
        if self.webhook_url and self.deliver_mode == "auto":
            self._deliveries.put(event)  # after the response, in order, like Stripe
        else:
            self.outbox.append(event)

    def signed(
        self, event: dict[str, Any], *, timestamp: int | None = None, secret: str | None = None
    ) -> tuple[bytes, str]:
        """The body and `Stripe-Signature` header Stripe would send for `event`."""
        import stripe

        payload = json.dumps(event).encode()
        header = stripe.WebhookSignature.generate_signature_header(
            payload.decode(), secret or self.webhook_secret or "", timestamp=timestamp
        )
        return payload, header

    def post_event(self, event: dict[str, Any]) -> bool:
        """POST `event` to the webhook URL, signed; whether the endpoint took it (2xx)."""
        import requests

        payload, header = self.signed(event)
        try:
            response = requests.post(
                self.webhook_url or "",
                data=payload,
                timeout=5,
                headers={"Content-Type": "application/json", "Stripe-Signature": header},
            )
        except requests.RequestException as error:
            log.warning("webhook %s not delivered: %s", event["id"], error)
            return False
        return response.ok

    def take_outbox(self) -> list[dict[str, Any]]:
        with self.lock:
            events, self.outbox = self.outbox, []
            return events

    def render(self, obj: dict[str, Any]) -> dict[str, Any]:
        if obj["object"] == "invoice":
            return self._render_invoice(obj)
        return obj

    # ---- customers, products, prices ------------------------------------------------------
    def create_customer(self, p: dict[str, Any]) -> dict[str, Any]:
        return self._store(
            {
                "id": self._id("cus"),
                "object": "customer",
                "created": self.clock(),
                "name": p.get("name"),
                "email": p.get("email"),
                "metadata": p.get("metadata", {}),
                "livemode": False,
            }
        )

    def create_product(self, p: dict[str, Any]) -> dict[str, Any]:
        if not p.get("name"):
            raise StripeFakeError(400, "Missing required param: name.", "name")
        return self._store(
            {
                "id": self._id("prod"),
                "object": "product",
                "name": p["name"],
                "active": True,
                "metadata": p.get("metadata", {}),
            }
        )

    def create_price(self, p: dict[str, Any]) -> dict[str, Any]:
        self.get(p.get("product", ""), "product")
        recurring = p.get("recurring")
        if recurring and recurring.get("interval") not in ("month", "year"):
            raise StripeFakeError(400, "Invalid recurring[interval]", "recurring[interval]")
        return self._store(
            {
                "id": self._id("price"),
                "object": "price",
                "product": p["product"],
                "unit_amount": int(p.get("unit_amount", 0)),
                "currency": p.get("currency", "krw"),
                "recurring": recurring,
                "type": "recurring" if recurring else "one_time",
                "metadata": p.get("metadata", {}),
                "active": True,
            }
        )

    # ---- invoice items -------------------------------------------------------------------
    def create_invoice_item(self, p: dict[str, Any]) -> dict[str, Any]:
        customer = self.get(p.get("customer", ""), "customer")
        invoice_id = p.get("invoice")
        if invoice_id:
            invoice = self.get(invoice_id, "invoice")
            if invoice["status"] != "draft":
                raise StripeFakeError(400, "You can only add invoice items to draft invoices.", "invoice")
        item = self._store(
            {
                "id": self._id("ii"),
                "object": "invoiceitem",
                "customer": customer["id"],
                "amount": int(p.get("amount", 0)),
                "currency": p.get("currency", "krw"),
                "description": p.get("description"),
                "metadata": p.get("metadata", {}),
                "invoice": invoice_id,
                "subscription": p.get("subscription"),
                "date": self.clock(),
                "period": {"start": self.clock(), "end": self.clock()},
            }
        )
        if invoice_id:
            self.objects[invoice_id]["item_ids"].append(item["id"])
        return item

    def delete_invoice_item(self, item_id: str) -> dict[str, Any]:
        item = self.get(item_id, "invoiceitem")
        if item["invoice"] and self.objects[item["invoice"]]["status"] != "draft":
            raise StripeFakeError(400, "This invoice item is on a finalized invoice.", "id")
        if item["invoice"]:
            self.objects[item["invoice"]]["item_ids"].remove(item_id)
        del self.objects[item_id]
        return {"id": item_id, "object": "invoiceitem", "deleted": True}

    # ---- invoices ------------------------------------------------------------------------
    def _new_invoice(
        self,
        customer_id: str,
        *,
        subscription: dict[str, Any] | None,
        collection_method: str,
        days_until_due: int | None,
        metadata: dict[str, Any],
        sweep: bool,
        billing_reason: str,
        auto_advance: bool,
    ) -> dict[str, Any]:
        invoice = self._store(
            {
                "id": self._id("in"),
                "object": "invoice",
                "customer": customer_id,
                "subscription": subscription["id"] if subscription else None,
                "status": "draft",
                "collection_method": collection_method,
                "days_until_due": days_until_due,
                "metadata": metadata,
                "number": None,
                "created": self.clock(),
                "billing_reason": billing_reason,
                "auto_advance": auto_advance,
                "status_transitions": {"finalized_at": None, "paid_at": None, "voided_at": None},
                "item_ids": [],
                "subscription_lines": [],
                "credit_notes": [],
                "paid_out_of_band": False,
                "currency": "krw",
            }
        )
        if subscription is not None:
            for sub_item in subscription["items"]["data"]:
                price = sub_item["price"]
                invoice["subscription_lines"].append(
                    {
                        "id": self._id("il"),
                        "object": "line_item",
                        "type": "subscription",
                        "amount": price["unit_amount"] * int(sub_item.get("quantity", 1)),
                        "currency": "krw",
                        "description": f"1 × {price['product']}",
                        "price": price,
                        "quantity": int(sub_item.get("quantity", 1)),
                        "invoice_item": None,
                        "metadata": subscription["metadata"],
                        "period": {
                            "start": subscription["current_period_start"],
                            "end": subscription["current_period_end"],
                        },
                    }
                )
        if sweep:
            for obj in list(self.objects.values()):
                if obj["object"] == "invoiceitem" and obj["customer"] == customer_id and not obj["invoice"]:
                    obj["invoice"] = invoice["id"]
                    invoice["item_ids"].append(obj["id"])
        self.emit("invoice.created", invoice)
        return invoice

    def _render_invoice(self, invoice: dict[str, Any]) -> dict[str, Any]:
        lines = list(invoice["subscription_lines"])
        for item_id in invoice["item_ids"]:
            item = self.objects[item_id]
            lines.append(
                {
                    "id": f"il_{item_id}",
                    "object": "line_item",
                    "type": "invoiceitem",
                    "amount": item["amount"],
                    "currency": "krw",
                    "description": item["description"],
                    "invoice_item": item_id,
                    "metadata": item["metadata"],
                    "period": item["period"],
                }
            )
        subtotal = sum(line["amount"] for line in lines)
        total = max(subtotal, 0)  # a negative total would become customer credit in Stripe
        credited = sum(
            self.objects[cn]["amount"]
            for cn in invoice["credit_notes"]
            if self.objects[cn]["status"] == "issued"
        )
        pre = sum(
            self.objects[cn]["amount"]
            for cn in invoice["credit_notes"]
            if self.objects[cn]["status"] == "issued" and self.objects[cn]["type"] == "pre_payment"
        )
        paid = invoice["status"] == "paid"
        amount_due = max(total - pre, 0)
        shown = {
            k: v for k, v in invoice.items() if k not in ("item_ids", "subscription_lines", "credit_notes")
        }
        shown.update(
            lines={
                "object": "list",
                "data": lines,
                "has_more": False,
                "total_count": len(lines),
                "url": f"/v1/invoices/{invoice['id']}/lines",
            },
            subtotal=subtotal,
            total=total,
            amount_due=amount_due,
            amount_paid=amount_due if paid else 0,
            amount_remaining=0 if paid else amount_due,
            pre_payment_credit_notes_amount=pre,
            post_payment_credit_notes_amount=credited - pre,
            period_start=lines[0]["period"]["start"] if invoice["subscription_lines"] else invoice["created"],
            period_end=lines[0]["period"]["end"] if invoice["subscription_lines"] else invoice["created"],
            parent={"subscription_details": {"subscription": invoice["subscription"]}}
            if invoice["subscription"]
            else None,
        )
        return shown

    def create_invoice(self, p: dict[str, Any]) -> dict[str, Any]:
        customer = self.get(p.get("customer", ""), "customer")
        method = p.get("collection_method", "charge_automatically")
        if method not in ("charge_automatically", "send_invoice"):
            raise StripeFakeError(400, "Invalid collection_method", "collection_method")
        days = p.get("days_until_due")
        if method == "send_invoice" and days is None:
            raise StripeFakeError(400, "Missing days_until_due for send_invoice.", "days_until_due")
        behavior = p.get("pending_invoice_items_behavior", "exclude")
        return self._new_invoice(
            customer["id"],
            subscription=None,
            collection_method=method,
            days_until_due=int(days) if days is not None else None,
            metadata=p.get("metadata", {}),
            sweep=behavior == "include",
            billing_reason="manual",
            auto_advance=p.get("auto_advance") == "true",
        )

    def finalize_invoice(self, invoice_id: str) -> dict[str, Any]:
        invoice = self.get(invoice_id, "invoice")
        if invoice["status"] != "draft":
            raise StripeFakeError(
                400, f"This invoice is already {invoice['status']}.", code="invoice_not_editable"
            )
        invoice["status"] = "open"
        invoice["number"] = f"FAKE-{next(self._numbers):06d}"
        invoice["status_transitions"]["finalized_at"] = self.clock()
        self.emit("invoice.finalized", invoice)
        if self._render_invoice(invoice)["amount_due"] == 0:
            self._mark_paid(invoice)  # Stripe marks a zero invoice paid on finalization
        return invoice

    def _mark_paid(self, invoice: dict[str, Any]) -> None:
        invoice["status"] = "paid"
        invoice["status_transitions"]["paid_at"] = self.clock()
        self.emit("invoice.paid", invoice)

    def pay_invoice(self, invoice_id: str, p: dict[str, Any]) -> dict[str, Any]:
        invoice = self.get(invoice_id, "invoice")
        if invoice["status"] == "draft":
            self.finalize_invoice(invoice_id)
        if invoice["status"] == "paid":
            raise StripeFakeError(400, "Invoice is already paid", code="invoice_already_paid")
        if invoice["status"] != "open":
            raise StripeFakeError(400, f"You cannot pay an invoice that is {invoice['status']}.")
        invoice["paid_out_of_band"] = p.get("paid_out_of_band") == "true"
        self._mark_paid(invoice)
        return invoice

    def void_invoice(self, invoice_id: str) -> dict[str, Any]:
        invoice = self.get(invoice_id, "invoice")
        if invoice["status"] != "open":
            raise StripeFakeError(400, f"You can only void open invoices (this one is {invoice['status']}).")
        invoice["status"] = "void"
        invoice["status_transitions"]["voided_at"] = self.clock()
        self.emit("invoice.voided", invoice)
        return invoice

    def send_invoice(self, invoice_id: str) -> dict[str, Any]:
        invoice = self.get(invoice_id, "invoice")
        if invoice["collection_method"] != "send_invoice" or invoice["status"] != "open":
            raise StripeFakeError(400, "Only open invoices with collection_method=send_invoice can be sent.")
        self.emit("invoice.sent", invoice)
        return invoice

    def list_invoices(self, q: dict[str, Any]) -> list[dict[str, Any]]:
        found = [o for o in self.objects.values() if o["object"] == "invoice"]
        for key in ("customer", "subscription", "status"):
            if q.get(key):
                found = [o for o in found if o[key] == q[key]]
        return sorted(found, key=lambda o: o["created"], reverse=True)

    # ---- credit notes --------------------------------------------------------------------
    def create_credit_note(self, p: dict[str, Any]) -> dict[str, Any]:
        invoice = self.get(p.get("invoice", ""), "invoice")
        if invoice["status"] not in ("open", "paid"):
            raise StripeFakeError(
                400, "Credit notes can only be issued for open or paid invoices.", "invoice"
            )
        amount = int(p.get("amount", 0))
        shown = self._render_invoice(invoice)
        already = sum(self.objects[c]["amount"] for c in invoice["credit_notes"])
        if amount <= 0 or amount + already > shown["total"]:
            raise StripeFakeError(
                400, "The credit note amount exceeds what the invoice can credit.", "amount"
            )
        note = self._store(
            {
                "id": self._id("cn"),
                "object": "credit_note",
                "invoice": invoice["id"],
                "customer": invoice["customer"],
                "amount": amount,
                "total": amount,
                "currency": "krw",
                "status": "issued",
                "memo": p.get("memo"),
                "reason": p.get("reason"),
                "metadata": p.get("metadata", {}),
                "created": self.clock(),
                "type": "post_payment" if invoice["status"] == "paid" else "pre_payment",
                "number": f"CN-{next(self._numbers):06d}",
            }
        )
        invoice["credit_notes"].append(note["id"])
        self.emit("credit_note.created", note)
        if note["type"] == "pre_payment" and self._render_invoice(invoice)["amount_due"] == 0:
            self._mark_paid(invoice)
        return note

    def list_credit_notes(self, q: dict[str, Any]) -> list[dict[str, Any]]:
        found = [o for o in self.objects.values() if o["object"] == "credit_note"]
        if q.get("invoice"):
            found = [o for o in found if o["invoice"] == q["invoice"]]
        return sorted(found, key=lambda o: o["created"], reverse=True)

    # ---- subscriptions -------------------------------------------------------------------
    def create_subscription(self, p: dict[str, Any]) -> dict[str, Any]:
        customer = self.get(p.get("customer", ""), "customer")
        items = p.get("items") or []
        if not items:
            raise StripeFakeError(400, "Missing required param: items.", "items")
        now = self.clock()
        data: list[dict[str, Any]] = []
        for item in items:
            price = self.get(item.get("price", ""), "price")
            if not price["recurring"]:
                raise StripeFakeError(400, "The price must be recurring.", "items[0][price]")
            data.append(
                {
                    "id": self._id("si"),
                    "object": "subscription_item",
                    "price": price,
                    "quantity": int(item.get("quantity", 1)),
                }
            )
        interval = data[0]["price"]["recurring"]["interval"]
        subscription = self._store(
            {
                "id": self._id("sub"),
                "object": "subscription",
                "customer": customer["id"],
                "status": "active",
                "items": {"object": "list", "data": data},
                "interval": interval,
                "current_period_start": now,
                "current_period_end": _add_months(now, 12 if interval == "year" else 1),
                "metadata": p.get("metadata", {}),
                "collection_method": "charge_automatically",
                "created": now,
                "latest_invoice": None,
            }
        )
        self.emit("customer.subscription.created", subscription)
        self._bill_period(subscription, "subscription_create", finalize=True, pay=True)
        return subscription

    def _bill_period(
        self, subscription: dict[str, Any], reason: str, *, finalize: bool, pay: bool
    ) -> dict[str, Any]:
        invoice = self._new_invoice(
            subscription["customer"],
            subscription=subscription,
            collection_method="charge_automatically",
            days_until_due=None,
            metadata={},
            sweep=True,
            billing_reason=reason,
            auto_advance=True,
        )
        subscription["latest_invoice"] = invoice["id"]
        if finalize:
            self.finalize_invoice(invoice["id"])
            if pay and invoice["status"] == "open":
                self._mark_paid(invoice)
        return invoice

    def renew(self, subscription_id: str, *, finalize: bool, pay: bool) -> dict[str, Any]:
        """The fake's clock: start the next period now and bill it (Stripe does this itself
        at `current_period_end`; its test clocks are the real-world counterpart)."""
        subscription = self.get(subscription_id, "subscription")
        if subscription["status"] != "active":
            raise StripeFakeError(400, "The subscription is not active.")
        start = subscription["current_period_end"]
        subscription["current_period_start"] = start
        subscription["current_period_end"] = _add_months(
            start, 12 if subscription["interval"] == "year" else 1
        )
        self.emit("customer.subscription.updated", subscription)
        return self._bill_period(subscription, "subscription_cycle", finalize=finalize, pay=pay)

    def cancel_subscription(self, subscription_id: str) -> dict[str, Any]:
        subscription = self.get(subscription_id, "subscription")
        subscription["status"] = "canceled"
        self.emit("customer.subscription.deleted", subscription)
        return subscription


def _list(objects: list[dict[str, Any]], fake: FakeStripe, url: str, limit: int) -> dict[str, Any]:
    starting_after = request.values.get("starting_after")
    if starting_after:
        ids = [o["id"] for o in objects]
        objects = objects[ids.index(starting_after) + 1 :] if starting_after in ids else []
    page = objects[:limit]
    return {
        "object": "list",
        "url": url,
        "has_more": len(objects) > limit,
        "data": [fake.render(o) for o in page],
    }


def create_app(fake: FakeStripe) -> Flask:
    """The fake's WSGI app. Every /v1 request needs `Authorization: Bearer sk_test_…`."""
    app = Flask(__name__)
    form = lambda: parse_form(list(request.form.items(multi=True)))  # noqa: E731

    routes: dict[tuple[str, str], Callable[..., Any]] = {
        ("POST", "customers"): lambda: fake.create_customer(form()),
        ("POST", "products"): lambda: fake.create_product(form()),
        ("POST", "prices"): lambda: fake.create_price(form()),
        ("POST", "subscriptions"): lambda: fake.create_subscription(form()),
        ("POST", "invoiceitems"): lambda: fake.create_invoice_item(form()),
        ("POST", "invoices"): lambda: fake.create_invoice(form()),
        ("POST", "credit_notes"): lambda: fake.create_credit_note(form()),
    }

    @app.errorhandler(StripeFakeError)
    def stripe_error(error: StripeFakeError) -> Response:
        body = {"error": {"type": "invalid_request_error", "message": error.message}}
        if error.param:
            body["error"]["param"] = error.param
        if error.code:
            body["error"]["code"] = error.code
        return Response(json.dumps(body), error.status, mimetype="application/json")

    @app.before_request
    def authenticate() -> Response | None:
        if not request.path.startswith("/v1/"):
            return None
        key = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not key.startswith(("sk_test_", "rk_test_")):
            body = {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided."}}
            return Response(json.dumps(body), 401, mimetype="application/json")
        return None

    def answer(produce: Callable[[], Any]) -> Response:
        # Stripe answers a repeated Idempotency-Key with the first response, unchanged.
        with fake.lock:
            key = request.headers.get("Idempotency-Key") if request.method == "POST" else None
            if key and (key, request.path) in fake.idempotent:
                status, body = fake.idempotent[(key, request.path)]
                return Response(
                    body, status, mimetype="application/json", headers={"Idempotent-Replayed": "true"}
                )
            try:
                result = produce()
                status, body = 200, json.dumps(fake.render(result) if "object" in result else result)
            except StripeFakeError as error:
                status, body = error.status, stripe_error(error).get_data(as_text=True)
            if key and status < 500:
                fake.idempotent[(key, request.path)] = (status, body)
            return Response(body, status, mimetype="application/json")

    @app.post("/v1/<collection>")
    def create(collection: str) -> Response:
        route = routes.get(("POST", collection))
        if route is None:
            raise StripeFakeError(404, f"Unrecognized request URL (POST: /v1/{collection}).")
        return answer(route)

    kinds = {
        "customers": "customer",
        "products": "product",
        "prices": "price",
        "subscriptions": "subscription",
        "invoiceitems": "invoiceitem",
        "invoices": "invoice",
        "credit_notes": "credit_note",
        "events": "event",
    }

    @app.get("/v1/<collection>/<object_id>")
    def retrieve(collection: str, object_id: str) -> Response:
        if collection == "events":
            found = next((e for e in fake.events if e["id"] == object_id), None)
            if found is None:
                raise StripeFakeError(404, f"No such event: '{object_id}'", "id", "resource_missing")
            return answer(lambda: found)
        if collection not in kinds:
            raise StripeFakeError(404, f"Unrecognized request URL (GET: /v1/{collection}/{object_id}).")
        return answer(lambda: fake.get(object_id, kinds[collection]))

    @app.get("/v1/<collection>")
    def list_objects(collection: str) -> Response:
        limit = min(int(request.values.get("limit", 10)), 100)
        query = request.values.to_dict()
        if collection == "invoices":
            return answer(lambda: _list(fake.list_invoices(query), fake, "/v1/invoices", limit))
        if collection == "credit_notes":
            return answer(lambda: _list(fake.list_credit_notes(query), fake, "/v1/credit_notes", limit))
        if collection == "invoiceitems":
            items = [
                o
                for o in fake.objects.values()
                if o["object"] == "invoiceitem"
                and o["customer"] == query.get("customer", o["customer"])
                and (query.get("pending") != "true" or not o["invoice"])
            ]
            return answer(lambda: _list(items, fake, "/v1/invoiceitems", limit))
        if collection == "events":
            return answer(lambda: _list(list(reversed(fake.events)), fake, "/v1/events", limit))
        raise StripeFakeError(404, f"Unrecognized request URL (GET: /v1/{collection}).")

    @app.post("/v1/invoices/<invoice_id>/<action>")
    def invoice_action(invoice_id: str, action: str) -> Response:
        actions = {
            "finalize": lambda: fake.finalize_invoice(invoice_id),
            "pay": lambda: fake.pay_invoice(invoice_id, form()),
            "void": lambda: fake.void_invoice(invoice_id),
            "send": lambda: fake.send_invoice(invoice_id),
        }
        if action not in actions:
            raise StripeFakeError(
                404, f"Unrecognized request URL (POST: /v1/invoices/{invoice_id}/{action})."
            )
        return answer(actions[action])

    @app.delete("/v1/invoiceitems/<item_id>")
    def delete_item(item_id: str) -> Response:
        return answer(lambda: fake.delete_invoice_item(item_id))

    @app.delete("/v1/subscriptions/<subscription_id>")
    def cancel(subscription_id: str) -> Response:
        return answer(lambda: fake.cancel_subscription(subscription_id))

    @app.post("/_fake/subscriptions/<subscription_id>/renew")
    def renew(subscription_id: str) -> Response:
        finalize = request.values.get("finalize", "true") == "true"
        pay = request.values.get("pay", "true") == "true"
        return answer(lambda: fake.renew(subscription_id, finalize=finalize, pay=pay))

    @app.post("/_fake/webhooks/flush")
    def flush() -> Response:
        events = fake.take_outbox()
        for event in events:
            fake.post_event(event)
        return Response(json.dumps({"delivered": len(events)}), mimetype="application/json")

    return app
