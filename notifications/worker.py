"""The RQ worker for notices (`rq worker -w notifications.worker.NoticeWorker`).

The job code (aiogram above all) takes seconds to import. Imported here, in the worker, it is
inherited by every work horse the worker forks, so a job starts at once instead of importing it
all again; nothing else is set up before the fork (no database engine, no connections).
"""

from rq.worker import Worker

import notifications.jobs  # noqa: F401 - preloaded for the forked work horses


class NoticeWorker(Worker):
    pass
