"""No part of bot/ imports another part that imports it back (run `python -m devtools.import_cycles` to see why)."""

from __future__ import annotations

from pathlib import Path

from devtools.import_cycles import report


def test_the_parts_of_bot_import_each_other_in_no_cycle() -> None:
    assert report("bot") == ""


def test_a_cycle_through_a_function_level_import_is_found_with_its_files(tmp_path: Path) -> None:
    package = tmp_path / "shop"
    (package / "orders").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "orders" / "__init__.py").write_text("")
    (package / "orders" / "service.py").write_text("from shop.billing import charge\n")
    (package / "billing.py").write_text("def charge():\n    from .orders import service\n")
    (package / "notes.py").write_text("import shop.billing\n")

    assert report("shop", tmp_path).splitlines() == [
        "cycle: billing <-> orders",
        "  shop.billing -> shop.orders: shop/billing.py",
        "  shop.orders -> shop.billing: shop/orders/service.py",
    ]
