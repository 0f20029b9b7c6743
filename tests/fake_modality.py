"""A fake modality plugin for the core's tests: it lets the core be proven with no shipped plugin loaded."""

from decimal import Decimal

from wtforms import DecimalField
from wtforms.validators import InputRequired, NumberRange

from clinicadmin.forms import ProductField
from clinicadmin.plugin_api import ConditionCode, Consumption, Finding, Modality, SettingSpec, hookimpl

KEY = "testmod"


class FakeModality:
    """A minimal modality: blocks pregnancy, warns on diabetes, uses one product, one setting and one condition."""

    @hookimpl
    def register_modality(self):
        return Modality(
            KEY,
            "Test modality",
            min_interval_setting="testmod.interval_days",
            consent_text="I agree to the <b>test</b> modality.",
            areas=(("face", "Face"), ("neck", "Neck")),
        )

    @hookimpl
    def register_settings(self):
        return [SettingSpec("testmod.interval_days", "Test modality interval", 7)]

    @hookimpl
    def register_conditions(self):
        return [ConditionCode("test_condition", "A test condition")]

    @hookimpl
    def treatment_form_fields(self, modality):
        if modality == KEY:
            return {
                "product": ProductField("Product", categories=["consumable"], validators=[InputRequired()]),
                "amount": DecimalField(
                    "Amount", validators=[InputRequired(), NumberRange(min=Decimal("0.1"), max=100)]
                ),
            }

    @hookimpl
    def check_contraindications(self, treatment, history, settings):
        if treatment.modality != KEY:
            return None
        found = []
        if history.active("pregnancy"):
            found.append(Finding("testmod.pregnancy", "block", "Pregnant: not allowed."))
        if history.active("diabetes"):
            found.append(Finding("testmod.diabetes", "warn", "Diabetic: take care."))
        return found

    @hookimpl
    def consumables(self, treatment):
        if treatment.modality == KEY:
            return [Consumption(treatment.details["product"], Decimal(treatment.details["amount"]))]

    @hookimpl
    def aftercare(self, treatment):
        if treatment.modality == KEY:
            return ["Rest for a day.", "Drink water."]
