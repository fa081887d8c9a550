"""The moderators' desk: a page of its own inside the admin site (``/admin/moderation/desk/``).

It reads through ``moderation.cards``/``moderation.selectors`` and decides through
``moderation.services``/``moderation.casework``, exactly as the API does; it holds
no rules of its own. Server-rendered, working without JavaScript; ``desk.js`` adds
keyboard shortcuts (j/k to move, a/r/s to decide).
"""
