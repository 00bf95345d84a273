from messages import identify, load, value


def test_customers_total_on_both_engines(store):
    load(
        store,
        identify("c1", "2026-01-05", status="active"),
        identify("c2", "2026-02-10", status="trial"),
    )
    assert value(store, "customers.total", "2026-02-28", "this_month") == 2
    assert value(store, "customers.total", "2026-01-31", "this_month") == 1
