"""Hero pathways, nudges, campaigns and 1:1 prompts: learning that reaches people who did not ask.

Planned in the issue "Hero pathways, nudges and campaigns"; storage tables for enrolments,
progress and the outbox already exist in `storage.models`.
"""
