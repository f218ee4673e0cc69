"""Extensions, created unbound at import and attached by `create_app` with `init_app`."""

from saas.api.errors import ChamyeoApi
from saas.db import Database
from saas.queue import Queues

db = Database()
queues = Queues()
api = ChamyeoApi()
