"""A FAKE of the Stripe API: a small, stateful, in-memory HTTP server that the official
`stripe` library can talk to (point `STRIPE_API_BASE` at it).

It is not Stripe. No Stripe endpoint can be reached from our machines, and `localstripe`
models a 2017-era API (no prices, no finalize, no credit notes, no `send_invoice`), so tests
and the offline demo run against this instead. It implements only the semantics Chamyeo
relies on, after Stripe's API reference (https://docs.stripe.com/api):

- customers: create, retrieve                       (/v1/customers)
- products, prices (recurring, KRW)                 (/v1/products, /v1/prices)
- subscriptions: create (first invoice created, pending items swept in, finalized, paid),
  retrieve, cancel; renewals are advanced by hand   (/v1/subscriptions; POST
  /_fake/subscriptions/{id}/renew is the fake's own clock, not Stripe's)
- invoice items, negative amounts allowed; pending until an invoice sweeps them in, or
  placed on a draft invoice with `invoice=`; deletable while pending or on a draft
                                                    (/v1/invoiceitems)
- invoices: draft → open (finalize) → paid (pay, `paid_out_of_band`) or void; `send`;
  `pending_invoice_items_behavior` include/exclude (default exclude, as in current
  API versions); list by customer/subscription/status (/v1/invoices)
- credit notes against open or paid invoices, by `amount` (/v1/credit_notes)
- events, also delivered as signed webhooks (`Stripe-Signature`, built with
  `stripe.WebhookSignature.generate_signature_header`) (/v1/events)
- `Idempotency-Key`: a POST repeated with the same key answers the first response.

Payments always succeed: a subscription invoice is paid when finalized.
"""

from saas.dev.stripe_fake.app import FakeStripe, create_app

__all__ = ["FakeStripe", "create_app"]
