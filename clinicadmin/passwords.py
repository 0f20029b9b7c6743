"""What makes a new staff password acceptable: Flask-Security-Too's rules (at least ``SECURITY_PASSWORD_LENGTH_MIN``
characters and at most 128, and a zxcvbn score of ``SECURITY_ZXCVBN_MINIMUM_SCORE`` or more, which refuses common and
guessable passwords, including ones built from the person's own email or name)."""

import zxcvbn
from flask import current_app
from flask_security import PasswordUtil
from flask_security.utils import get_message, password_breached_validator, password_length_validator

#: The longest password accepted (Flask-Security's limit, and what the staff form says).
MAX_LENGTH = 128


class PasswordRules(PasswordUtil):
    """Flask-Security's password validation, with zxcvbn scoring passwords up to ``MAX_LENGTH`` characters (zxcvbn
    stops at 72 by default and raises beyond it, which refused every longer password)."""

    def validate(self, password, is_register, **kwargs):
        normalized = self.normalize(password)
        problems = password_length_validator(normalized) or password_breached_validator(normalized)
        return (problems or self._too_guessable(normalized, is_register, kwargs)), normalized

    @staticmethod
    def _too_guessable(password, is_register, about):
        config = current_app.config
        if config.get("SECURITY_PASSWORD_COMPLEXITY_CHECKER") != "zxcvbn":
            return None
        facts = about.values() if is_register else vars(about["user"]).values()
        result = zxcvbn.zxcvbn(
            password, user_inputs=[v for v in facts if v and isinstance(v, str)], max_length=MAX_LENGTH
        )
        if result["score"] >= config["SECURITY_ZXCVBN_MINIMUM_SCORE"]:
            return None
        return [result["feedback"]["warning"] or get_message("PASSWORD_TOO_SIMPLE")[0]]


def password_problem(password, **about_the_person):
    """Why ``password`` may not be used, as a message for the user, or None if it may."""
    errors, _ = current_app.security.password_util.validate(password, True, **about_the_person)
    return " ".join(errors) if errors else None
