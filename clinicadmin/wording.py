"""Sentences built from registered names: the article a name takes, a name inside a sentence, a count of days, and
how a waiting period reads for each kind of health-history entry ("An isotretinoin course ended 30 days ago")."""

import re

#: Words that begin with a vowel letter but sound a consonant ("a unit"), and the reverse ("an hour").
_CONSONANT_SOUND = ("uni", "use", "usu", "uti", "ure", "uro", "eu", "one", "once", "ewe", "ubiq")
_VOWEL_SOUND = ("hour", "honest", "honour", "honor", "heir")
#: Letters whose spoken name begins with a vowel sound, for initialisms ("an MRI", "a PRP injection").
_VOWEL_LETTERS = set("AEFHILMNORSX")

#: How one waiting-period entry of each kind is named in a sentence ({a_name}: the name with its article), and what
#: its date marks (the day a course ended, a procedure was done ...): waiting periods count from that date.
WAITING_WORDS = {
    "medication": ("{a_name_course}", "ended"),
    "procedure": ("{a_name}", "was done"),
    "condition": ("{a_name}", "happened"),
    "state": ("{name}", "ended"),
    "allergy": ("{name}", "was recorded"),
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
    this many days before the session"."""
    return (
        f"Screening {SEVERITY_EFFECT[severity]} when {occurrence(name, kind)} {WAITING_WORDS[kind][1]} fewer "
        "than this many days before the session."
    )


def waiting_message(name, kind, since, wait):
    """A waiting period's finding: how long ago the entry's date was (0: ongoing, today or undated), and the wait."""
    what = capitalised(occurrence(name, kind))
    if since:
        return f"{what} {WAITING_WORDS[kind][1]} {days(since)} ago; the clinic waits {days(wait)}."
    return f"{what} is on record as ongoing, dated today, or undated; the clinic waits {days(wait)}."
