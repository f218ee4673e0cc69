"""Extensions, created unbound at import and attached by `create_app` with `init_app`.

`db` and `queues` build each app its own engine and Redis connection in `init_app` (kept in
`app.extensions`) and, in a process without an app (a worker, a command), hold the ones built
at its start. `api` (flask-smorest's) binds to the app that called `init_app` last: its
blueprints and document are the same for every app, one web app a process."""

from saas.core.api.errors import ChamyeoApi
from saas.core.db import Database
from saas.core.queue import Queues

db = Database()
queues = Queues()
api = ChamyeoApi()
