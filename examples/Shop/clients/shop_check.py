#!/usr/bin/env python3
"""Checks a running Shop (examples/Shop) through its API: the release, the state's consistency, an order placed and
read back; with --previous, that the state carried on from an earlier check (a live update keeps it; a restart would
seed it again). Python 3 standard library only.

    shop_check.py http://127.0.0.1:5080 1 [--save before.json]
    shop_check.py http://127.0.0.1:5080 2 --previous before.json
    shop_check.py http://127.0.0.1:5080 1 --products 20000     (a shop started with --products 20000)

Exits 0 when every check passes, 1 with a message saying which failed, 2 when the shop cannot be reached.
"""
import argparse
import json
import sys
import urllib.error
import urllib.request
from decimal import Decimal

PRODUCTS = 2000  # Seed.DefaultProductCount (--products N to check a shop started with another count): the catalogue never grows or shrinks.


class CheckFailed(Exception):
    pass


class Unreachable(Exception):
    pass


def call(base, method, path, body=None, timeout=10):
    """(status, parsed JSON) of one request; an HTTP error status is returned, not raised."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null", parse_float=Decimal)
    except urllib.error.HTTPError as e:
        text = e.read()
        try:
            return e.code, json.loads(text or b"null", parse_float=Decimal)
        except ValueError:
            return e.code, text.decode(errors="replace")
    except (urllib.error.URLError, OSError) as e:
        raise Unreachable(f"{method} {path}: {e}") from e


def expect(condition, message):
    if not condition:
        raise CheckFailed(message)


def get(base, path):
    status, body = call(base, "GET", path)
    expect(status == 200, f"GET {path} answered {status}: {body}")
    return body


def money(value, what):
    """A release 2+ amount: {"amount": 12.34, "currency": "EUR"} -> Decimal."""
    expect(isinstance(value, dict) and value.get("currency") == "EUR" and isinstance(value.get("amount"), (Decimal, int)),
           f"{what} should be money with a currency, got {value!r}")
    return Decimal(value["amount"])


def check_stats(stats, major):
    expect(stats["products"] == PRODUCTS, f"stats: {stats['products']} products, expected {PRODUCTS}")
    expect(stats["orders"] >= 1, "stats: no orders (the shop opens with about 960)")
    expect(stats["consistent"] is True and stats["problem"] is None, f"stats: the shop says it is inconsistent: {stats['problem']}")
    returned = stats.get("unitsReturned", 0)
    expect(stats["stockOnHand"] == stats["initialStock"] + stats["unitsRestocked"] - stats["unitsSold"] + returned,
           f"stats: stock on hand {stats['stockOnHand']} != opening {stats['initialStock']} + restocked {stats['unitsRestocked']}"
           f" - sold {stats['unitsSold']} + returned {returned}")
    if major == 1:
        expect("revenueCents" in stats and "revenue" not in stats, "stats: release 1 reports revenueCents (a number of cents)")
        expect(stats["revenueCents"] == stats["orderTotalCents"],
               f"stats: revenue {stats['revenueCents']} != order totals {stats['orderTotalCents']} (cents)")
    else:
        expect("revenue" in stats and "revenueCents" not in stats, f"stats: release {major} reports revenue as money")
        expect(money(stats["revenue"], "revenue") == money(stats["orderTotal"], "orderTotal"),
               f"stats: revenue {stats['revenue']} != order totals {stats['orderTotal']}")
    if major >= 3:
        expect("unitsReturned" in stats and "cancelledOrders" in stats, "stats: release 3 reports unitsReturned and cancelledOrders")


def revenue_of(stats):
    return Decimal(stats["revenueCents"]).scaleb(-2) if "revenueCents" in stats else money(stats["revenue"], "revenue")


def check_carried(previous, stats):
    """The state after an update is the state before it, carried on: counters only grow (a restart would reseed them)."""
    for counter in ("orders", "unitsSold", "unitsRestocked", "simulatorTurns", "feedSequence"):
        expect(stats[counter] >= previous[counter],
               f"state not carried: {counter} went from {previous[counter]} (release {previous['version']}) to {stats[counter]}"
               f" (release {stats['version']}): the shop was started again, not updated")
    expect(stats["initialStock"] == previous["initialStock"], "state not carried: the opening stock changed")
    # The seed's ~960 orders and the first turns: a shop started again would be back near there.
    expect(stats["simulatorTurns"] > 0 or previous["simulatorTurns"] == 0, "state not carried: the simulator's turns restarted")


def price_of(product, major):
    return Decimal(product["priceCents"]).scaleb(-2) if major == 1 else money(product["price"], f"product {product['id']} price")


def stock_of(product, major):
    return product["stock"] if major == 1 else product["stock"]["onHand"]


def total_of(order, major):
    return Decimal(order["totalCents"]).scaleb(-2) if major == 1 else money(order["total"], f"order {order['id']} total")


def check(base, major, previous, out):
    version = get(base, "/api/version")
    expect(str(version.get("version", "")).split(".")[0] == str(major),
           f"/api/version says {version.get('version')!r}, expected release {major}.x")
    stats = get(base, "/api/stats")
    expect(stats["version"] == version["version"], f"/api/stats says {stats['version']}, /api/version {version['version']}")
    check_stats(stats, major)
    if previous is not None:
        check_carried(previous, stats)

    page = get(base, "/api/products?skip=0&take=200")
    expect(page["total"] == PRODUCTS and len(page["items"]) == 200, f"/api/products: total {page['total']}, {len(page['items'])} items")
    for p in page["items"]:
        price_of(p, major)  # the shape of every price
    product = max(page["items"], key=lambda p: stock_of(p, major))  # the most stock: no restock or bug in the way
    expect(stock_of(product, major) >= 1, "no product among the first 200 has stock")
    again = get(base, f"/api/products/{product['id']}")
    expect(again["id"] == product["id"] and again["name"] == product["name"], f"/api/products/{product['id']} is another product: {again}")
    status, missing = call(base, "GET", f"/api/products/{PRODUCTS + 1}")
    expect(status == 404, f"GET /api/products/{PRODUCTS + 1} answered {status}, expected 404")

    status, order = call(base, "POST", "/api/orders", {"productId": product["id"], "quantity": 1, "customer": "shop_check"})
    expect(status == 201, f"POST /api/orders answered {status}: {order}")
    expect(order["productId"] == product["id"] and order["quantity"] == 1 and order["customer"] == "shop_check",
           f"the order placed is not the one asked for: {order}")
    expect(total_of(order, major) == price_of(again, major), f"order total {total_of(order, major)} != price {price_of(again, major)}")
    read = get(base, f"/api/orders/{order['id']}")
    expect(read == order, f"GET /api/orders/{order['id']} differs from what POST answered:\n  {read}\n  {order}")
    recent = get(base, "/api/orders?take=50")
    expect(any(o["id"] == order["id"] for o in recent["items"]), f"order {order['id']} is not among the 50 most recent")
    status, bad = call(base, "POST", "/api/orders", {"productId": product["id"], "quantity": 0})
    expect(status == 400, f"an order of 0 units answered {status}, expected 400")

    if major >= 3:
        found = get(base, "/api/products/search?q=lamp&take=5")
        expect(found["total"] > 0 and all("lamp" in (p["name"] + p["category"]).lower() for p in found["items"]),
               f"search for 'lamp' found {found['total']}: {found['items'][:2]}")
        status, cancelled = call(base, "POST", f"/api/orders/{order['id']}/cancel")
        expect(status == 200 and cancelled["cancelled"] is True, f"cancelling order {order['id']} answered {status}: {cancelled}")
        status, _ = call(base, "POST", f"/api/orders/{order['id']}/cancel")
        expect(status == 409, f"cancelling order {order['id']} twice answered {status}, expected 409")
        now = get(base, f"/api/products/{product['id']}")
        status, refused = call(base, "POST", "/api/orders", {"productId": product["id"], "quantity": stock_of(now, major) + 1000})
        expect(status == 409, f"an order larger than the stock answered {status} (the stock bug is fixed in release 3): {refused}")

    after = get(base, "/api/stats")
    check_stats(after, major)
    check_carried(stats, after)
    expect(after["orders"] >= stats["orders"] + 1, f"stats: {after['orders']} orders after placing one, {stats['orders']} before")
    if out:
        with open(out, "w") as f:
            json.dump(after, f, default=float)
    return (f"ok: Shop {after['version']} at {base}: {after['products']} products, {after['orders']} orders,"
            f" revenue {revenue_of(after)} EUR, stock {after['stockOnHand']} ({after['productsBelowZero']} below zero),"
            f" simulator turn {after['simulatorTurns']}, feed event {after['feedSequence']}, consistent;"
            f" order #{order['id']} placed and read back" + (" and cancelled" if major >= 3 else "")
            + (f"; carried on from {previous['version']} ({previous['orders']} orders then)" if previous else ""))


def main():
    global PRODUCTS
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base", help="the shop's base URL, e.g. http://127.0.0.1:5080")
    parser.add_argument("major", type=int, choices=(1, 2, 3), help="the release expected: 1, 2 or 3")
    parser.add_argument("--previous", help="a stats file saved by an earlier check (--save): the state must carry on from it")
    parser.add_argument("--save", help="where to save the stats after this check")
    parser.add_argument("--products", type=int, default=PRODUCTS,
                        help=f"the products the shop was started with (its --products or SHOP_PRODUCTS; default {PRODUCTS})")
    args = parser.parse_args()
    PRODUCTS = args.products
    base = args.base.rstrip("/")
    previous = None
    if args.previous:
        with open(args.previous) as f:
            previous = json.load(f, parse_float=Decimal)
    try:
        print(check(base, args.major, previous, args.save))
        return 0
    except CheckFailed as e:
        print(f"FAIL: {e}", file=sys.stderr)
        return 1
    except Unreachable as e:
        print(f"FAIL: the shop at {base} cannot be reached: {e}", file=sys.stderr)
        return 2
    except (KeyError, TypeError, ValueError) as e:
        print(f"FAIL: an answer of the shop at {base} does not have the expected shape: {type(e).__name__}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
