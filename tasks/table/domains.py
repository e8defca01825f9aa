"""Seeded, realistic tables in six domains, with the column roles question templates rely on.

Each domain builds a :class:`TableSet`: a main (fact) table and a dimension table it links to by a
foreign key, with a :class:`TableSchema` per table saying which column is a unique key, which
names the row's entity (and may repeat: two employees can share a name), which are categories
to group and filter by, which are measures (with units in their names and labels) and which is
a date. Some measures have missing values, so templates must say how they treat them.

Train and test never share a table: every entity name (people, products, teams, cities) belongs to
exactly one split, by a hash of the name, and each split draws only from its own pool.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import pandas as pd

# ---------------------------------------------------------------------------------------------
# Schemas

ROLES = ("key", "entity", "category", "measure", "date", "text")


@dataclass(frozen=True)
class Column:
    """One column: its identifier, how a question names it, and what role it plays."""

    name: str
    label: str
    role: str
    unit: str | None = None
    additive: bool = True  # False for measures whose sum means nothing (percentages, ages, heights)


@dataclass(frozen=True)
class TableSchema:
    """A table's columns by role, and the noun for one of its rows."""

    name: str
    noun: str
    plural: str
    columns: tuple[Column, ...]

    def of(self, role: str) -> list[Column]:
        return [c for c in self.columns if c.role == role]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def ident(self) -> Column | None:
        """The column that names a row in an answer: the entity name, else the unique key."""
        found = self.of("entity") or self.of("key")
        return found[0] if found else None

    @property
    def date(self) -> Column | None:
        found = self.of("date")
        return found[0] if found else None


@dataclass(frozen=True)
class Link:
    """``table.column`` refers to ``ref_table.ref_column`` (a unique key)."""

    table: str
    column: str
    ref_table: str
    ref_column: str


@dataclass
class TableSet:
    """The tables of one task, their schemas, and which table questions are mainly about."""

    domain: str
    main: str
    tables: dict[str, pd.DataFrame]
    schemas: dict[str, TableSchema]
    links: list[Link] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Name pools, split by a hash of each name

FIRST_NAMES = (
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan "
    "Joseph Jessica Thomas Sarah Carlos Karen Daniel Lisa Matthew Nancy Anthony Betty Mark Sandra Paul Ashley "
    "Steven Emily Andrew Donna Kenneth Michelle Joshua Carol Kevin Amanda Brian Melissa George Deborah Wei "
    "Stephanie Priya Rebecca Ahmed Laura Yuki Sharon Omar Cynthia Ivan Kathleen Luca Amy Sven Angela Kofi Ana"
).split()
LAST_NAMES = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez Wilson "
    "Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez Lewis "
    "Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall "
    "Rivera Campbell Mitchell Carter Roberts Chen Patel Kim Singh Muller Rossi Tanaka O'Brien Novak Silva"
).split()
ADJECTIVES = (
    "Classic Deluxe Eco Smart Ultra Compact Rapid Silent Solar Vintage Pro Mini Max Turbo Urban Arctic Golden "
    "Crystal Nordic Fusion Prime Royal Swift Bold Lunar Alpine Coastal Rustic Velvet Titan"
).split()
NOUNS = (
    "Blender Lamp Kettle Backpack Drone Speaker Chair Tent Watch Camera Toaster Heater Jacket Bottle Router "
    "Monitor Keyboard Bicycle Grill Umbrella Mixer Fan Scooter Helmet Pillow Mug Sofa Desk Charger Projector"
).split()
MASCOTS = (
    "Hawks Bears Wolves Eagles Tigers Sharks Lions Falcons Comets Rockets Titans Storm Pirates Knights Giants "
    "Raptors Bulls Kings Foxes Owls Panthers Vipers Mustangs Cobras Ravens Blaze Thunder Stars Jets Wave"
).split()
CITIES: dict[str, str] = {
    "Lisbon": "Portugal", "Porto": "Portugal", "Madrid": "Spain", "Seville": "Spain", "Valencia": "Spain",
    "Paris": "France", "Lyon": "France", "Marseille": "France", "Nice": "France", "Berlin": "Germany",
    "Hamburg": "Germany", "Munich": "Germany", "Cologne": "Germany", "Rome": "Italy", "Milan": "Italy",
    "Naples": "Italy", "Turin": "Italy", "Vienna": "Austria", "Graz": "Austria", "Zurich": "Switzerland",
    "Geneva": "Switzerland", "Oslo": "Norway", "Bergen": "Norway", "Stockholm": "Sweden", "Gothenburg": "Sweden",
    "Helsinki": "Finland", "Copenhagen": "Denmark", "Dublin": "Ireland", "Cork": "Ireland", "London": "UK",
    "Leeds": "UK", "Glasgow": "UK", "Bristol": "UK", "Warsaw": "Poland", "Krakow": "Poland", "Prague": "Czechia",
    "Brno": "Czechia", "Athens": "Greece", "Toronto": "Canada", "Montreal": "Canada", "Vancouver": "Canada",
    "Calgary": "Canada", "Boston": "USA", "Denver": "USA", "Seattle": "USA", "Austin": "USA", "Chicago": "USA",
    "Phoenix": "USA", "Atlanta": "USA", "Portland": "USA", "Miami": "USA", "Dallas": "USA", "Tokyo": "Japan",
    "Osaka": "Japan", "Sapporo": "Japan", "Seoul": "South Korea", "Busan": "South Korea", "Sydney": "Australia",
    "Perth": "Australia", "Melbourne": "Australia", "Auckland": "New Zealand", "Lima": "Peru", "Quito": "Ecuador",
    "Santiago": "Chile", "Bogota": "Colombia", "Nairobi": "Kenya", "Accra": "Ghana", "Cairo": "Egypt",
}  # fmt: skip
TEST_SHARE = 5  # one name in five belongs to the test split


def split_of(name: str) -> str:
    """The split a name belongs to, fixed by a hash of the name."""
    return "test" if zlib.crc32(name.encode()) % TEST_SHARE == 0 else "train"


@dataclass(frozen=True)
class NamePools:
    """The entity names one split may use."""

    people: tuple[str, ...]
    products: tuple[str, ...]
    teams: tuple[str, ...]
    cities: tuple[str, ...]


@cache
def name_pools(split: str) -> NamePools:
    """Every name of each kind whose hash puts it in ``split``."""

    def keep(names: Sequence[str]) -> tuple[str, ...]:
        return tuple(n for n in names if split_of(n) == split)

    return NamePools(
        people=keep([f"{f} {last}" for f in FIRST_NAMES for last in LAST_NAMES]),
        products=keep([f"{a} {n}" for a in ADJECTIVES for n in NOUNS]),
        teams=keep([f"{c} {m}" for c in CITIES for m in MASCOTS]),
        cities=keep(list(CITIES)),
    )


# ---------------------------------------------------------------------------------------------
# Random helpers


def _choose(rng: np.random.Generator, pool: Sequence[str], n: int, *, repeats: float = 0.0) -> list[str]:
    """``n`` names from ``pool``: distinct, except that a share ``repeats`` of them recur."""
    n_unique = max(1, min(len(pool), int(round(n * (1 - repeats)))))
    unique = [pool[i] for i in rng.choice(len(pool), size=n_unique, replace=False)]
    extra = [unique[i] for i in rng.integers(0, n_unique, size=n - n_unique)]
    names = unique + extra
    return [names[i] for i in rng.permutation(len(names))]


def _dates(rng: np.random.Generator, n: int, *, span_days: int = 540) -> pd.Series:
    """``n`` calendar days within a random window of ``span_days`` between 2016 and 2024."""
    start = np.datetime64("2016-01-01") + int(rng.integers(0, max(1, 9 * 365 - span_days)))
    days = start + rng.integers(0, span_days, size=n).astype("timedelta64[D]")
    return pd.Series(days.astype("datetime64[ns]"))


def _with_missing(rng: np.random.Generator, values: np.ndarray, share: float) -> np.ndarray:
    """Float values with a random ``share`` blanked out (NaN: NULL in SQL)."""
    values = values.astype(float)
    values[rng.random(len(values)) < share] = np.nan
    return values


def _money(rng: np.random.Generator, low: float, high: float, n: int) -> np.ndarray:
    return np.round(rng.uniform(low, high, size=n), 2)


def _codes(prefix: str, n: int, start: int, width: int) -> list[str]:
    return [f"{prefix}{start + i:0{width}d}" for i in range(n)]


# ---------------------------------------------------------------------------------------------
# Domains

Builder = Callable[[np.random.Generator, int, NamePools], TableSet]


def sales(rng: np.random.Generator, n: int, pools: NamePools) -> TableSet:
    """Orders of products by customers across regions and channels."""
    n_products = int(rng.integers(5, 16))
    products = pd.DataFrame(
        {
            "product_id": _codes("P", n_products, int(rng.integers(100, 900)), 4),
            "product_name": _choose(rng, pools.products, n_products),
            "category": rng.choice(["Electronics", "Home", "Garden", "Toys", "Sports", "Kitchen"], n_products),
            "unit_price_usd": _money(rng, 5, 400, n_products),
            "weight_kg": np.round(rng.uniform(0.2, 25, n_products), 1),
            "launch_date": _dates(rng, n_products, span_days=900),
        }
    )
    pick = rng.integers(0, n_products, size=n)
    units = rng.integers(1, 40, size=n)
    discount = _with_missing(rng, rng.choice([0, 5, 10, 15, 20, 25], size=n), 0.2)
    revenue = np.round(units * products["unit_price_usd"].to_numpy()[pick] * (1 - np.nan_to_num(discount) / 100), 2)
    orders = pd.DataFrame(
        {
            "order_id": _codes("O-", n, int(rng.integers(10000, 90000)), 5),
            "order_date": _dates(rng, n),
            "customer": _choose(rng, pools.people, n, repeats=0.4),
            "product_id": products["product_id"].to_numpy()[pick],
            "region": rng.choice(["North", "South", "East", "West", "Central"], n),
            "channel": rng.choice(["Online", "Store", "Phone"], n, p=[0.55, 0.35, 0.10]),
            "units": units,
            "discount_pct": discount,
            "revenue_usd": revenue,
        }
    )
    schemas = {
        "orders": TableSchema(
            "orders",
            "order",
            "orders",
            (
                Column("order_id", "order ID", "key"),
                Column("order_date", "order date", "date"),
                Column("customer", "customer", "category"),
                Column("product_id", "product ID", "category"),
                Column("region", "region", "category"),
                Column("channel", "sales channel", "category"),
                Column("units", "units sold", "measure"),
                Column("discount_pct", "discount (%)", "measure", "%", additive=False),
                Column("revenue_usd", "revenue (USD)", "measure", "USD"),
            ),
        ),
        "products": TableSchema(
            "products",
            "product",
            "products",
            (
                Column("product_id", "product ID", "key"),
                Column("product_name", "product name", "entity"),
                Column("category", "product category", "category"),
                Column("unit_price_usd", "unit price (USD)", "measure", "USD", additive=False),
                Column("weight_kg", "weight (kg)", "measure", "kg", additive=False),
                Column("launch_date", "launch date", "date"),
            ),
        ),
    }
    tables = {"orders": orders, "products": products}
    return TableSet("sales", "orders", tables, schemas, [Link("orders", "product_id", "products", "product_id")])


def sports(rng: np.random.Generator, n: int, pools: NamePools) -> TableSet:
    """Season statistics of basketball players and the teams they play for."""
    n_teams = int(rng.integers(4, 13))
    teams = pd.DataFrame(
        {
            "team": _choose(rng, pools.teams, n_teams),
            "conference": rng.choice(["East", "West"], n_teams),
            "founded_year": rng.integers(1920, 2015, n_teams),
            "arena_capacity": rng.integers(8, 25, n_teams) * 1000 + rng.integers(0, 1000, n_teams),
            "coach": _choose(rng, pools.people, n_teams),
        }
    )
    games = rng.integers(10, 83, size=n)
    players = pd.DataFrame(
        {
            "player": _choose(rng, pools.people, n, repeats=0.1),
            "team": rng.choice(teams["team"].to_numpy(), n),
            "position": rng.choice(["Guard", "Forward", "Center"], n, p=[0.45, 0.4, 0.15]),
            "games": games,
            "points": games * rng.integers(2, 30, size=n) + rng.integers(0, 20, size=n),
            "assists": games * rng.integers(0, 9, size=n) + rng.integers(0, 10, size=n),
            "height_cm": rng.integers(175, 226, size=n),
            "three_pt_pct": _with_missing(rng, np.round(rng.uniform(20, 45, size=n), 1), 0.15),
            "birth_date": _dates(rng, n, span_days=1800) - pd.Timedelta(days=365 * 25),
        }
    )
    schemas = {
        "players": TableSchema(
            "players",
            "player",
            "players",
            (
                Column("player", "player", "entity"),
                Column("team", "team", "category"),
                Column("position", "position", "category"),
                Column("games", "games played", "measure"),
                Column("points", "total points", "measure"),
                Column("assists", "assists", "measure"),
                Column("height_cm", "height (cm)", "measure", "cm", additive=False),
                Column("three_pt_pct", "three-point percentage", "measure", "%", additive=False),
                Column("birth_date", "birth date", "date"),
            ),
        ),
        "teams": TableSchema(
            "teams",
            "team",
            "teams",
            (
                Column("team", "team", "key"),
                Column("conference", "conference", "category"),
                Column("founded_year", "founding year", "measure", additive=False),
                Column("arena_capacity", "arena capacity (seats)", "measure", "seats"),
                Column("coach", "head coach", "text"),
            ),
        ),
    }
    tables = {"players": players, "teams": teams}
    return TableSet("sports", "players", tables, schemas, [Link("players", "team", "teams", "team")])


def weather(rng: np.random.Generator, n: int, pools: NamePools) -> TableSet:
    """Daily observations at weather stations in several cities."""
    n_stations = int(rng.integers(3, 9))
    cities = _choose(rng, pools.cities, min(n_stations, len(pools.cities)))
    stations = pd.DataFrame(
        {
            "station": cities,
            "country": [CITIES[c] for c in cities],
            "elevation_m": rng.integers(0, 1800, len(cities)),
            "opened": _dates(rng, len(cities), span_days=1500),
        }
    )
    station = rng.choice(stations["station"].to_numpy(), n)
    base = pd.Series(rng.uniform(-5, 25, len(cities)), index=stations["station"])
    temp = np.round(base[station].to_numpy() + rng.normal(0, 6, n), 1)
    observations = pd.DataFrame(
        {
            "station": station,
            "date": _dates(rng, n, span_days=365),
            "temp_c": temp,
            "precip_mm": _with_missing(rng, np.round(rng.exponential(3, n) * (rng.random(n) < 0.5), 1), 0.15),
            "wind_kmh": np.round(rng.gamma(2.0, 8.0, n), 1),
            "humidity_pct": rng.integers(20, 100, n),
            "condition": rng.choice(["Sunny", "Cloudy", "Rain", "Snow", "Fog"], n, p=[0.35, 0.3, 0.2, 0.05, 0.1]),
        }
    )
    schemas = {
        "observations": TableSchema(
            "observations",
            "observation",
            "observations",
            (
                Column("station", "station", "category"),
                Column("date", "date", "date"),
                Column("temp_c", "temperature (°C)", "measure", "°C", additive=False),
                Column("precip_mm", "precipitation (mm)", "measure", "mm"),
                Column("wind_kmh", "wind speed (km/h)", "measure", "km/h", additive=False),
                Column("humidity_pct", "humidity (%)", "measure", "%", additive=False),
                Column("condition", "sky condition", "category"),
            ),
        ),
        "stations": TableSchema(
            "stations",
            "station",
            "stations",
            (
                Column("station", "station", "key"),
                Column("country", "country", "category"),
                Column("elevation_m", "elevation (m)", "measure", "m", additive=False),
                Column("opened", "opening date", "date"),
            ),
        ),
    }
    tables = {"observations": observations, "stations": stations}
    return TableSet(
        "weather", "observations", tables, schemas, [Link("observations", "station", "stations", "station")]
    )


def inventory(rng: np.random.Generator, n: int, pools: NamePools) -> TableSet:
    """Stock of items across warehouses; one item may be stocked in several warehouses."""
    n_wh = int(rng.integers(3, 8))
    cities = _choose(rng, pools.cities, min(n_wh, len(pools.cities)))
    warehouses = pd.DataFrame(
        {
            "warehouse": [f"WH-{c[:3].upper()}{i + 1}" for i, c in enumerate(cities)],
            "city": cities,
            "region": rng.choice(["EMEA", "Americas", "APAC"], len(cities)),
            "capacity_units": rng.integers(5, 60, len(cities)) * 1000,
            "opened": _dates(rng, len(cities), span_days=2000),
        }
    )
    items = pd.DataFrame(
        {
            "sku": _codes("SKU-", n, int(rng.integers(10000, 80000)), 5),
            "item_name": _choose(rng, pools.products, n, repeats=0.3),
            "category": rng.choice(["Tools", "Food", "Cleaning", "Office", "Electrical", "Paint"], n),
            "warehouse": rng.choice(warehouses["warehouse"].to_numpy(), n),
            "quantity": rng.integers(0, 500, n),
            "unit": rng.choice(["pcs", "kg", "l", "box"], n, p=[0.5, 0.2, 0.1, 0.2]),
            "unit_cost_usd": _with_missing(rng, _money(rng, 0.5, 250, n), 0.05),
            "stock_value_usd": 0.0,
            "supplier": rng.choice(["Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne"], n),
            "last_restock": _dates(rng, n, span_days=400),
        }
    )
    items["stock_value_usd"] = np.round(items["quantity"] * items["unit_cost_usd"], 2)
    schemas = {
        "items": TableSchema(
            "items",
            "stock item",
            "stock items",
            (
                Column("sku", "SKU", "key"),
                Column("item_name", "item name", "category"),
                Column("category", "item category", "category"),
                Column("warehouse", "warehouse", "category"),
                Column("quantity", "quantity in stock", "measure"),
                Column("unit", "unit of measure", "category"),
                Column("unit_cost_usd", "unit cost (USD)", "measure", "USD", additive=False),
                Column("stock_value_usd", "stock value (USD)", "measure", "USD"),
                Column("supplier", "supplier", "category"),
                Column("last_restock", "last restock date", "date"),
            ),
        ),
        "warehouses": TableSchema(
            "warehouses",
            "warehouse",
            "warehouses",
            (
                Column("warehouse", "warehouse", "key"),
                Column("city", "city", "entity"),
                Column("region", "region", "category"),
                Column("capacity_units", "capacity (units)", "measure", "units"),
                Column("opened", "opening date", "date"),
            ),
        ),
    }
    tables = {"items": items, "warehouses": warehouses}
    return TableSet("inventory", "items", tables, schemas, [Link("items", "warehouse", "warehouses", "warehouse")])


def hr(rng: np.random.Generator, n: int, pools: NamePools) -> TableSet:
    """Employees, their departments, salaries and hiring dates; some share a name."""
    names = ["Engineering", "Sales", "Marketing", "Finance", "Support", "Legal", "Operations", "Research"]
    n_dep = int(rng.integers(3, len(names) + 1))
    departments = pd.DataFrame(
        {
            "department": [names[i] for i in sorted(rng.choice(len(names), n_dep, replace=False))],
            "site": rng.choice(["Headquarters", "North Campus", "Downtown"], n_dep),
            "floor": rng.integers(1, 12, n_dep),
            "budget_usd": rng.integers(20, 500, n_dep) * 10000,
            "head": _choose(rng, pools.people, n_dep),
        }
    )
    employees = pd.DataFrame(
        {
            "employee_id": _codes("E", n, int(rng.integers(1000, 8000)), 4),
            "name": _choose(rng, pools.people, n, repeats=0.1),
            "department": rng.choice(departments["department"].to_numpy(), n),
            "title": rng.choice(
                ["Associate", "Analyst", "Engineer", "Manager", "Director"], n, p=[0.3, 0.25, 0.25, 0.15, 0.05]
            ),
            "salary_usd": rng.integers(35, 180, n) * 1000 + rng.integers(0, 10, n) * 100,
            "age": rng.integers(21, 66, n),
            "rating": _with_missing(rng, rng.integers(1, 6, n), 0.1),
            "hire_date": _dates(rng, n, span_days=1600),
        }
    )
    schemas = {
        "employees": TableSchema(
            "employees",
            "employee",
            "employees",
            (
                Column("employee_id", "employee ID", "key"),
                Column("name", "name", "entity"),
                Column("department", "department", "category"),
                Column("title", "job title", "category"),
                Column("salary_usd", "annual salary (USD)", "measure", "USD"),
                Column("age", "age", "measure", "years", additive=False),
                Column("rating", "performance rating", "measure", additive=False),
                Column("hire_date", "hire date", "date"),
            ),
        ),
        "departments": TableSchema(
            "departments",
            "department",
            "departments",
            (
                Column("department", "department", "key"),
                Column("site", "office site", "category"),
                Column("floor", "floor", "measure", additive=False),
                Column("budget_usd", "budget (USD)", "measure", "USD"),
                Column("head", "department head", "text"),
            ),
        ),
    }
    tables = {"employees": employees, "departments": departments}
    return TableSet("hr", "employees", tables, schemas, [Link("employees", "department", "departments", "department")])


def flights(rng: np.random.Generator, n: int, pools: NamePools) -> TableSet:
    """Flights between airports, with distances, passengers and delays (some unrecorded)."""
    n_airports = int(rng.integers(4, 11))
    cities = _choose(rng, pools.cities, min(n_airports, len(pools.cities)))
    airports = pd.DataFrame(
        {
            "code": [f"{c[:2].upper()}{chr(ord('A') + i)}" for i, c in enumerate(cities)],
            "city": cities,
            "country": [CITIES[c] for c in cities],
            "elevation_m": rng.integers(0, 1500, len(cities)),
        }
    )
    codes = airports["code"].to_numpy()
    origin_i = rng.integers(0, len(codes), n)
    dest_i = (origin_i + rng.integers(1, len(codes), n)) % len(codes)
    airline = rng.choice(["SkyJet", "AeroLink", "BlueWing", "NorthAir", "Zephyr"], n)
    flights_df = pd.DataFrame(
        {
            "flight_id": _codes("F", n, int(rng.integers(10000, 90000)), 5),
            "airline": airline,
            "origin": codes[origin_i],
            "destination": codes[dest_i],
            "flight_date": _dates(rng, n, span_days=300),
            "distance_km": rng.integers(200, 9000, n),
            "passengers": rng.integers(40, 330, n),
            "delay_min": _with_missing(rng, np.maximum(0, rng.normal(8, 25, n)).round(0), 0.1),
        }
    )
    schemas = {
        "flights": TableSchema(
            "flights",
            "flight",
            "flights",
            (
                Column("flight_id", "flight ID", "key"),
                Column("airline", "airline", "category"),
                Column("origin", "origin airport", "category"),
                Column("destination", "destination airport", "category"),
                Column("flight_date", "flight date", "date"),
                Column("distance_km", "distance (km)", "measure", "km"),
                Column("passengers", "passengers", "measure"),
                Column("delay_min", "departure delay (minutes)", "measure", "min"),
            ),
        ),
        "airports": TableSchema(
            "airports",
            "airport",
            "airports",
            (
                Column("code", "airport code", "key"),
                Column("city", "city", "entity"),
                Column("country", "country", "category"),
                Column("elevation_m", "elevation (m)", "measure", "m", additive=False),
            ),
        ),
    }
    tables = {"flights": flights_df, "airports": airports}
    return TableSet("flights", "flights", tables, schemas, [Link("flights", "origin", "airports", "code")])


DOMAINS: dict[str, Builder] = {
    "sales": sales,
    "sports": sports,
    "weather": weather,
    "inventory": inventory,
    "hr": hr,
    "flights": flights,
}

# Rows of the main table per difficulty: small enough to read at "easy", far too many to print at "hard".
SIZES: dict[str, tuple[int, int]] = {"easy": (8, 30), "medium": (40, 400), "hard": (300, 3000)}


def build_tables(domain: str, rng: np.random.Generator, difficulty: str, split: str) -> TableSet:
    """A domain's tables at a difficulty's size, with the names of ``split``."""
    low, high = SIZES[difficulty]
    n = int(rng.integers(low, high + 1))
    return DOMAINS[domain](rng, n, name_pools(split))
