"""What makes a new staff password acceptable: Flask-Security-Too's rules (at least ``SECURITY_PASSWORD_LENGTH_MIN``
characters, and a zxcvbn score of ``SECURITY_ZXCVBN_MINIMUM_SCORE`` or more, which refuses common and guessable
passwords, including ones built from the person's own email or name)."""
from flask import current_app


def password_problem(password, **about_the_person):
    """Why ``password`` may not be used, as a message for the user, or None if it may."""
    errors, _ = current_app.security.password_util.validate(password, True, **about_the_person)
    return " ".join(errors) if errors else None
