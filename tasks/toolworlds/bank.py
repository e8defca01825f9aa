"""The bank: customers, their checking/savings accounts and transfers between them.

State: customers, accounts (balance in integer cents, a ``frozen`` flag) and a transaction log.
Every customer has a checking account; all but one have savings; one savings account is frozen.
Domain errors: unknown ids, transfers to the same account, non-positive or sub-cent amounts,
frozen accounts and insufficient funds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from turngym.tasks.toolworlds.scenario import Predicate, Scenario, ask, call
from turngym.tasks.toolworlds.world import ToolWorld, cents, dollars, money, next_id, people, pick, require
from turngym.tools import ToolError

MEMOS = ("rent", "groceries", "salary", "utilities", "gym", "refund", "insurance", "travel")


@dataclass
class Customer:
    id: str
    name: str
    email: str


@dataclass
class Account:
    id: str
    customer_id: str
    kind: str  # "checking" | "savings"
    balance_cents: int
    frozen: bool = False


@dataclass
class Transaction:
    id: str
    account_id: str
    amount_cents: int  # positive: money in
    memo: str


@dataclass
class BankWorld(ToolWorld):
    name: ClassVar[str] = "bank"
    tool_methods: ClassVar[tuple[str, ...]] = (
        "find_customer",
        "list_accounts",
        "get_balance",
        "transfer",
        "list_transactions",
        "freeze_account",
    )

    customers: dict[str, Customer] = field(default_factory=dict)
    accounts: dict[str, Account] = field(default_factory=dict)
    transactions: dict[str, Transaction] = field(default_factory=dict)

    @classmethod
    def generate(cls, rng: np.random.Generator) -> BankWorld:
        world = cls()
        n = int(rng.integers(4, 7))
        without_savings = int(rng.integers(n))
        for i, (first, last) in enumerate(people(rng, n)):
            customer = Customer(f"C{i + 1:02d}", f"{first} {last}", f"{first.lower()}@bank.example")
            world.customers[customer.id] = customer
            kinds = ["checking"] if i == without_savings else ["checking", "savings"]
            for kind in kinds:
                account_id = next_id("ACC-", world.accounts, start=1001)
                balance = int(rng.integers(20_00, 5_000_00))
                world.accounts[account_id] = Account(account_id, customer.id, kind, balance)
                for _ in range(int(rng.integers(1, 3))):
                    tx_id = next_id("TX-", world.transactions)
                    amount = int(rng.integers(-300_00, 300_00))
                    world.transactions[tx_id] = Transaction(tx_id, account_id, amount, pick(rng, MEMOS))
        savings = [a for a in world.accounts.values() if a.kind == "savings"]
        pick(rng, savings).frozen = True
        return world

    # -- tools -----------------------------------------------------------------------------

    def find_customer(self, name: str) -> list[dict[str, Any]]:
        """Find bank customers whose name contains the given text (case-insensitive).

        Args:
            name: Full or partial customer name.
        """
        needle = name.strip().lower()
        return [
            {"customer_id": c.id, "name": c.name, "email": c.email}
            for c in self.customers.values()
            if needle and needle in c.name.lower()
        ]

    def list_accounts(self, customer_id: str) -> list[dict[str, Any]]:
        """List a customer's accounts (id, kind and whether frozen; balances via get_balance).

        Args:
            customer_id: The customer's id, e.g. "C01".
        """
        require(self.customers, customer_id, "customer")
        return [
            {"account_id": a.id, "kind": a.kind, "frozen": a.frozen}
            for a in self.accounts.values()
            if a.customer_id == customer_id
        ]

    def get_balance(self, account_id: str) -> dict[str, Any]:
        """Get the current balance of an account in dollars.

        Args:
            account_id: The account id, e.g. "ACC-1001".
        """
        account = require(self.accounts, account_id, "account")
        return {"account_id": account.id, "balance": dollars(account.balance_cents)}

    def transfer(self, from_account_id: str, to_account_id: str, amount: float) -> dict[str, Any]:
        """Move money between two accounts of this bank.

        Args:
            from_account_id: The account to take the money from.
            to_account_id: The account to put the money into.
            amount: Dollars to move, positive, at most two decimals.
        """
        source = require(self.accounts, from_account_id, "account")
        target = require(self.accounts, to_account_id, "account")
        if source.id == target.id:
            raise ToolError("Cannot transfer from an account to itself.")
        amount_cents = cents(amount)
        if amount_cents <= 0:
            raise ToolError(f"The amount must be positive, got {amount}.")
        for account in (source, target):
            if account.frozen:
                raise ToolError(f"Account {account.id} is frozen; no transfers are possible.")
        if source.balance_cents < amount_cents:
            raise ToolError(
                f"Insufficient funds: {source.id} holds {money(source.balance_cents)}, "
                f"the transfer needs {money(amount_cents)}."
            )
        source.balance_cents -= amount_cents
        target.balance_cents += amount_cents
        debit = next_id("TX-", self.transactions)
        self.transactions[debit] = Transaction(debit, source.id, -amount_cents, f"transfer to {target.id}")
        credit = next_id("TX-", self.transactions)
        self.transactions[credit] = Transaction(credit, target.id, amount_cents, f"transfer from {source.id}")
        return {"transaction_id": debit, "from_balance": dollars(source.balance_cents)}

    def list_transactions(self, account_id: str, limit: int = 5) -> list[dict[str, Any]]:
        """List an account's most recent transactions, newest first.

        Args:
            account_id: The account id.
            limit: How many transactions to return (1-50).
        """
        require(self.accounts, account_id, "account")
        if not 1 <= limit <= 50:
            raise ToolError(f"limit must be between 1 and 50, got {limit}.")
        mine = [t for t in self.transactions.values() if t.account_id == account_id]
        return [
            {"transaction_id": t.id, "amount": dollars(t.amount_cents), "memo": t.memo} for t in reversed(mine[-limit:])
        ]

    def freeze_account(self, account_id: str) -> dict[str, Any]:
        """Freeze an account so no money can move in or out (e.g. after a lost card).

        Args:
            account_id: The account to freeze.
        """
        account = require(self.accounts, account_id, "account")
        if account.frozen:
            raise ToolError(f"Account {account_id} is already frozen.")
        account.frozen = True
        return {"account_id": account_id, "frozen": True}

    # -- helpers for the task templates ----------------------------------------------------

    def account_of(self, customer_id: str, kind: str) -> Account | None:
        return next((a for a in self.accounts.values() if a.customer_id == customer_id and a.kind == kind), None)

    def owners(self, *, savings: bool, active: bool = True) -> list[Customer]:
        """Customers with a checking (and, if asked, a savings) account, none of them frozen."""
        chosen = []
        for c in self.customers.values():
            accounts = [self.account_of(c.id, "checking")] + ([self.account_of(c.id, "savings")] if savings else [])
            if all(a is not None and (not active or not a.frozen) for a in accounts):
                chosen.append(c)
        return chosen


# ---------------------------------------------------------------------------------------------
# Task templates


def _balance(account: Account, expected_cents: int) -> Predicate:
    return Predicate(
        f"{account.id} holds {money(expected_cents)}",
        ("bank", "accounts", account.id, "balance_cents"),
        "eq",
        expected_cents,
    )


def _frozen(account: Account) -> Predicate:
    return Predicate(f"{account.id} is frozen", ("bank", "accounts", account.id, "frozen"), "eq", True)


def _moved(src: Account, dst: Account, amount_cents: int) -> list[Predicate]:
    """Both balances after moving ``amount_cents`` (0: both unchanged)."""
    return [_balance(src, src.balance_cents - amount_cents), _balance(dst, dst.balance_cents + amount_cents)]


def _transfer(src: Account, dst: Account, amount_cents: int) -> dict[str, Any]:
    return call("transfer", from_account_id=src.id, to_account_id=dst.id, amount=amount_cents / 100)


def _affordable(rng: np.random.Generator, account: Account) -> int:
    """A whole-dollar amount the account can afford (at least $1)."""
    return max(1, int(rng.integers(1, max(2, account.balance_cents // 100)))) * 100


def _too_much(rng: np.random.Generator, account: Account) -> int:
    """A whole-dollar amount above the account's balance."""
    return (account.balance_cents // 100 + int(rng.integers(1, 500))) * 100


def _usd(amount_cents: int) -> str:
    return f"${amount_cents / 100:,.2f}"


def _lookups(*customers: Customer) -> list[list[dict[str, Any]]]:
    """Find each customer, then list their accounts (calls for different customers in parallel)."""
    return [
        [call("find_customer", name=c.name) for c in customers],
        [call("list_accounts", customer_id=c.id) for c in customers],
    ]


def _own_accounts(w: BankWorld, rng: np.random.Generator) -> tuple[Customer, Account, Account] | None:
    """A customer with active checking and savings accounts."""
    owners = w.owners(savings=True)
    if not owners:
        return None
    c = pick(rng, owners)
    checking, savings = w.account_of(c.id, "checking"), w.account_of(c.id, "savings")
    assert checking and savings
    return c, checking, savings


def _two_customers(w: BankWorld, rng: np.random.Generator) -> tuple[Customer, Customer, Account, Account] | None:
    """Two customers and their active checking accounts."""
    owners = w.owners(savings=False)
    if len(owners) < 2:
        return None
    payer, payee = pick(rng, owners, 2)
    src, dst = w.account_of(payer.id, "checking"), w.account_of(payee.id, "checking")
    assert src and dst
    return payer, payee, src, dst


def transfer_by_id(w: BankWorld, rng: np.random.Generator) -> Scenario | None:
    if not (found := _own_accounts(w, rng)):
        return None
    _, src, dst = found
    amount = _affordable(rng, src)
    return Scenario(
        f"Transfer {_usd(amount)} from account {src.id} to account {dst.id}.",
        [[_transfer(src, dst, amount)]],
        _moved(src, dst, amount),
    )


def balance_by_id(w: BankWorld, rng: np.random.Generator) -> Scenario:
    account = pick(rng, list(w.accounts.values()))
    return Scenario(
        f"What is the current balance of account {account.id}?",
        [[call("get_balance", account_id=account.id)]],
        answer=[money(account.balance_cents)],
    )


def overdraw_by_id(w: BankWorld, rng: np.random.Generator) -> Scenario | None:
    if not (found := _own_accounts(w, rng)):
        return None
    _, src, dst = found
    amount = _too_much(rng, src)
    return Scenario(
        f"Transfer {_usd(amount)} from account {src.id} to account {dst.id}.",
        [[call("get_balance", account_id=src.id)]],
        _moved(src, dst, 0),
        expect_impossible=True,
        blocked_calls=[_transfer(src, dst, amount)],
    )


def transfer_own_by_name(w: BankWorld, rng: np.random.Generator) -> Scenario | None:
    if not (found := _own_accounts(w, rng)):
        return None
    c, src, dst = found
    amount = _affordable(rng, src)
    return Scenario(
        f"{c.name} wants to move {_usd(amount)} from their checking account to their savings account.",
        [*_lookups(c), [_transfer(src, dst, amount)]],
        _moved(src, dst, amount),
    )


def total_balance(w: BankWorld, rng: np.random.Generator) -> Scenario | None:
    owners = w.owners(savings=True, active=False)
    if not owners:
        return None
    c = pick(rng, owners)
    mine = [a for a in w.accounts.values() if a.customer_id == c.id]
    return Scenario(
        f"What is the combined balance of all of {c.name}'s accounts?",
        [*_lookups(c), [call("get_balance", account_id=a.id) for a in mine]],
        answer=[money(sum(a.balance_cents for a in mine))],
    )


def clarify_transfer(w: BankWorld, rng: np.random.Generator) -> Scenario | None:
    if not (found := _own_accounts(w, rng)):
        return None
    c, src, dst = found
    amount = _affordable(rng, src)
    turns = [*_lookups(c), [_transfer(src, dst, amount)]]
    turns[0].insert(0, ask("How much should I move?"))
    return Scenario(
        f"Please move some money from {c.name}'s checking account into their savings account.",
        turns,
        _moved(src, dst, amount),
        clarification=f"Move {_usd(amount)}, please.",
    )


def overdraw_by_name(w: BankWorld, rng: np.random.Generator) -> Scenario | None:
    if not (found := _own_accounts(w, rng)):
        return None
    c, src, dst = found
    amount = _too_much(rng, src)
    return Scenario(
        f"{c.name} wants to move {_usd(amount)} from their checking account to their savings account.",
        [*_lookups(c), [call("get_balance", account_id=src.id)]],
        _moved(src, dst, 0),
        expect_impossible=True,
        blocked_calls=[_transfer(src, dst, amount)],
    )


def freeze_by_name(w: BankWorld, rng: np.random.Generator) -> Scenario | None:
    owners = w.owners(savings=False)
    if not owners:
        return None
    c = pick(rng, owners)
    checking = w.account_of(c.id, "checking")
    assert checking
    return Scenario(
        f"{c.name} lost their debit card. Freeze their checking account.",
        [*_lookups(c), [call("freeze_account", account_id=checking.id)]],
        [_frozen(checking)],
    )


def no_savings(w: BankWorld, rng: np.random.Generator) -> Scenario | None:
    c = next((c for c in w.customers.values() if w.account_of(c.id, "savings") is None), None)
    if c is None:
        return None
    checking = w.account_of(c.id, "checking")
    assert checking
    return Scenario(
        f"Move $50.00 from {c.name}'s savings account into their checking account.",
        _lookups(c),
        [_balance(checking, checking.balance_cents)],
        expect_impossible=True,
    )


def pay_other_customer(w: BankWorld, rng: np.random.Generator) -> Scenario | None:
    if not (found := _two_customers(w, rng)):
        return None
    payer, payee, src, dst = found
    amount = _affordable(rng, src)
    return Scenario(
        f"Send {_usd(amount)} from {payer.name}'s checking account to {payee.name}'s checking "
        f"account, then tell me {payer.name}'s new checking balance.",
        [*_lookups(payer, payee), [_transfer(src, dst, amount)]],
        _moved(src, dst, amount),
        answer=[money(src.balance_cents - amount)],
    )


def consolidate_and_freeze(w: BankWorld, rng: np.random.Generator) -> Scenario | None:
    if not (found := _own_accounts(w, rng)):
        return None
    c, checking, savings = found
    moved = savings.balance_cents
    return Scenario(
        f"{c.name} is closing their savings account: move its entire balance into their checking "
        "account, then freeze the savings account.",
        [
            *_lookups(c),
            [call("get_balance", account_id=savings.id)],
            [_transfer(savings, checking, moved)],
            [call("freeze_account", account_id=savings.id)],
        ],
        [*_moved(savings, checking, moved), _frozen(savings)],
    )


def clarify_pay_other(w: BankWorld, rng: np.random.Generator) -> Scenario | None:
    if not (found := _two_customers(w, rng)):
        return None
    payer, payee, src, dst = found
    amount = _affordable(rng, src)
    turns = [*_lookups(payer, payee), [_transfer(src, dst, amount)]]
    turns[0].insert(0, ask("How much should be paid?"))
    return Scenario(
        f"{payer.name} owes {payee.name} some money. Pay it from {payer.name}'s checking account "
        f"into {payee.name}'s checking account.",
        turns,
        _moved(src, dst, amount),
        clarification=f"The amount is {_usd(amount)}.",
    )


def pay_into_frozen(w: BankWorld, rng: np.random.Generator) -> Scenario | None:
    frozen = next((a for a in w.accounts.values() if a.frozen and a.kind == "savings"), None)
    payers = [c for c in w.owners(savings=False) if frozen and c.id != frozen.customer_id]
    if frozen is None or not payers:
        return None
    payer, payee = pick(rng, payers), w.customers[frozen.customer_id]
    src = w.account_of(payer.id, "checking")
    assert src
    amount = _affordable(rng, src)
    return Scenario(
        f"Send {_usd(amount)} from {payer.name}'s checking account to {payee.name}'s savings account.",
        _lookups(payer, payee),
        _moved(src, frozen, 0),
        expect_impossible=True,
        blocked_calls=[_transfer(src, frozen, amount)],
    )


SCENARIOS: dict[str, list[Callable[[BankWorld, np.random.Generator], Scenario | None]]] = {
    "easy": [transfer_by_id, balance_by_id, overdraw_by_id],
    "medium": [transfer_own_by_name, total_balance, clarify_transfer, overdraw_by_name, freeze_by_name, no_savings],
    "hard": [pay_other_customer, consolidate_and_freeze, clarify_pay_other, pay_into_frozen],
}
