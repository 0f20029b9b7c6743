"""Microneedling demo records: cartridges and rollers with lots, a few past sessions and tomorrow's bookings."""

from datetime import timedelta

from clinicadmin.extensions import db
from clinicadmin.models import Product


def add_demo(demo, key):
    cartridge = demo.product(
        "MN-CART-12",
        "Microneedling pen cartridge, 12-pin",
        "cartridge",
        "cartridge",
        10,
        single_use=True,
        reorder_level=10,
        unit_cost="3.50",
    )
    demo.lot(cartridge, "C-2412", 400, 3)
    demo.lot(cartridge, "C-2405", 20, 1)  # expires soon: FEFO uses it first
    roller = demo.product(
        "MN-ROLL-05", "Derma roller 0.5 mm", "roller", "roller", 1, single_use=True, reorder_level=2, unit_cost="12.00"
    )
    demo.lot(roller, "R-0915", 500, 4)
    for name in ("Pen A (Dermapen)", "Pen B (Dermapen)"):
        demo.resource("microneedling_pen", name)
    if demo.has_treatments(key):
        return
    serum = db.session.execute(db.select(Product).where(Product.sku == "SER-HA-30")).scalar_one_or_none()
    for i, client in enumerate(demo.clients[12:18]):
        demo.past_session(
            client,
            key,
            {
                "device": "pen",
                "needle_product": cartridge.id,
                "needle_depth_mm": ["0.50", "1.00", "1.50", "2.00"][i % 4],
                "areas": ["face"],
                "passes": 3,
                "serum_product": serum.id if serum else None,
                "serum_ml": "1.00" if serum else None,
                "skin_reaction": "mild_erythema",
            },
            days_ago=3 + 5 * i,
        )
    # Tomorrow's list: a pregnant client (blocked), a diabetic client (warning) and a healthy one (clear).
    for hour, client in ((10, demo.clients[0]), (11, demo.clients[3]), (14, demo.clients[20])):
        demo.booking(client, key, demo.at(0, hour) + timedelta(days=1))
