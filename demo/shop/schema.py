"""The demo shop's schema and seed data: customers, products, orders, payments."""
from __future__ import annotations

import random

from sqlalchemy import text
from sqlalchemy.engine import Engine

DDL = [
    """CREATE TABLE IF NOT EXISTS customers (
        id serial PRIMARY KEY, email text NOT NULL UNIQUE, created_at timestamptz NOT NULL DEFAULT now())""",
    """CREATE TABLE IF NOT EXISTS products (
        id serial PRIMARY KEY, name text NOT NULL, price_cents integer NOT NULL CHECK (price_cents > 0),
        stock integer NOT NULL DEFAULT 100, description text NOT NULL DEFAULT '')""",
    """CREATE TABLE IF NOT EXISTS orders (
        id bigserial PRIMARY KEY, customer_id integer NOT NULL REFERENCES customers(id),
        total_cents integer NOT NULL, status text NOT NULL DEFAULT 'pending',
        created_at timestamptz NOT NULL DEFAULT now())""",
    """CREATE TABLE IF NOT EXISTS order_items (
        order_id bigint NOT NULL REFERENCES orders(id), product_id integer NOT NULL REFERENCES products(id),
        quantity integer NOT NULL, price_cents integer NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS payments (
        id bigserial PRIMARY KEY, order_id bigint NOT NULL REFERENCES orders(id),
        amount_cents integer NOT NULL, status text NOT NULL, provider_ms integer NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now())""",
    "CREATE INDEX IF NOT EXISTS orders_created_at_idx ON orders (created_at)",
    "CREATE INDEX IF NOT EXISTS orders_customer_idx ON orders (customer_id)",
    "CREATE INDEX IF NOT EXISTS payments_created_at_idx ON payments (created_at)",
    "CREATE INDEX IF NOT EXISTS payments_order_idx ON payments (order_id)",
    # Deliberately redundant, so the index audit has something to find.
    "CREATE INDEX IF NOT EXISTS orders_customer_created_idx ON orders (customer_id, created_at)",
    "CREATE INDEX IF NOT EXISTS products_name_idx ON products (name)",
    """CREATE MATERIALIZED VIEW IF NOT EXISTS daily_sales AS
        SELECT date_trunc('day', o.created_at) AS day, count(*) AS orders, sum(o.total_cents) AS revenue_cents
        FROM orders o WHERE o.status = 'paid' GROUP BY 1""",
    # PostgreSQL does not record when a materialized view was refreshed: shops log it.
    """CREATE TABLE IF NOT EXISTS mv_refresh_log (
        view text NOT NULL, refreshed_at timestamptz NOT NULL DEFAULT now())""",
]


def refresh_daily_sales(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("REFRESH MATERIALIZED VIEW daily_sales"))
        conn.execute(text("INSERT INTO mv_refresh_log (view) VALUES ('daily_sales')"))

ADJECTIVES = ["Red", "Blue", "Green", "Tiny", "Large", "Smart", "Classic", "Eco", "Pro", "Vintage"]
NOUNS = ["Mug", "Lamp", "Chair", "Backpack", "Kettle", "Notebook", "Headphones", "Plant", "Clock", "Scarf"]


def create(engine: Engine, *, products: int = 200, customers: int = 500, seed: int = 7) -> None:
    rng = random.Random(seed)
    with engine.begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_stat_statements"))
        for stmt in DDL:
            conn.execute(text(stmt))
        if conn.execute(text("SELECT count(*) FROM products")).scalar():
            return
        conn.execute(text("INSERT INTO products (name, price_cents, description) VALUES (:n, :p, :d)"), [
            {"n": f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} #{i}", "p": rng.randint(300, 20000),
             "d": "A fine product. " * rng.randint(1, 20)} for i in range(products)])
        conn.execute(text("INSERT INTO customers (email) VALUES (:e)"),
                     [{"e": f"customer{i}@example.test"} for i in range(customers)])
