"""The shop: a product catalogue with stock, customers, and orders that move through a lifecycle.

An order is ``placed`` (cancellable; cancelling returns its items to stock), then ``shipped``,
then ``delivered`` (refundable). Placing an order takes items out of stock. Domain errors:
unknown ids, quantities above stock, and cancelling or refunding in the wrong status.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from turngym.tasks.toolworlds.scenario import Predicate, Scenario, ask, call
from turngym.tasks.toolworlds.world import ToolWorld, dollars, email_of, next_id, people, pick, require
from turngym.tools import ToolError

COLOURS = ("Blue", "Red", "Green", "Black", "White")
ITEMS = (
    ("Kettle", "kitchen"),
    ("Backpack", "travel"),
    ("Desk Lamp", "home"),
    ("Water Bottle", "outdoor"),
    ("Headphones", "electronics"),
    ("Notebook", "office"),
    ("Umbrella", "outdoor"),
    ("Mug", "kitchen"),
)
STATUSES = ("placed", "shipped", "delivered")


@dataclass
class Product:
    sku: str
    name: str
    category: str
    price_cents: int
    stock: int


@dataclass
class Customer:
    email: str
    name: str


@dataclass
class OrderItem:
    sku: str
    quantity: int
    unit_price_cents: int


@dataclass
class Order:
    id: str
    customer_email: str
    items: list[OrderItem]
    status: str  # placed | shipped | delivered | cancelled | refunded
    total_cents: int


@dataclass
class ShopWorld(ToolWorld):
    name: ClassVar[str] = "shop"
    tool_methods: ClassVar[tuple[str, ...]] = (
        "lookup_customer",
        "search_products",
        "get_product",
        "list_orders",
        "get_order",
        "place_order",
        "cancel_order",
        "refund_order",
    )

    products: dict[str, Product] = field(default_factory=dict)
    customers: dict[str, Customer] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)

    @classmethod
    def generate(cls, rng: np.random.Generator) -> ShopWorld:
        world = cls()
        names = sorted({(pick(rng, COLOURS), pick(rng, ITEMS)) for _ in range(12)})
        for colour, (item, category) in names:
            sku = next_id("SKU-", world.products, start=101)
            price = int(rng.integers(5, 120)) * 100 + pick(rng, (0, 49, 99))
            world.products[sku] = Product(sku, f"{colour} {item}", category, price, int(rng.integers(0, 25)))
        for first, last in people(rng, 4):
            email = email_of(first, last, "shop.example")
            world.customers[email] = Customer(email, f"{first} {last}")
        statuses = list(STATUSES) * 3
        rng.shuffle(statuses)
        emails = list(world.customers)
        for i, status in enumerate(statuses[: int(rng.integers(6, 10))]):
            chosen = pick(rng, list(world.products.values()), int(rng.integers(1, 3)))
            items = [OrderItem(p.sku, int(rng.integers(1, 4)), p.price_cents) for p in chosen]
            order_id = next_id("ORD-", world.orders, start=5001)
            total = sum(it.quantity * it.unit_price_cents for it in items)
            world.orders[order_id] = Order(order_id, emails[i % len(emails)], items, status, total)
        return world

    # -- tools -----------------------------------------------------------------------------

    def lookup_customer(self, name: str) -> list[dict[str, Any]]:
        """Find shop customers whose name contains the given text (case-insensitive).

        Args:
            name: Full or partial customer name.
        """
        needle = name.strip().lower()
        return [
            {"email": c.email, "name": c.name} for c in self.customers.values() if needle and needle in c.name.lower()
        ]

    def search_products(self, query: str) -> list[dict[str, Any]]:
        """Search the catalogue by product name or category (case-insensitive substring).

        Args:
            query: Text to look for, e.g. "kettle" or "kitchen".
        """
        needle = query.strip().lower()
        return [
            self._product_view(p)
            for p in self.products.values()
            if needle and (needle in p.name.lower() or needle in p.category)
        ]

    def get_product(self, sku: str) -> dict[str, Any]:
        """Get one product's name, price and stock.

        Args:
            sku: The product's SKU, e.g. "SKU-101".
        """
        return self._product_view(require(self.products, sku, "product"))

    def list_orders(self, customer_email: str) -> list[dict[str, Any]]:
        """List a customer's orders with their status and total (items via get_order).

        Args:
            customer_email: The customer's email address.
        """
        self._customer(customer_email)
        return [
            {"order_id": o.id, "status": o.status, "total": dollars(o.total_cents)}
            for o in self.orders.values()
            if o.customer_email == customer_email
        ]

    def get_order(self, order_id: str) -> dict[str, Any]:
        """Get an order's items, status and total.

        Args:
            order_id: The order id, e.g. "ORD-5001".
        """
        order = require(self.orders, order_id, "order")
        return {
            "order_id": order.id,
            "customer_email": order.customer_email,
            "status": order.status,
            "total": dollars(order.total_cents),
            "items": [
                {
                    "sku": it.sku,
                    "name": self.products[it.sku].name,
                    "quantity": it.quantity,
                    "unit_price": dollars(it.unit_price_cents),
                }
                for it in order.items
            ],
        }

    def place_order(self, customer_email: str, sku: str, quantity: int) -> dict[str, Any]:
        """Order a quantity of one product for a customer; takes the items out of stock.

        Args:
            customer_email: Who the order is for.
            sku: The product to order.
            quantity: How many units (at least 1).
        """
        self._customer(customer_email)
        product = require(self.products, sku, "product")
        if quantity < 1:
            raise ToolError(f"quantity must be at least 1, got {quantity}.")
        if product.stock < quantity:
            raise ToolError(f"Only {product.stock} of {product.sku} ({product.name}) in stock; {quantity} requested.")
        product.stock -= quantity
        order_id = next_id("ORD-", self.orders, start=5001)
        items = [OrderItem(sku, quantity, product.price_cents)]
        self.orders[order_id] = Order(order_id, customer_email, items, "placed", quantity * product.price_cents)
        return {"order_id": order_id, "status": "placed", "total": dollars(quantity * product.price_cents)}

    def cancel_order(self, order_id: str) -> dict[str, Any]:
        """Cancel an order that has not shipped yet; its items go back to stock.

        Args:
            order_id: The order to cancel.
        """
        order = self._order_in(order_id, "placed", "cancelled")
        order.status = "cancelled"
        for item in order.items:
            self.products[item.sku].stock += item.quantity
        return {"order_id": order_id, "status": "cancelled"}

    def refund_order(self, order_id: str) -> dict[str, Any]:
        """Refund a delivered order in full.

        Args:
            order_id: The order to refund.
        """
        order = self._order_in(order_id, "delivered", "refunded")
        order.status = "refunded"
        return {"order_id": order_id, "status": "refunded", "refunded": dollars(order.total_cents)}

    # -- helpers ---------------------------------------------------------------------------

    def _order_in(self, order_id: str, status: str, becomes: str) -> Order:
        """The order, if it is in the one status from which it may become ``becomes``."""
        order = require(self.orders, order_id, "order")
        if order.status != status:
            raise ToolError(f"Order {order_id} is {order.status}; only {status} orders can be {becomes}.")
        return order

    def _customer(self, email: str) -> Customer:
        if email not in self.customers:
            raise ToolError(f"No customer with email {email!r}.")
        return self.customers[email]

    @staticmethod
    def _product_view(p: Product) -> dict[str, Any]:
        return {"sku": p.sku, "name": p.name, "category": p.category, "price": dollars(p.price_cents), "stock": p.stock}

    def orders_of(self, email: str, status: str | None = None) -> list[Order]:
        return [o for o in self.orders.values() if o.customer_email == email and status in (None, o.status)]

    def in_stock(self, at_least: int = 1) -> list[Product]:
        return [p for p in self.products.values() if p.stock >= at_least]


# ---------------------------------------------------------------------------------------------
# Task templates


def _status(order: Order, status: str) -> Predicate:
    return Predicate(f"{order.id} is {status}", ("shop", "orders", order.id, "status"), "eq", status)


def _stock(product: Product, stock: int) -> Predicate:
    return Predicate(f"{product.sku} stock is {stock}", ("shop", "products", product.sku, "stock"), "eq", stock)


def _restocked(w: ShopWorld, order: Order) -> list[Predicate]:
    """Stock after cancelling ``order`` (an order may hold the same SKU once only)."""
    return [_stock(w.products[it.sku], w.products[it.sku].stock + it.quantity) for it in order.items]


def _next_order_id(w: ShopWorld) -> str:
    return next_id("ORD-", w.orders, start=5001)


def _new_order(w: ShopWorld, email: str, product: Product, quantity: int) -> list[Predicate]:
    order_id = _next_order_id(w)
    base = ("shop", "orders", order_id)
    return [
        Predicate(f"{order_id} is for {email}", (*base, "customer_email"), "eq", email),
        Predicate(
            f"{order_id} orders {quantity} x {product.sku}",
            (*base, "items", 0),
            "eq",
            {"sku": product.sku, "quantity": quantity, "unit_price_cents": product.price_cents},
        ),
    ]


def cancel_by_id(w: ShopWorld, rng: np.random.Generator) -> Scenario | None:
    placed = [o for o in w.orders.values() if o.status == "placed"]
    if not placed:
        return None
    order = pick(rng, placed)
    return Scenario(
        f"Please cancel order {order.id}.",
        [[call("cancel_order", order_id=order.id)]],
        [_status(order, "cancelled"), *_restocked(w, order)],
    )


def stock_question(w: ShopWorld, rng: np.random.Generator) -> Scenario:
    product = pick(rng, list(w.products.values()))
    return Scenario(
        f"How many units of the {product.name} do we have in stock?",
        [[call("search_products", query=product.name)]],
        answer=[f"{product.stock}"],
    )


def cancel_shipped(w: ShopWorld, rng: np.random.Generator) -> Scenario | None:
    shipped = [o for o in w.orders.values() if o.status in ("shipped", "delivered")]
    if not shipped:
        return None
    order = pick(rng, shipped)
    return Scenario(
        f"Please cancel order {order.id}.",
        [[call("get_order", order_id=order.id)]],
        [_status(order, order.status)],
        expect_impossible=True,
        blocked_calls=[call("cancel_order", order_id=order.id)],
    )


def buy_for_customer(w: ShopWorld, rng: np.random.Generator) -> Scenario | None:
    products = w.in_stock(2)
    if not products:
        return None
    product, customer = pick(rng, products), pick(rng, list(w.customers.values()))
    quantity = int(rng.integers(1, min(product.stock, 4) + 1))
    return Scenario(
        f"Order {quantity} x {product.name} for our customer {customer.name}.",
        [
            [call("lookup_customer", name=customer.name), call("search_products", query=product.name)],
            [call("place_order", customer_email=customer.email, sku=product.sku, quantity=quantity)],
        ],
        [*_new_order(w, customer.email, product, quantity), _stock(product, product.stock - quantity)],
    )


def refund_delivered(w: ShopWorld, rng: np.random.Generator) -> Scenario | None:
    candidates = [c for c in w.customers.values() if len(w.orders_of(c.email, "delivered")) == 1]
    if not candidates:
        return None
    customer = pick(rng, candidates)
    order = w.orders_of(customer.email, "delivered")[0]
    return Scenario(
        f"{customer.name} ({customer.email}) is unhappy with their delivered order and wants a refund.",
        [[call("list_orders", customer_email=customer.email)], [call("refund_order", order_id=order.id)]],
        [_status(order, "refunded")],
    )


def cancel_unshipped(w: ShopWorld, rng: np.random.Generator) -> Scenario | None:
    candidates = [c for c in w.customers.values() if w.orders_of(c.email, "placed")]
    if not candidates:
        return None
    customer = pick(rng, candidates)
    placed = w.orders_of(customer.email, "placed")
    predicates = [_status(o, "cancelled") for o in placed]
    stock = {sku: p.stock for sku, p in w.products.items()}
    for order in placed:
        for item in order.items:
            stock[item.sku] += item.quantity
    predicates += [_stock(w.products[s], n) for s, n in stock.items() if n != w.products[s].stock]
    return Scenario(
        f"Cancel every order of {customer.email} that has not shipped yet.",
        [[call("list_orders", customer_email=customer.email)], [call("cancel_order", order_id=o.id) for o in placed]],
        predicates,
    )


def clarify_quantity(w: ShopWorld, rng: np.random.Generator) -> Scenario | None:
    products = w.in_stock(2)
    if not products:
        return None
    product, customer = pick(rng, products), pick(rng, list(w.customers.values()))
    quantity = int(rng.integers(2, min(product.stock, 5) + 1))
    return Scenario(
        f"Order some {product.name}s for {customer.email}.",
        [
            [ask("How many should I order?"), call("search_products", query=product.name)],
            [call("place_order", customer_email=customer.email, sku=product.sku, quantity=quantity)],
        ],
        [*_new_order(w, customer.email, product, quantity), _stock(product, product.stock - quantity)],
        clarification=f"{quantity} of them, please.",
    )


def over_stock(w: ShopWorld, rng: np.random.Generator) -> Scenario:
    product, customer = pick(rng, list(w.products.values())), pick(rng, list(w.customers.values()))
    quantity = product.stock + int(rng.integers(1, 10))
    return Scenario(
        f"Order {quantity} x {product.name} for our customer {customer.name}.",
        [[call("lookup_customer", name=customer.name), call("search_products", query=product.name)]],
        [_stock(product, product.stock), Predicate("no new order", ("shop", "orders", _next_order_id(w)), "absent")],
        expect_impossible=True,
        blocked_calls=[call("place_order", customer_email=customer.email, sku=product.sku, quantity=quantity)],
    )


def _find_order_by_product(w: ShopWorld, customer: Customer, order: Order) -> list[list[dict[str, Any]]]:
    """Gold turns to find which of a customer's orders holds a product: look up, list, open each."""
    return [
        [call("lookup_customer", name=customer.name)],
        [call("list_orders", customer_email=customer.email)],
        [call("get_order", order_id=o.id) for o in w.orders_of(customer.email)],
    ]


def _unique_order(w: ShopWorld, rng: np.random.Generator, status: str | None, exclude_status: str | None = None):
    """(customer, order, product) where the product appears in only that order of the customer."""
    options = []
    for o in w.orders.values():
        if (status and o.status != status) or (exclude_status and o.status == exclude_status):
            continue
        for it in o.items:
            holders = [x for x in w.orders_of(o.customer_email) if any(i.sku == it.sku for i in x.items)]
            if len(holders) == 1:
                options.append((w.customers[o.customer_email], o, w.products[it.sku]))
    return pick(rng, options) if options else None


def swap_order(w: ShopWorld, rng: np.random.Generator) -> Scenario | None:
    found = _unique_order(w, rng, "placed")
    if not found:
        return None
    customer, order, product = found
    others = [p for p in w.in_stock(1) if all(p.sku != it.sku for it in order.items)]
    if not others:
        return None
    new = pick(rng, others)
    turns = _find_order_by_product(w, customer, order)
    turns[0].append(call("search_products", query=new.name))
    turns.append(
        [
            call("cancel_order", order_id=order.id),
            call("place_order", customer_email=customer.email, sku=new.sku, quantity=1),
        ]
    )
    return Scenario(
        f"{customer.name} wants to cancel their order that contains the {product.name} and "
        f"instead order one {new.name}.",
        turns,
        [
            _status(order, "cancelled"),
            *_restocked(w, order),
            *_new_order(w, customer.email, new, 1),
            _stock(new, new.stock - 1),
        ],
    )


def refund_and_reorder(w: ShopWorld, rng: np.random.Generator) -> Scenario | None:
    found = _unique_order(w, rng, "delivered")
    if not found:
        return None
    customer, order, product = found
    item = next(it for it in order.items if it.sku == product.sku)
    if product.stock < item.quantity:
        return None
    turns = _find_order_by_product(w, customer, order)
    turns.append(
        [
            call("refund_order", order_id=order.id),
            call("place_order", customer_email=customer.email, sku=product.sku, quantity=item.quantity),
        ]
    )
    return Scenario(
        f"The {product.name} in {customer.name}'s delivered order arrived broken. Refund that order "
        f"and place a new order for the same quantity of {product.name}.",
        turns,
        [
            _status(order, "refunded"),
            *_new_order(w, customer.email, product, item.quantity),
            _stock(product, product.stock - item.quantity),
        ],
    )


def clarify_which_order(w: ShopWorld, rng: np.random.Generator) -> Scenario | None:
    found = _unique_order(w, rng, "placed")
    if not found:
        return None
    customer, order, product = found
    turns = _find_order_by_product(w, customer, order)
    turns[0].insert(0, ask("Which order should I cancel?"))
    turns.append([call("cancel_order", order_id=order.id)])
    return Scenario(
        f"{customer.name} wants to cancel one of their orders.",
        turns,
        [_status(order, "cancelled"), *_restocked(w, order)],
        clarification=f"The one with the {product.name} in it.",
    )


def refund_undelivered(w: ShopWorld, rng: np.random.Generator) -> Scenario | None:
    found = _unique_order(w, rng, None, exclude_status="delivered")
    if not found:
        return None
    customer, order, product = found
    return Scenario(
        f"{customer.name} wants a refund for their order containing the {product.name}.",
        _find_order_by_product(w, customer, order),
        [_status(order, order.status)],
        expect_impossible=True,
        blocked_calls=[call("refund_order", order_id=order.id)],
    )


SCENARIOS: dict[str, list[Callable[[ShopWorld, np.random.Generator], Scenario | None]]] = {
    "easy": [cancel_by_id, stock_question, cancel_shipped],
    "medium": [buy_for_customer, refund_delivered, cancel_unshipped, clarify_quantity, over_stock],
    "hard": [swap_order, refund_and_reorder, clarify_which_order, refund_undelivered],
}
