"""Partner & Improve: the provider–customer relationships of the map and the work on
them (docs/partner.md).

- ``relationship``: the pairs and the check that a pair is on the map;
- ``health``: each relationship's health from its parts;
- ``workspace``: the shared notes of a relationship;
- ``action``: improvement actions and their before/after verdict;
- ``view``: one relationship as one principal may see it (the page's document).
"""
