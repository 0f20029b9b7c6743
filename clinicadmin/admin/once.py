"""Forms that create something carry a one-time token, so the same submission is applied at most once."""

import secrets

from wtforms import HiddenField

from ..input_policy import PolicyFlaskForm


def new_token():
    return secrets.token_urlsafe(24)


class OnceForm(PolicyFlaskForm):
    """A form applied at most once: each rendering carries a fresh ``once`` token, which the view passes to
    :func:`clinicadmin.transitions.claim` in the step's transaction. A double click or a replayed POST sends the
    same token again and is refused; a refused step (rolled back) leaves the token free to submit again."""

    once = HiddenField(default=new_token)
