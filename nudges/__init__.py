"""Hero pathways, nudges and campaigns: learning that reaches people who did not ask.

    pathways.py   the pathway rules, once: audience, enrol, start and complete a step
    campaigns.py  campaigns: from app.yaml or chat, their schedule, clicks and joins
    kinds/        the kinds of nudge behind one interface (step, follow-up, campaign post)
    messages.py   every nudge's wording, in neutral markup
    planner.py    asks every kind what is due; caps, working hours, quiet days, opt-out, reach
    reach.py      which platform and reference each person gets nudges on
    outbox.py     payloads, the `Sender` protocol, `MemorySender`, the dispatcher
    scheduler.py  ticks (plan, dispatch) and the in-process APScheduler
    status.py     what `nudges status` shows
    hours.py, clock.py   polite times and the injectable clock

Nothing here imports a handler, an adapter or `bot.app`: which senders exist and when the
scheduler starts is wired in `bot.wiring`.
"""
