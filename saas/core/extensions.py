"""Extensions, created unbound at import and attached by `create_app` with `init_app`."""

from saas.core.api.errors import ChamyeoApi
from saas.core.db import Database
from saas.core.queue import Queues

db = Database()
queues = Queues()
api = ChamyeoApi()
