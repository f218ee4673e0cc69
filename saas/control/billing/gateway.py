"""The one interface to Stripe: every call Chamyeo makes goes through `StripeGateway`, which
uses the official `stripe` library. Objects come back as plain dicts.

Each write takes a deterministic idempotency key naming the business event, so a retried job
gets the object the first attempt created instead of a second one.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import stripe

if TYPE_CHECKING:
    from saas.core.settings import Settings

# Used against our own fake, which checks only the key's prefix.
FAKE_API_KEY = "sk_test_chamyeo_fake"

_configured: StripeGateway | None = None
# Set once a command line process gave its settings: with no Stripe in them, current() then
# refuses rather than reading settings from the environment a second time.
_settings_given = False


class BillingNotConfigured(RuntimeError):
    """No Stripe (real or fake) is configured for this process."""


class StripeGateway:
    def __init__(self, api_key: str, api_base: str | None = None) -> None:
        base = {"api": api_base} if api_base else None
        # base_addresses is a TypedDict that stripe does not export (stripe._base_address).
        self.client = stripe.StripeClient(api_key, base_addresses=base, max_network_retries=2)  # type: ignore[arg-type]

    @staticmethod
    def _plain(obj: Any) -> dict[str, Any]:
        return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)

    def _options(self, idempotency_key: str | None) -> stripe.RequestOptions:
        return {"idempotency_key": idempotency_key} if idempotency_key else {}

    # customers, products, prices, subscriptions
    def create_customer(self, *, name: str, metadata: dict[str, str], idempotency_key: str) -> dict[str, Any]:
        return self._plain(
            self.client.v1.customers.create(
                {"name": name, "metadata": metadata}, self._options(idempotency_key)
            )
        )

    def create_product_and_price(
        self, *, name: str, amount: int, interval: str, metadata: dict[str, str], idempotency_key: str
    ) -> tuple[str, str]:
        product = self.client.v1.products.create(
            {"name": name, "metadata": metadata}, self._options(f"{idempotency_key}:product")
        )
        price = self.client.v1.prices.create(
            {
                "product": product.id,
                "unit_amount": amount,
                "currency": "krw",
                "recurring": {"interval": interval},
                "metadata": metadata,
            },
            self._options(f"{idempotency_key}:price"),
        )
        return product.id, price.id

    def create_subscription(
        self, *, customer: str, price: str, metadata: dict[str, str], idempotency_key: str
    ) -> dict[str, Any]:
        return self._plain(
            self.client.v1.subscriptions.create(
                {"customer": customer, "items": [{"price": price}], "metadata": metadata},
                self._options(idempotency_key),
            )
        )

    def retrieve_subscription(self, subscription_id: str) -> dict[str, Any]:
        return self._plain(self.client.v1.subscriptions.retrieve(subscription_id))

    # invoice items
    def create_invoice_item(
        self,
        *,
        customer: str,
        amount: int,
        description: str,
        metadata: dict[str, str],
        idempotency_key: str,
        invoice: str | None = None,
    ) -> dict[str, Any]:
        params: dict[str, Any] = {
            "customer": customer,
            "amount": amount,
            "currency": "krw",
            "description": description,
            "metadata": metadata,
        }
        if invoice:
            params["invoice"] = invoice
        # params is a plain dict (invoice only when given), not stripe's CreateParams TypedDict.
        return self._plain(self.client.v1.invoice_items.create(params, self._options(idempotency_key)))  # type: ignore[arg-type]

    def delete_invoice_item(self, item_id: str) -> None:
        self.client.v1.invoice_items.delete(item_id)

    def pending_invoice_items(self, *, customer: str) -> list[dict[str, Any]]:
        page = self.client.v1.invoice_items.list({"customer": customer, "pending": True, "limit": 100})
        return [self._plain(item) for item in page.auto_paging_iter()]

    def retrieve_invoice_item(self, item_id: str) -> dict[str, Any]:
        return self._plain(self.client.v1.invoice_items.retrieve(item_id))

    # invoices and credit notes
    def create_invoice(
        self, *, customer: str, metadata: dict[str, str], idempotency_key: str, days_until_due: int = 30
    ) -> dict[str, Any]:
        """A draft invoice sent to the customer (paid by bank transfer), pending items left out."""
        return self._plain(
            self.client.v1.invoices.create(
                {
                    "customer": customer,
                    "collection_method": "send_invoice",
                    "days_until_due": days_until_due,
                    "pending_invoice_items_behavior": "exclude",
                    "auto_advance": False,
                    "metadata": metadata,
                },
                self._options(idempotency_key),
            )
        )

    def retrieve_invoice(self, invoice_id: str) -> dict[str, Any]:
        return self._plain(self.client.v1.invoices.retrieve(invoice_id))

    def list_invoices(self, *, customer: str) -> list[dict[str, Any]]:
        page = self.client.v1.invoices.list({"customer": customer, "limit": 100})
        return [self._plain(invoice) for invoice in page.auto_paging_iter()]

    def finalize_invoice(self, invoice_id: str) -> dict[str, Any]:
        return self._plain(self.client.v1.invoices.finalize_invoice(invoice_id, {"auto_advance": False}))

    def send_invoice(self, invoice_id: str) -> dict[str, Any]:
        return self._plain(self.client.v1.invoices.send_invoice(invoice_id))

    def void_invoice(self, invoice_id: str) -> dict[str, Any]:
        return self._plain(self.client.v1.invoices.void_invoice(invoice_id))

    def create_credit_note(
        self, *, invoice: str, amount: int, memo: str, metadata: dict[str, str], idempotency_key: str
    ) -> dict[str, Any]:
        return self._plain(
            self.client.v1.credit_notes.create(
                {"invoice": invoice, "amount": amount, "memo": memo, "metadata": metadata},
                self._options(idempotency_key),
            )
        )

    def list_credit_notes(self, *, invoice: str) -> list[dict[str, Any]]:
        page = self.client.v1.credit_notes.list({"invoice": invoice, "limit": 100})
        return [self._plain(note) for note in page.auto_paging_iter()]

    # webhooks
    @staticmethod
    def construct_event(payload: bytes | str, signature: str | None, secret: str) -> dict[str, Any]:
        """Verify `Stripe-Signature` over the raw body (raises ValueError or
        stripe.SignatureVerificationError) and return the event as a dict. A signed body that
        is JSON but not an object (an array, a string) raises ValueError too: it is no event."""
        text = payload.decode("utf-8") if isinstance(payload, bytes) else payload
        stripe.WebhookSignature.verify_header(text, signature, secret, stripe.Webhook.DEFAULT_TOLERANCE)
        if not isinstance(json.loads(text), dict):
            raise ValueError("the body is not a Stripe event (a JSON object)")
        return stripe.Webhook.construct_event(payload, signature, secret).to_dict()


def from_settings(settings: Settings) -> StripeGateway | None:
    """Stripe itself with a key; our fake when only STRIPE_API_BASE is set; else none."""
    if settings.stripe_api_key:
        return StripeGateway(settings.stripe_api_key, settings.stripe_api_base)
    if settings.stripe_api_base:
        return StripeGateway(FAKE_API_KEY, settings.stripe_api_base)
    return None


def configure(settings: Settings) -> None:
    global _configured
    _configured = from_settings(settings)


def configure_unless_set(settings: Settings) -> None:
    """Configure from `settings` unless this process already has a gateway (a command line
    process, whose settings are not the environment's alone)."""
    global _settings_given
    if _configured is None:
        configure(settings)
        _settings_given = True


def use(gateway: StripeGateway | None) -> None:
    """Set this process's gateway (tests, and processes that build their own settings)."""
    global _configured
    _configured = gateway


def current() -> StripeGateway:
    """This process's gateway. A worker process (which has no app) configures it from its
    environment on first use, as `provisioning.jobs` does for the database."""
    global _configured
    if _configured is None and not _settings_given:
        from saas.core.settings import Settings

        _configured = from_settings(Settings.from_env())
    if _configured is None:
        raise BillingNotConfigured("set STRIPE_API_KEY, or STRIPE_API_BASE for the fake Stripe")
    return _configured


def is_configured() -> bool:
    try:
        current()
    except BillingNotConfigured:
        return False
    return True
