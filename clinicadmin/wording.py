"""Sentences built from registered names: the article a name takes, a name inside a sentence, a count of days, and
how a waiting period reads for each kind of health-history entry ("An isotretinoin course ended 30 days ago")."""

import re

#: Words that begin with a vowel letter but sound a consonant ("a unit"), and the reverse ("an hour").
_CONSONANT_SOUND = ("uni", "use", "usu", "uti", "ure", "uro", "eu", "one", "once", "ewe", "ubiq")
_VOWEL_SOUND = ("hour", "honest", "honour", "honor", "heir")
#: Letters whose spoken name begins with a vowel sound, for initialisms ("an MRI", "a PRP injection").
_VOWEL_LETTERS = set("AEFHILMNORSX")

#: How one waiting-period entry of each kind is named in a sentence ({a_name}: the name with its article), what the
#: date a waiting period counts from marks (the day a course ended, a procedure was done), and how an entry still
#: going on on the session's day reads ({what}: the entry as named, {name}: the bare name). A procedure counts from its
#: date; every other kind from its end date, and without one it is still going on (clinicadmin.screening).
WAITING_WORDS = {
    "medication": ("{a_name_course}", "ended", "the client is still taking {name}"),
    "procedure": ("{a_name}", "was done", "{what} is ongoing"),
    "condition": ("{a_name}", "resolved", "{what} is ongoing"),
    "state": ("{name}", "ended", "{what} is ongoing"),
    "allergy": ("{name}", "ended", "{what} is ongoing"),
}
#: What screening does at each severity, in words.
SEVERITY_EFFECT = {"block": "blocks the session", "warn": "gives a warning", "info": "notes it"}


def _initialism(word):
    return len(word) > 1 and word.isupper() and word.isalpha()


def article(phrase):
    """ "a" or "an" for ``phrase``, by the sound of its first word."""
    first = re.split(r"[\s/()-]+", phrase.strip())[0] if phrase.strip() else ""
    if not first:
        return "a"
    if _initialism(first):
        return "an" if first[0] in _VOWEL_LETTERS else "a"
    lower = first.lower()
    if lower.startswith(_VOWEL_SOUND):
        return "an"
    if lower.startswith(_CONSONANT_SOUND):
        return "a"
    return "an" if lower[0] in "aeiou" else "a"


def with_article(phrase):
    return f"{article(phrase)} {phrase}"


def in_sentence(name):
    """A registered name as it reads inside a sentence: "Dermal filler" becomes "dermal filler", "PRP" stays."""
    first = name.split(" ", 1)[0]
    if not name or _initialism(first) or (len(first) > 1 and first[1].isupper()):
        return name
    return name[0].lower() + name[1:]


def capitalised(sentence):
    return sentence[:1].upper() + sentence[1:]


def days(count):
    return f"{count} day" if count == 1 else f"{count} days"


def occurrence(name, kind):
    """One entry of a health-history code, named for a sentence: "an isotretinoin course", "a dermal filler"."""
    template = WAITING_WORDS[kind][0]
    plain = in_sentence(name)
    return template.format(a_name=with_article(plain), name=plain, a_name_course=with_article(plain + " course"))


def waiting_label(modality_label, name, kind):
    """A waiting period's setting: "Peels: days to wait after an isotretinoin course"."""
    return f"{modality_label}: days to wait after {occurrence(name, kind)}"


def waiting_help(name, kind, severity):
    """What a waiting period's setting does: "Screening gives a warning when an isotretinoin course ended fewer than
    this many days before the session, or is still ongoing"."""
    still = "" if kind == "procedure" else ", or is still ongoing"
    return (
        f"Screening {SEVERITY_EFFECT[severity]} when {occurrence(name, kind)} {WAITING_WORDS[kind][1]} fewer "
        f"than this many days before the session{still}."
    )


def waiting_message(name, kind, since, wait, ongoing=False):
    """A waiting period's finding: the entry still going on on the session's day (``ongoing``: "the client is still
    taking isotretinoin"), or how long ago the date it counts from was (0: today or undated), and the wait."""
    what = occurrence(name, kind)
    if ongoing:
        still = WAITING_WORDS[kind][2].format(what=what, name=in_sentence(name))
        return (
            f"{capitalised(still)} (no end date on record, or one on or after the session's day); the clinic waits "
            f"{days(wait)} after it ends."
        )
    if since:
        return f"{capitalised(what)} {WAITING_WORDS[kind][1]} {days(since)} ago; the clinic waits {days(wait)}."
    return (
        f"{capitalised(what)} {WAITING_WORDS[kind][1]} on the session's day or is on record without a date; the "
        f"clinic waits {days(wait)}."
    )
