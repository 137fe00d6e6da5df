"""xAPI export: learning events as xAPI 1.0.3 statements, delivered to a Learning Record Store.

    statements.py  events read from stored rows (questions, answers, steps, ratings, shares) and
                   the statement each becomes (verbs, actor, lesson objects, pillar/pathway context)
    sweep.py       records new statements and queues them in outbox batches; the JSON export
    sender.py      the outbox sender that POSTs a batch to {XAPI_ENDPOINT}/statements

Off unless XAPI_ENDPOINT is set (`bot.wiring` registers the sender; the planner tick sweeps).
"""
