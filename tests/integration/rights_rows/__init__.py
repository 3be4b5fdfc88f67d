"""The rights matrix's rows, one module per area; test_rights_matrix.py runs them all."""

from tests.integration.rights_rows import calendar, chat, tasks
from tests.integration.rights_rows.row import Row

ROWS: list[Row] = [*chat.ROWS, *tasks.ROWS, *calendar.ROWS]

__all__ = ["ROWS", "Row"]
