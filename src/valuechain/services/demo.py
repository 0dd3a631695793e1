"""The demo organisation: a pump manufacturer's value chain with its corporate services.

The map is written as tables (one row per unit, result and link) so later features
(surveys, agreements, requests, outcomes) can add their own tables next to these and
extend :func:`demo_map` without touching the rows that already exist.

The numbers tell a story the app should find on its own:

* the main chain runs steel mill / electronics distributor -> inbound logistics ->
  machining -> assembly -> packing -> warehouse -> outbound logistics -> the three
  external customer segments, demanding 520 pumps a week;
* **assembly** (450 a week) is the bottleneck; packing (495 a week) can take only 10%
  more, so raising assembly by 20% yields +10% and moves the bottleneck to packing;
* the IT service desk and business applications depend on each other (a cycle), as do
  sales operations and production planning, and procurement with its suppliers;
* in the flow model (``valuechain flow``) items move only along ``consumes`` links and
  leave along what external customers pay for, so people, training, instructions and
  freight, which the chain depends on but does not turn into pumps, are ``depends_on``;
  spare parts kits and warranty service are customer service's own product lines;
* two results lead nowhere: a report nobody reads and meter readings whose only reader
  passes nothing on;
* two survey campaigns (``services.demo_survey``) where production planning's value
  falls, problem solving drives satisfaction, and small groups are suppressed;
* two years of monthly outcomes of the external customers and a monthly pulse
  (``services.demo_connect``) in which assembly's rating of production planning
  moves with the external customers' satisfaction and complaints.
* agreements in every state, a year of commitments and capacity shares
  (``services.demo_agree``): early warnings earn trust, surprise misses lose it, and
  demand above a share opens a negotiation.
"""

# The tables below are aligned in columns so they read as tables; that needs more than
# the usual line length, hence the one exemption for this file.
# ruff: noqa: E501

from __future__ import annotations

import random
from itertools import product
from typing import Any

from sqlalchemy import Engine

from valuechain.domain.account import (
    DEMO_ACCOUNT_PREFIX,
    DEMO_ADMIN_ID,
    DEMO_PERSONAS,
    Account,
    AccountRole,
)
from valuechain.domain.link import Link, Relation
from valuechain.domain.organisation import OrganisationMap
from valuechain.domain.person import Person, Role
from valuechain.domain.result import Result, ResultKind
from valuechain.domain.unit import Unit, UnitKind
from valuechain.services import accounts
from valuechain.services.audit import Actor
from valuechain.services.demo_agree import (
    demo_agreements,
    demo_calendars,
    demo_commitments,
    write_demo_capacity,
)
from valuechain.services.demo_comment import add_comments
from valuechain.services.demo_connect import demo_connect
from valuechain.services.demo_partner import ensure_demo_partner
from valuechain.services.demo_request import demo_requests
from valuechain.services.demo_survey import demo_partnership, demo_responses, demo_servqual
from valuechain.services.errors import Conflict, NotFound
from valuechain.services.organisation import Valuechain
from valuechain.store.database import contents, make_engine, upgrade

#: The demo's organisation: the only one its database may hold.
DEMO_ORGANISATION = "valuechain-demo"

DEFAULT_SEED = 7
EMAIL_DOMAIN = "demo.valuechain.example"

# Short names keep the tables below readable as tables.
TEAM, DEPT = UnitKind.TEAM, UnitKind.DEPARTMENT
CUSTOMER, SUPPLIER = UnitKind.EXTERNAL_CUSTOMER, UnitKind.EXTERNAL_SUPPLIER
FIN, INT, BYP = ResultKind.FINISHED, ResultKind.INTERMEDIATE, ResultKind.BYPRODUCT
PAYS, CONSUMES = Relation.PAYS, Relation.CONSUMES
ADDS, DEPENDS = Relation.ADDS_TO, Relation.DEPENDS_ON

# Headcount counts the people working directly in a unit, not those of its child teams.
UnitRow = tuple[str, str, UnitKind, str | None, int | None]
UNITS: tuple[UnitRow, ...] = (
    # id                         name                                 kind      parent              headcount
    ("exec-board",               "Executive board",                   DEPT,     None,               5),
    ("analytics",                "Analytics",                         TEAM,     "exec-board",       6),
    ("operations",               "Operations",                        DEPT,     None,               4),
    ("supply-chain",             "Supply chain",                      DEPT,     "operations",       2),
    ("procurement",              "Procurement",                       TEAM,     "supply-chain",     9),
    ("inbound-logistics",        "Inbound logistics",                 TEAM,     "supply-chain",     14),
    ("production-planning",      "Production planning",               TEAM,     "supply-chain",     6),
    ("manufacturing",            "Manufacturing",                     DEPT,     "operations",       3),
    ("machining",                "Machining",                         TEAM,     "manufacturing",    38),
    ("assembly",                 "Assembly",                          TEAM,     "manufacturing",    46),
    ("packing",                  "Packing",                           TEAM,     "manufacturing",    18),
    ("maintenance",              "Maintenance",                       TEAM,     "manufacturing",    12),
    ("process-engineering",      "Process engineering",               TEAM,     "manufacturing",    7),
    ("quality",                  "Quality",                           DEPT,     "operations",       2),
    ("quality-assurance",        "Quality assurance",                 TEAM,     "quality",          11),
    ("metrology-lab",            "Metrology lab",                     TEAM,     "quality",          4),
    ("logistics",                "Logistics",                         DEPT,     "operations",       2),
    ("warehouse",                "Warehouse",                         TEAM,     "logistics",        21),
    ("outbound-logistics",       "Outbound logistics",                TEAM,     "logistics",        13),
    ("engineering",              "Product engineering",               DEPT,     None,               3),
    ("product-design",           "Product design",                    TEAM,     "engineering",      10),
    ("commercial",               "Commercial",                        DEPT,     None,               3),
    ("sales-operations",         "Sales operations",                  TEAM,     "commercial",       12),
    ("key-accounts",             "Key account management",            TEAM,     "commercial",       5),
    ("customer-service",         "Customer service",                  TEAM,     "commercial",       16),
    ("marketing",                "Marketing",                         TEAM,     "commercial",       6),
    ("hr",                       "Human resources",                   DEPT,     None,               3),
    ("recruiting",               "Recruiting",                        TEAM,     "hr",               5),
    ("payroll",                  "Payroll",                           TEAM,     "hr",               4),
    ("learning",                 "Learning and development",          TEAM,     "hr",               3),
    ("finance",                  "Finance",                           DEPT,     None,               2),
    ("accounting",               "Accounting",                        TEAM,     "finance",          8),
    ("controlling",              "Controlling",                       TEAM,     "finance",          5),
    ("it",                       "IT",                                DEPT,     None,               2),
    ("it-service-desk",          "IT service desk",                   TEAM,     "it",               7),
    ("it-infrastructure",        "IT infrastructure",                 TEAM,     "it",               6),
    ("business-applications",    "Business applications",             TEAM,     "it",               8),
    ("information-security",     "Information security",              TEAM,     "it",               3),
    ("legal-compliance",         "Legal and compliance",              DEPT,     None,               1),
    ("legal",                    "Legal",                             TEAM,     "legal-compliance", 3),
    ("compliance",               "Compliance",                        TEAM,     "legal-compliance", 3),
    ("facilities",               "Facilities",                        DEPT,     None,               2),
    ("building-services",        "Building services",                 TEAM,     "facilities",       6),
    ("health-safety",            "Health and safety",                 TEAM,     "facilities",       2),
    # Outside the organisation.
    ("steel-mill",               "Nordhafen steel mill",              SUPPLIER, None,               None),
    ("electronics-distributor",  "Voltera electronics distribution",  SUPPLIER, None,               None),
    ("freight-carrier",          "Rheinland freight carrier",         SUPPLIER, None,               None),
    ("retail-chains",            "Retail chains",                     CUSTOMER, None,               None),
    ("installers",               "Installers",                        CUSTOMER, None,               None),
    ("oem-partners",             "OEM partners",                      CUSTOMER, None,               None),
)  # fmt: skip

# Capacity is items per week; a monthly report is 0.25 a week.
ResultRow = tuple[str, str, str, ResultKind, float | None, float | None, float | None]
RESULTS: tuple[ResultRow, ...] = (
    # id                          producer                  name                                    kind capacity cost   revenue
    ("steel-bar-stock",           "steel-mill",             "Steel bar stock",                      FIN, 900,     42.0,  None),
    ("motor-electronics",         "electronics-distributor","Motor controllers and sensors",        FIN, 800,     55.0,  None),
    ("inbound-freight",           "freight-carrier",        "Inbound freight",                      FIN, 1200,    6.0,   None),
    ("outbound-freight",          "freight-carrier",        "Outbound freight",                     FIN, 1000,    9.0,   None),
    ("purchase-orders",           "procurement",            "Purchase orders",                      INT, 400,     12.0,  None),
    ("supplier-scorecard",        "procurement",            "Supplier scorecard",                   BYP, 0.25,    150.0, None),
    ("received-materials",        "inbound-logistics",      "Received and booked materials",        INT, 1100,    3.5,   None),
    ("goods-receipt-notes",       "inbound-logistics",      "Goods receipt notes",                  BYP, 300,     1.0,   None),
    ("production-plan",           "production-planning",    "Weekly production plan",               INT, 1,       400.0, None),
    ("promise-dates",             "production-planning",    "Available-to-promise dates",           INT, 600,     0.5,   None),
    ("bills-of-materials",        "product-design",         "Bills of materials",                   INT, 20,      90.0,  None),
    ("technical-drawings",        "product-design",         "Technical drawings",                   INT, 30,      120.0, None),
    ("machined-housings",         "machining",              "Machined housings",                    INT, 600,     48.0,  None),
    ("scrap-report",              "machining",              "Monthly scrap report",                 BYP, 0.25,    60.0,  None),
    ("assembled-pumps",           "assembly",               "Assembled pumps",                      FIN, 450,     95.0,  None),
    ("assembly-shift-log",        "assembly",               "Assembly shift log",                   BYP, 15,      5.0,   None),
    ("packed-pumps",              "packing",                "Packed pumps",                         INT, 495,     7.0,   None),
    ("preventive-maintenance",    "maintenance",            "Preventive maintenance and repairs",   INT, 40,      180.0, None),
    ("work-instructions",         "process-engineering",    "Work instructions",                    INT, 10,      150.0, None),
    ("inspection-release",        "quality-assurance",      "Inspection release",                   INT, 700,     4.0,   None),
    ("conformity-certificates",   "quality-assurance",      "Certificates of conformity",           FIN, 200,     2.0,   None),
    ("quality-dashboard",         "quality-assurance",      "Quality KPI dashboard",                BYP, 1,       80.0,  None),
    ("measurement-reports",       "metrology-lab",          "Measurement reports",                  INT, 80,      25.0,  None),
    ("picked-orders",             "warehouse",              "Picked and staged orders",             INT, 800,     5.0,   None),
    ("spare-parts-kits",          "customer-service",       "Spare parts kits",                     FIN, 150,     22.0,  79.0),
    ("stock-report",              "warehouse",              "Daily stock report",                   BYP, 5,       3.0,   None),
    ("delivered-pumps",           "outbound-logistics",     "Delivered pumps",                      FIN, 700,     14.0,  410.0),
    ("transport-orders",          "outbound-logistics",     "Transport orders",                     INT, 150,     2.0,   None),
    ("delivery-tracking",         "outbound-logistics",     "Delivery tracking updates",            BYP, 700,     0.2,   None),
    ("sales-orders",              "sales-operations",       "Confirmed sales orders",               INT, 700,     6.0,   None),
    ("sales-forecast",            "sales-operations",       "Monthly sales forecast",               INT, 0.25,    600.0, None),
    ("quotes",                    "sales-operations",       "Quotes",                               FIN, 300,     15.0,  None),
    ("oem-supply-agreements",     "key-accounts",           "OEM supply agreements",                FIN, 2,       900.0, None),
    ("warranty-service",          "customer-service",       "Warranty and repair service",          FIN, 120,     38.0,  65.0),
    ("complaint-log",             "customer-service",       "Customer complaint log",               BYP, 60,      1.0,   None),
    ("product-catalogue",         "marketing",              "Product catalogue and price lists",    FIN, 1,       2000.0,None),
    ("filled-positions",          "recruiting",             "Filled positions",                     INT, 4,       3500.0,None),
    ("payroll-run",               "payroll",                "Payroll run",                          INT, 1,       1800.0,None),
    ("training-courses",          "learning",               "Training courses",                     INT, 6,       900.0, None),
    ("headcount-report",          "hr",                     "Headcount report",                     BYP, 0.25,    300.0, None),
    ("customer-invoices",         "accounting",             "Customer invoices",                    FIN, 700,     1.5,   None),
    ("supplier-payments",         "accounting",             "Supplier payments",                    INT, 200,     2.0,   None),
    ("month-end-close",           "accounting",             "Month-end close",                      INT, 0.25,    4000.0,None),
    ("cost-centre-reports",       "controlling",            "Cost centre reports",                  BYP, 0.25,    800.0, None),
    ("legacy-utilisation-report", "controlling",            "Legacy utilisation report",            BYP, 0.25,    350.0, None),
    ("budget-forecast",           "finance",                "Budget and rolling forecast",          INT, 0.25,    2500.0,None),
    ("resolved-incidents",        "it-service-desk",        "Resolved IT incidents",                INT, 250,     35.0,  None),
    ("erp-changes",               "business-applications",  "ERP changes and fixes",                INT, 15,      600.0, None),
    ("it-platform",               "it-infrastructure",      "Network, servers and backups",         INT, 1,       5000.0,None),
    ("access-reviews",            "information-security",   "Access reviews",                       BYP, 0.25,    400.0, None),
    ("contract-reviews",          "legal",                  "Contract reviews",                     INT, 10,      700.0, None),
    ("export-screening",          "compliance",             "Export control screening",             INT, 100,     8.0,   None),
    ("compliance-audits",         "compliance",             "Compliance audit reports",             BYP, 0.25,    1500.0,None),
    ("kpi-dashboard",             "analytics",              "KPI dashboard",                        BYP, 1,       250.0, None),
    ("strategy-decisions",        "exec-board",             "Strategy and investment decisions",    INT, 0.25,    5000.0,None),
    ("operations-priorities",     "operations",             "Operations priorities",                INT, 1,       800.0, None),
    ("commercial-priorities",     "commercial",             "Commercial priorities and pricing",    INT, 1,       600.0, None),
    ("building-services",         "building-services",      "Building and utility services",        INT, 1,       3000.0,None),
    ("energy-readings",           "building-services",      "Weekly energy meter readings",         BYP, 1,       40.0,  None),
    ("safety-inspections",        "health-safety",          "Safety inspections",                   INT, 5,       200.0, None),
)  # fmt: skip

# A pump needs a steel bar *and* a motor controller: inbound logistics receives them as
# one set per pump (an assembly, docs/flow.md), so both suppliers carry the chain's
# flow. As a merge (alternatives) the cheaper one carried it all and the other stage
# showed "0 of 800" beside a chain delivering 450 (issue 20 item 5).
ASSEMBLY_INPUTS: dict[tuple[str, str], float] = {
    ("steel-bar-stock", "inbound-logistics"): 1.0,
    ("motor-electronics", "inbound-logistics"): 1.0,
}

# Demand is items per week the customer takes of the result.
LinkRow = tuple[str, str, Relation, float | None]
LINKS: tuple[LinkRow, ...] = (
    # result                      customer                  relation  demand
    # -- suppliers into the chain
    ("steel-bar-stock",           "procurement",            PAYS,     520),
    ("steel-bar-stock",           "inbound-logistics",      CONSUMES, 520),
    ("motor-electronics",         "procurement",            PAYS,     520),
    ("motor-electronics",         "inbound-logistics",      CONSUMES, 520),
    ("inbound-freight",           "procurement",            PAYS,     60),
    ("inbound-freight",           "inbound-logistics",      DEPENDS,  60),
    ("outbound-freight",          "outbound-logistics",     DEPENDS,  130),
    ("purchase-orders",           "steel-mill",             CONSUMES, 40),
    ("purchase-orders",           "electronics-distributor",CONSUMES, 40),
    ("purchase-orders",           "freight-carrier",        CONSUMES, 20),
    ("purchase-orders",           "inbound-logistics",      DEPENDS,  100),
    ("supplier-scorecard",        "quality-assurance",      CONSUMES, 0.25),
    ("supplier-scorecard",        "key-accounts",           DEPENDS,  0.25),
    ("received-materials",        "machining",              CONSUMES, 520),
    ("received-materials",        "assembly",               DEPENDS,  520),
    ("goods-receipt-notes",       "accounting",             DEPENDS,  100),
    ("goods-receipt-notes",       "procurement",            DEPENDS,  100),
    # -- planning and engineering
    ("production-plan",           "machining",              DEPENDS,  1),
    ("production-plan",           "assembly",               DEPENDS,  1),
    ("production-plan",           "packing",                DEPENDS,  1),
    ("production-plan",           "procurement",            DEPENDS,  1),
    ("production-plan",           "maintenance",            DEPENDS,  1),
    ("promise-dates",             "sales-operations",       DEPENDS,  520),
    ("bills-of-materials",        "production-planning",    DEPENDS,  12),
    ("bills-of-materials",        "procurement",            DEPENDS,  12),
    ("bills-of-materials",        "process-engineering",    ADDS,     12),
    ("technical-drawings",        "machining",              DEPENDS,  20),
    ("technical-drawings",        "metrology-lab",          DEPENDS,  20),
    ("work-instructions",         "machining",              DEPENDS,  4),
    ("work-instructions",         "assembly",               DEPENDS,  5),
    ("work-instructions",         "packing",                DEPENDS,  1),
    # -- the main chain: assembly is the bottleneck, packing the next one
    ("machined-housings",         "assembly",               CONSUMES, 520),
    ("machined-housings",         "quality-assurance",      ADDS,     60),
    ("assembled-pumps",           "packing",                CONSUMES, 520),
    ("assembled-pumps",           "quality-assurance",      ADDS,     520),
    ("packed-pumps",              "warehouse",              CONSUMES, 520),
    ("picked-orders",             "outbound-logistics",     CONSUMES, 520),
    ("delivered-pumps",           "retail-chains",          PAYS,     260),
    ("delivered-pumps",           "installers",             PAYS,     140),
    ("delivered-pumps",           "oem-partners",           PAYS,     120),
    ("transport-orders",          "freight-carrier",        CONSUMES, 130),
    ("export-screening",          "outbound-logistics",     DEPENDS,  40),
    # -- quality and maintenance around the chain
    ("inspection-release",        "packing",                DEPENDS,  520),
    ("conformity-certificates",   "oem-partners",           DEPENDS,  120),
    ("quality-dashboard",         "process-engineering",    CONSUMES, 1),
    ("quality-dashboard",         "exec-board",             CONSUMES, 1),
    ("measurement-reports",       "quality-assurance",      CONSUMES, 60),
    ("preventive-maintenance",    "machining",              DEPENDS,  25),
    ("preventive-maintenance",    "assembly",               DEPENDS,  12),
    ("preventive-maintenance",    "packing",                DEPENDS,  3),
    ("scrap-report",              "process-engineering",    CONSUMES, 0.25),
    ("scrap-report",              "controlling",            CONSUMES, 0.25),
    ("assembly-shift-log",        "maintenance",            DEPENDS,  15),
    ("assembly-shift-log",        "process-engineering",    CONSUMES, 15),
    ("stock-report",              "production-planning",    DEPENDS,  5),
    ("stock-report",              "sales-operations",       DEPENDS,  5),
    # -- commercial
    ("sales-orders",              "production-planning",    DEPENDS,  520),
    ("sales-orders",              "warehouse",              DEPENDS,  520),
    ("sales-orders",              "accounting",             DEPENDS,  520),
    ("sales-forecast",            "production-planning",    DEPENDS,  0.25),
    ("sales-forecast",            "key-accounts",           ADDS,     0.25),
    ("quotes",                    "retail-chains",          CONSUMES, 120),
    ("quotes",                    "installers",             CONSUMES, 140),
    ("oem-supply-agreements",     "oem-partners",           DEPENDS,  1),
    ("oem-supply-agreements",     "legal",                  ADDS,     1),
    ("spare-parts-kits",          "installers",             PAYS,     90),
    ("spare-parts-kits",          "customer-service",       DEPENDS,  30),
    ("warranty-service",          "installers",             PAYS,     60),
    ("warranty-service",          "retail-chains",          CONSUMES, 40),
    ("delivery-tracking",         "customer-service",       DEPENDS,  520),
    ("complaint-log",             "quality-assurance",      CONSUMES, 40),
    ("complaint-log",             "product-design",         CONSUMES, 40),
    ("product-catalogue",         "retail-chains",          CONSUMES, 1),
    ("product-catalogue",         "installers",             CONSUMES, 1),
    ("product-catalogue",         "sales-operations",       DEPENDS,  1),
    ("customer-invoices",         "retail-chains",          CONSUMES, 260),
    ("customer-invoices",         "installers",             CONSUMES, 290),
    ("customer-invoices",         "oem-partners",           CONSUMES, 120),
    # -- corporate services
    ("supplier-payments",         "steel-mill",             CONSUMES, 40),
    ("supplier-payments",         "electronics-distributor",CONSUMES, 40),
    ("supplier-payments",         "freight-carrier",        CONSUMES, 20),
    ("month-end-close",           "controlling",            DEPENDS,  0.25),
    ("cost-centre-reports",       "exec-board",             CONSUMES, 0.25),
    ("cost-centre-reports",       "operations",             CONSUMES, 0.25),
    ("budget-forecast",           "operations",             DEPENDS,  0.25),
    ("budget-forecast",           "commercial",             DEPENDS,  0.25),
    ("budget-forecast",           "controlling",            ADDS,     0.25),
    ("filled-positions",          "assembly",               DEPENDS,  2),
    ("filled-positions",          "machining",              DEPENDS,  1),
    ("filled-positions",          "warehouse",              DEPENDS,  1),
    ("payroll-run",               "accounting",             PAYS,     1),
    ("payroll-run",               "assembly",               DEPENDS,  1),
    ("payroll-run",               "machining",              DEPENDS,  1),
    ("training-courses",          "assembly",               DEPENDS,  3),
    ("training-courses",          "customer-service",       DEPENDS,  2),
    ("training-courses",          "machining",              DEPENDS,  1),
    ("headcount-report",          "exec-board",             CONSUMES, 0.25),
    ("headcount-report",          "controlling",            CONSUMES, 0.25),
    ("resolved-incidents",        "assembly",               DEPENDS,  20),
    ("resolved-incidents",        "customer-service",       DEPENDS,  25),
    ("resolved-incidents",        "business-applications",  DEPENDS,  30),
    ("erp-changes",               "it-service-desk",        DEPENDS,  10),
    ("erp-changes",               "sales-operations",       DEPENDS,  2),
    ("erp-changes",               "production-planning",    DEPENDS,  2),
    ("erp-changes",               "accounting",             DEPENDS,  1),
    ("it-platform",               "business-applications",  DEPENDS,  1),
    ("it-platform",               "it-service-desk",        DEPENDS,  1),
    ("access-reviews",            "compliance",             DEPENDS,  0.25),
    ("access-reviews",            "business-applications",  ADDS,     0.25),
    ("contract-reviews",          "key-accounts",           DEPENDS,  2),
    ("contract-reviews",          "procurement",            DEPENDS,  4),
    ("compliance-audits",         "exec-board",             DEPENDS,  0.25),
    ("kpi-dashboard",             "exec-board",             CONSUMES, 1),
    ("kpi-dashboard",             "operations",             CONSUMES, 1),
    ("kpi-dashboard",             "commercial",             CONSUMES, 1),
    ("strategy-decisions",        "operations",             DEPENDS,  0.25),
    ("strategy-decisions",        "commercial",             DEPENDS,  0.25),
    ("operations-priorities",     "production-planning",    DEPENDS,  1),
    ("operations-priorities",     "maintenance",            DEPENDS,  1),
    ("commercial-priorities",     "sales-operations",       DEPENDS,  1),
    ("commercial-priorities",     "key-accounts",           DEPENDS,  1),
    ("commercial-priorities",     "marketing",              DEPENDS,  1),
    ("building-services",         "operations",             PAYS,     1),
    ("building-services",         "machining",              DEPENDS,  1),
    ("building-services",         "assembly",               DEPENDS,  1),
    ("building-services",         "warehouse",              DEPENDS,  1),
    # Read by the facilities department, which passes nothing on: still an orphan.
    ("energy-readings",           "facilities",             CONSUMES, 1),
    ("safety-inspections",        "assembly",               DEPENDS,  2),
    ("safety-inspections",        "machining",              DEPENDS,  2),
    ("safety-inspections",        "warehouse",              DEPENDS,  1),
    ("safety-inspections",        "compliance",             ADDS,     1),
    # "legacy-utilisation-report" has no link at all: nobody reads it.
)  # fmt: skip

FIRST_NAMES = (
    "Anna", "Ben", "Carla", "David", "Elif", "Femke", "Goran", "Hana", "Ivan", "Julia",
    "Karim", "Lena", "Marco", "Nadia", "Oskar", "Priya", "Quentin", "Rosa", "Sven", "Tara",
    "Umut", "Vera", "Willem", "Ximena", "Yusuf", "Zofia", "Aiko", "Bram", "Chloe", "Diego",
)  # fmt: skip
LAST_NAMES = (
    "Jansen", "Keller", "Moreau", "Novak", "Okafor", "Petrov", "Quinn", "Rossi", "Schmidt",
    "Tanaka", "Usman", "Visser", "Weber", "Yilmaz", "Zhang", "Berg", "Costa", "Dubois",
    "Eriksen", "Fischer", "Garcia", "Horvat", "Ivanova", "Kowalski", "Lindqvist", "Meyer",
)  # fmt: skip

# The one admin sits with analytics, who run the organisation map for everyone.
ADMIN_UNIT = "analytics"
MAX_MEMBERS_PER_TEAM = 3


def _people(rng: random.Random) -> list[Person]:
    """A lead for every internal unit, a few members per team and exactly one admin;
    names are drawn without replacement so every email is unique."""
    internal = [row for row in UNITS if not row[2].is_external]
    members = [
        rng.randint(1, MAX_MEMBERS_PER_TEAM) if kind is TEAM else 0 for _, _, kind, _, _ in internal
    ]
    names = rng.sample(list(product(FIRST_NAMES, LAST_NAMES)), k=len(internal) + sum(members) + 1)
    roles: list[tuple[str, Role]] = [(ADMIN_UNIT, Role.ADMIN)]
    for (unit_id, *_), extra in zip(internal, members, strict=True):
        roles.append((unit_id, Role.LEAD))
        roles.extend((unit_id, Role.MEMBER) for _ in range(extra))
    return [
        Person(
            id=f"person-{number:03d}",
            name=f"{first} {last}",
            email=f"{first.lower()}.{last.lower()}@{EMAIL_DOMAIN}",
            unit_id=unit_id,
            role=role,
        )
        for number, ((unit_id, role), (first, last)) in enumerate(
            zip(roles, names, strict=True), start=1
        )
    ]


def demo_map(seed: int = DEFAULT_SEED) -> OrganisationMap:
    """The demo organisation. The same seed always gives an identical map; the seed
    only varies the people (names, members per team), never the value chain itself,
    so the story of the map (bottleneck, cycles, orphans) holds for every seed."""
    rng = random.Random(seed)
    outcomes, pulses = demo_connect(seed)
    return OrganisationMap(
        units=[
            Unit(uid, name, kind, parent, headcount) for uid, name, kind, parent, headcount in UNITS
        ],
        results=[
            Result(rid, unit, name, kind, _float(capacity), _float(cost), _float(revenue))
            for rid, unit, name, kind, capacity, cost, revenue in RESULTS
        ],
        links=[
            Link(
                result,
                customer,
                relation,
                _float(demand),
                per_item=ASSEMBLY_INPUTS.get((result, customer)),
            )
            for result, customer, relation, demand in LINKS
        ],
        people=_people(rng),
        responses=add_comments(demo_responses(seed), seed)
        + demo_partnership(seed)
        + demo_servqual(seed)
        + pulses,
        outcomes=outcomes,
        calendars=demo_calendars(),
        agreements=demo_agreements(),
        commitments=demo_commitments(seed),
    )


def _float(value: float | None) -> float | None:
    # The tables write whole numbers as ints for readability; the model holds floats.
    return None if value is None else float(value)


def ensure_demo(vc: Valuechain, seed: int = DEFAULT_SEED) -> bool:
    """Write the demo map in one transaction if the organisation holds no map yet.

    Returns True when the demo was written, False when the organisation already had
    units, results, links or people (then nothing is changed)."""
    if any(vc.counts().values()):
        return False
    # Check and write are two transactions; two racing callers still cannot duplicate
    # anything because the write replaces rows by id.
    vc.write_map(demo_map(seed), source="demo")
    ensure_demo_partner(vc)
    write_demo_capacity(vc)
    demo_requests(vc, seed)
    return True


def ensure_demo_admin(vc: Valuechain) -> Account:
    """The account of the demo's admin (the one person with the admin role), created
    on first use with the fixed id ``DEMO_ADMIN_ID``. It has no password: the demo
    signs it in automatically, no one can sign in as it from the sign-in form, and
    no app but the demo's accepts its sessions (``edge.dependencies``)."""
    found = accounts.account_by_id(vc, DEMO_ADMIN_ID)
    if found is not None:
        return found
    admin = next(p for p in demo_map().people if p.role is Role.ADMIN)
    return accounts.create_account(
        vc,
        admin.email,
        None,
        AccountRole.ADMIN,
        Actor.command_line(),
        name=admin.name,
        person_id=admin.id,
        account_id=DEMO_ADMIN_ID,
    )


DEMO_VIEWER_EMAIL = "viewer@demo.valuechain.example"


def demo_persona(vc: Valuechain, key: str) -> Account:
    """The account of the demo persona ``key`` (:data:`DEMO_PERSONAS`), made on first
    use like the demo admin: no password, a fixed id with the demo's prefix, so only
    the demo's app accepts its sessions. Raises :class:`NotFound` for another key."""
    if key not in DEMO_PERSONAS:
        raise NotFound(f"no demo persona {key!r}")
    if key == "admin":
        return ensure_demo_admin(vc)
    account_id = DEMO_ACCOUNT_PREFIX + key
    found = accounts.account_by_id(vc, account_id)
    if found is not None:
        return found
    _, role, person_id = DEMO_PERSONAS[key]
    person = next((p for p in demo_map().people if p.id == person_id), None)
    return accounts.create_account(
        vc,
        person.email if person else DEMO_VIEWER_EMAIL,
        None,
        role,
        Actor.command_line(),
        name=person.name if person else "Demo viewer",
        person_id=person_id,
        account_id=account_id,
    )


# -- the demo's own database ------------------------------------------------------------
#
# The demo signs every visitor in as an admin, so it must never run on real data. It
# writes only a database that is empty, or one it made itself: a database holding
# exactly one organisation, the demo's, with the demo admin's account, which is
# written last (an interrupted first run leaves a database the demo refuses).


class NotADemoDatabase(Conflict):
    """The database holds something the demo did not write: the demo leaves it alone."""


def _safe(url: Any) -> str:
    return str(url.render_as_string(hide_password=True))


def demo_database(engine: Engine) -> bool:
    """Whether the database is the demo's own (True) or empty (False), read without
    writing anything; raises :class:`NotADemoDatabase` for any other database."""
    found = contents(engine, [(DEMO_ORGANISATION, DEMO_ADMIN_ID)])
    others = [slug for slug in found.organisations if slug != DEMO_ORGANISATION]
    where = _safe(engine.url)
    if others:
        raise NotADemoDatabase(
            f"refusing to run the demo in {where}: it holds another organisation "
            f"({others[0]!r}); the demo writes only an empty database or one it made "
            "(name another in VALUECHAIN_DATABASE_URL, or delete a demo database made by "
            "an earlier version)"
        )
    if (DEMO_ORGANISATION, DEMO_ADMIN_ID) in found.accounts:
        return True
    filled = sorted(table for table, rows in found.rows.items() if rows)
    if filled:
        raise NotADemoDatabase(
            f"refusing to run the demo in {where}: it is not a demo database and its "
            f"table {filled[0]!r} holds rows; the demo writes only an empty database or "
            "one it made (delete a demo database whose first run was interrupted)"
        )
    return False


def open_demo(url: str) -> tuple[Valuechain, bool]:
    """The demo organisation in the database at ``url``, and whether it was written
    now: an empty database gets the demo (migrated, then written, the demo admin
    last); the demo's own is reopened unchanged; any other is refused with
    :class:`NotADemoDatabase` before anything, even a migration, is written."""
    engine = make_engine(url, migrate=False, create=True)
    try:
        existing = demo_database(engine)
    except NotADemoDatabase:
        engine.dispose()
        raise
    upgrade(engine)
    vc = Valuechain(engine, DEMO_ORGANISATION, create=True)
    if not existing:
        ensure_demo(vc)
        ensure_demo_admin(vc)
    return vc, not existing


def require_demo_database(vc: Valuechain, account_id: str) -> None:
    """Refuse automatic sign-in as ``account_id`` unless it is the demo admin of the
    demo organisation in the demo's own database."""
    if (
        account_id != DEMO_ADMIN_ID
        or vc.organisation != DEMO_ORGANISATION
        or not demo_database(vc.engine)
    ):
        raise NotADemoDatabase(
            "automatic sign-in is only for `valuechain demo`, in the database it made"
        )


__all__ = [
    "DEMO_ADMIN_ID",
    "DEMO_ORGANISATION",
    "LINKS",
    "RESULTS",
    "UNITS",
    "NotADemoDatabase",
    "demo_database",
    "demo_map",
    "demo_persona",
    "ensure_demo",
    "ensure_demo_admin",
    "open_demo",
    "require_demo_database",
]
