"""Comment themes: what customers write about, found with TF-IDF and NMF.

Each comment becomes a TF-IDF vector (scikit-learn's ``TfidfVectorizer``, English
stop words, words and two-word phrases seen in at least two comments); non-negative
matrix factorisation (``sklearn.decomposition.NMF``, NNDSVD start, so the same
comments always give the same themes) splits the comment × term matrix into
comment × theme and theme × term parts (Lee & Seung 1999). A theme is described by
its heaviest terms; a comment belongs to the theme it loads on most.

Pure: texts in, themes out. Which comments may be analysed at all (only groups at
or above the comment threshold) is decided by the caller.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: Fewer comments than this give no themes: NMF would only echo single comments.
MIN_COMMENTS = 6
TOP_TERMS = 5


@dataclass(frozen=True, slots=True)
class Theme:
    """One theme: its top terms (heaviest first) with their weights, and how many
    comments load on it most."""

    terms: tuple[str, ...]
    weights: tuple[float, ...]
    comments: int


@dataclass(frozen=True, slots=True)
class Themes:
    """The themes of a set of comments and each comment's theme (index into
    ``themes``; −1 for a comment with no known term)."""

    themes: tuple[Theme, ...]
    assignment: tuple[int, ...]


def theme_count(comments: int) -> int:
    """A default number of themes: about one per eight comments, 2 to 6."""
    return max(2, min(6, comments // 8))


def comment_themes(
    texts: Sequence[str],
    themes: int | None = None,
    top_terms: int = TOP_TERMS,
    seed: int = 0,
) -> Themes:
    """Themes of ``texts`` by TF-IDF + NMF (see the module docstring). Returns no
    themes for fewer than :data:`MIN_COMMENTS` comments or too few shared terms."""
    # Imported here: scikit-learn and the pandas under it are slow imports only themes need.
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import TfidfVectorizer

    cleaned = [t.strip() for t in texts]
    if len([t for t in cleaned if t]) < MIN_COMMENTS:
        return Themes((), tuple(-1 for _ in cleaned))
    vectorizer = TfidfVectorizer(
        stop_words="english", ngram_range=(1, 2), min_df=2, sublinear_tf=True
    )
    try:
        matrix = vectorizer.fit_transform(cleaned)
    except ValueError:  # no term appears in two comments
        return Themes((), tuple(-1 for _ in cleaned))
    k = themes if themes is not None else theme_count(len(cleaned))
    k = max(1, min(k, matrix.shape[1], matrix.shape[0] - 1))
    model = NMF(n_components=k, init="nndsvd", random_state=seed, max_iter=5000, tol=1e-6)
    weights = model.fit_transform(matrix)
    terms = vectorizer.get_feature_names_out()
    assignment = np.where(weights.max(axis=1) > 0, weights.argmax(axis=1), -1)
    found: list[Theme] = []
    for j, row in enumerate(model.components_):
        top = np.argsort(-row, kind="stable")[:top_terms]
        top = top[row[top] > 0]
        found.append(
            Theme(
                tuple(str(terms[i]) for i in top),
                tuple(float(row[i]) for i in top),
                int((assignment == j).sum()),
            )
        )
    # Keep themes some comment belongs to, biggest first; renumber the assignment.
    order = [
        j for j in np.argsort([-t.comments for t in found], kind="stable") if found[j].comments
    ]
    renumber = {int(old): new for new, old in enumerate(order)}
    return Themes(
        tuple(found[j] for j in order),
        tuple(renumber.get(int(a), -1) for a in assignment.tolist()),
    )
