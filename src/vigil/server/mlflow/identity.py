"""Who a run's MLflow user is: the token's owner, never a name the client sends.

MLflow clients send a user name twice: the `user_id` field of `runs/create` and the `mlflow.user`
tag (the MLflow UI shows the tag). Both are the client's claim. A run's owner and its
`mlflow.user` tag are the authenticated actor; a different name the client sent is kept as the
`vigil.claimed_user` tag, for the record. Vigil's own run routes apply `tag_updates` too, so
that MLflow readers of those runs see no other user either.
"""

from __future__ import annotations

from collections.abc import Mapping

USER_TAG = "mlflow.user"
CLAIMED_USER_TAG = "vigil.claimed_user"


def run_tags(actor: str, tags: Mapping[str, str], user_id: str | None = None) -> dict[str, str]:
    """A new run's tags: `mlflow.user` is `actor`; the name the client claimed (its `user_id`,
    else its `mlflow.user` tag), when it is another, is `vigil.claimed_user`."""
    out = dict(tags)
    claimed = user_id or out.get(USER_TAG)
    out[USER_TAG] = actor
    if claimed and claimed != actor:
        out[CLAIMED_USER_TAG] = claimed
    return out


def tag_updates(actor: str, tags: Mapping[str, str]) -> dict[str, str]:
    """Tags set on an existing run: a `mlflow.user` value is a claim (kept as
    `vigil.claimed_user` when it is not `actor`); the recorded user does not change."""
    out = {k: v for k, v in tags.items() if k != USER_TAG}
    claimed = tags.get(USER_TAG)
    if claimed and claimed != actor:
        out[CLAIMED_USER_TAG] = claimed
    return out
