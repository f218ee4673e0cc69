"""Extensions, created unbound at import and attached by `create_app` with `init_app`.

`db` builds each app an engine of its own in `init_app` (kept in `app.extensions`) and, in a
process without an app (a worker), holds the engine built at its start. `queues` and `api`
still bind to the app that called `init_app` last: one web app a process, as today."""

from saas.core.api.errors import ChamyeoApi
from saas.core.db import Database
from saas.core.queue import Queues

db = Database()
queues = Queues()
api = ChamyeoApi()
