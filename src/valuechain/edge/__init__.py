"""What the pages (``web``) and the JSON API (``api``) both need at the HTTP edge:
the error map (:mod:`.errors`), who is asking and what they may do (:mod:`.dependencies`:
the current organisation, the principal, access rules, CSRF), and the Map's shared
views (:mod:`.map`). Both edges import this package; neither imports the other's
internals."""
