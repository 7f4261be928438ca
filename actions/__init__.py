"""Every state change of the product: one `do_*` function per change, one module per area.

Each action runs in one database transaction that writes the rows, an audit entry and any
outbox message. Pages, bot handlers and the console call actions; they never write rows.
"""
