"""The general product categories, which any modality's products may be filed under; a plugin registers the ones
only its modality uses (a pen's cartridges) and a clinic may add its own (``PRODUCT_CATEGORIES``).

Every key a clinic could file a product under before categories were registered stays registered, here or in the
plugin that uses it, so stored products keep their category.
"""

from clinicadmin.plugin_api import ProductCategory, hookimpl

CORE_CATEGORIES = [
    ProductCategory("needle", "Needles"),
    ProductCategory("serum", "Serums"),
    ProductCategory("gel", "Gels"),
    ProductCategory("cream", "Creams"),
    ProductCategory("oil", "Oils"),
    ProductCategory("solution", "Solutions"),
    ProductCategory("consumable", "Consumables (gloves, swabs, wipes)"),
    ProductCategory("other", "Other"),
]


@hookimpl
def register_product_categories():
    return CORE_CATEGORIES
