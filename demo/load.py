"""Realistic traffic for the demo shop: browsing, orders and payments, reports.

Product views follow a skewed popularity (a few products are hot), so the
cache hits most of the time, as in a real shop. Every loop is bounded by a
stop event; requests go only to the shop on 127.0.0.1.
"""
from __future__ import annotations

import logging
import random
import threading

import requests

log = logging.getLogger("lookout.demo.load")


class LoadGenerator:
    def __init__(self, base_url: str, *, rate: float = 20.0, products: int = 200, customers: int = 500,
                 threads: int = 4, seed: int = 11) -> None:
        self.base_url = base_url.rstrip("/")
        self.rate = rate  # requests per second over all threads
        self.products = products
        self.customers = customers
        self.threads = threads
        self.seed = seed
        self.stop_event = threading.Event()
        self._threads: list[threading.Thread] = []
        self.sent = 0

    def start(self) -> None:
        for i in range(self.threads):
            t = threading.Thread(target=self._loop, args=(random.Random(self.seed + i),), name=f"demo-load-{i}",
                                 daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self) -> None:
        self.stop_event.set()
        for t in self._threads:
            t.join(5)

    def _product_id(self, rng: random.Random) -> int:
        # Pareto-skewed: the first few products take most views.
        return min(self.products, int(rng.paretovariate(1.2)))

    def _loop(self, rng: random.Random) -> None:
        session = requests.Session()
        pause = self.threads / self.rate
        while not self.stop_event.is_set():
            roll = rng.random()
            try:
                if roll < 0.80:
                    session.get(f"{self.base_url}/api/products/{self._product_id(rng)}", timeout=10)
                elif roll < 0.90:
                    items = [{"product_id": self._product_id(rng), "quantity": rng.randint(1, 3)}
                             for _ in range(rng.randint(1, 3))]
                    session.post(f"{self.base_url}/api/orders", timeout=10,
                                 json={"customer_id": rng.randint(1, self.customers), "items": items})
                else:
                    session.get(f"{self.base_url}/api/customers/{rng.randint(1, self.customers)}/report", timeout=10)
                self.sent += 1
            except requests.RequestException as exc:
                log.debug("demo load request failed: %s", exc)
            self.stop_event.wait(rng.expovariate(1 / pause))
