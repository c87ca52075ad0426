#!/usr/bin/python3
"""Watches the Shop's page (examples/Shop) in headless Chromium, as a person would: opens it once, waits until its live
feed shows events, then waits, without reloading the page, until the feed shows an event from a given release
(#feed-version), and saves a screenshot. Meant to run while the shop is updated live: the page stays the one first
loaded, and the new release's events arrive on the same feed.

    watch_page.py http://127.0.0.1:5080/ 2.0.0 60 /tmp/shop-v2.png [--max-opens 1]
    watch_page.py http://127.0.0.1:5080/ 1.0.0,2.0.0,3.0.0 60 /tmp/shop.png --max-opens 1 --settle 2

With several versions (comma-separated), it waits for each in turn (up to TIMEOUT seconds each), printing a JSON line
{"arrived": VERSION, ...} as each shows, so that whoever updates the shop can go on to the next release; the
screenshot is taken at the end, after the last.

Needs Debian's chromium, chromium-driver and python3-selenium (hence /usr/bin/python3). Prints one JSON line of what
the page showed. Exits 0 when the version arrived, 1 on timeout (a screenshot is saved all the same), 2 when the page
or the browser could not be opened.
"""
import argparse
import json
import sys
import time

try:
    from selenium import webdriver
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
except ImportError:
    print("FAIL: selenium is missing: apt-get install -y chromium chromium-driver python3-selenium, "
          "and run this with /usr/bin/python3", file=sys.stderr)
    sys.exit(2)


def text(driver, element_id):
    return driver.find_element(By.ID, element_id).text.strip()


def snapshot(driver, started):
    return {
        "pageVersion": text(driver, "version"),         # rendered by the release that served the page: a reload would change it
        "feedVersion": text(driver, "feed-version"),    # the release that published the last event
        "feedSentBy": text(driver, "feed-sent-by"),     # the release whose code sent it on the feed
        "events": int(text(driver, "feed-count") or 0),
        "opens": int(text(driver, "feed-opens") or 0),  # 1 while the EventSource never reconnected
        "status": text(driver, "feed-status"),
        "loads": driver.execute_script("return window.__shopLoads || 0;"),
        # The releases that published the events the list still shows (it keeps the last 40), oldest first.
        "eventVersions": driver.execute_script(
            "var seen = []; document.querySelectorAll('#events li').forEach(function (li) {"
            " if (seen.indexOf(li.dataset.version) < 0) { seen.push(li.dataset.version); } }); return seen.reverse();"),
        # Rows whose price an event rewrote with a currency (2.0.0 on): "96.88 EUR" where 1.0.0 rendered "96.88".
        "pricesWithCurrency": driver.execute_script(
            "return Array.prototype.filter.call(document.querySelectorAll('td.price'),"
            " function (td) { return / [A-Z]{3}$/.test(td.textContent.trim()); }).length;"),
        "seconds": round(time.monotonic() - started, 2),
    }


def wait_for(driver, condition, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="the page, e.g. http://127.0.0.1:5080/")
    parser.add_argument("version", help="the release whose event the feed must show, e.g. 2.0.0; or several, comma-separated, in turn")
    parser.add_argument("timeout", type=float, help="seconds to wait for it (for each), after the first events arrived")
    parser.add_argument("screenshot", help="where to save a PNG of the page")
    parser.add_argument("--first-events-timeout", type=float, default=20, help="seconds to wait for the first events (20)")
    parser.add_argument("--settle", type=float, default=0,
                        help="seconds to keep watching after the (last) version arrived, before the screenshot (0)")
    parser.add_argument("--max-opens", type=int, help="fail when the feed (re)opened more times than this (1: it never reconnected)")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    args = parser.parse_args()

    options = webdriver.ChromeOptions()
    options.binary_location = args.chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(flag)
    try:
        driver = webdriver.Chrome(service=Service(args.chromedriver), options=options)
    except WebDriverException as e:
        print(f"FAIL: Chromium could not start: {e.msg}", file=sys.stderr)
        return 2
    try:
        started = time.monotonic()
        try:
            driver.get(args.url)
            # Marks this document: a reload would make a new one without the mark.
            driver.execute_script("window.__shopLoads = 1;")
        except WebDriverException as e:
            print(f"FAIL: the page {args.url} could not be opened: {e.msg}", file=sys.stderr)
            return 2
        if not wait_for(driver, lambda: int(text(driver, "feed-count") or 0) > 0, args.first_events_timeout):
            driver.save_screenshot(args.screenshot)
            print(json.dumps(snapshot(driver, started)))
            print(f"FAIL: the feed showed no event within {args.first_events_timeout} s", file=sys.stderr)
            return 1
        first = snapshot(driver, started)
        print(json.dumps({"first": first}), flush=True)
        versions = [v.strip() for v in args.version.split(",") if v.strip()]
        for version in versions:
            arrived = wait_for(driver, lambda: text(driver, "feed-version") == version, args.timeout)
            seen = snapshot(driver, started)
            if not arrived:
                driver.save_screenshot(args.screenshot)
                print(json.dumps({"last": seen, "screenshot": args.screenshot}))
                print(f"FAIL: within {args.timeout} s the feed showed no event from version {version}"
                      f" (last from {seen['feedVersion']})", file=sys.stderr)
                return 1
            if len(versions) > 1:
                print(json.dumps({"arrived": version, **seen}), flush=True)
        if args.settle > 0:
            time.sleep(args.settle)  # A few more of the last release's events in the screenshot.
            seen = snapshot(driver, started)
        driver.save_screenshot(args.screenshot)
        print(json.dumps({"last": seen, "screenshot": args.screenshot}))
        if seen["loads"] != 1:
            print("FAIL: the page was reloaded", file=sys.stderr)
            return 1
        if args.max_opens is not None and seen["opens"] > args.max_opens:
            print(f"FAIL: the feed opened {seen['opens']} times (at most {args.max_opens} allowed): it reconnected", file=sys.stderr)
            return 1
        print(f"ok: the page first loaded from {first['pageVersion']} shows version {versions[-1]}'s events"
              f" after {seen['seconds']} s, {seen['events']} events, feed opened {seen['opens']} time(s), no reload")
        return 0
    finally:
        driver.quit()


if __name__ == "__main__":
    sys.exit(main())
