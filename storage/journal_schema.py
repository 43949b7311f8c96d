"""The trade journal's tables, version by version.

Version 1 is the first released layout (runs, TDI snapshots, baskets, legs, orders, deals,
equity, simple cluster locks).  Version 2 adds what restart reconciliation and the audit
trail needed: order purpose and raw results, basket risk budget and costs, deal fees, the
TDI timeframe, open risk, cluster states with side/who (replacing ``cluster_locks``), and
the manual-command, news, refusal and error tables.  Version 3 binds a journal to one
account (``journal_account``), records each run's account and account epoch
(``engine.records.RunStart``) and the last equity of a run that ended or was interrupted, and
keys deals by account, epoch and ticket: a simulator started afresh numbers its deals from
the same start again, which under version 2's key (ticket alone) overwrote the deals of
every earlier run.  Orders and news actions carry their run's epoch and run in their keys
for the same reason.  Version 4 records each basket's price space, its cluster's numeraire,
the net exposure to that numeraire after lot rounding and the gross notional it is a share
of (``engine.records.NumeraireBalance``).

A new file is built by running every migration from version 1, so the upgrade path is
exercised by every fresh journal, not only by old files.  Never edit a released migration:
add the next one.

Conventions: times are UTC text (``storage.migrations.utc_text``); tickets are INTEGER
(signed 64-bit); natural-key columns are NOT NULL with ``''`` standing for "none", because
SQLite treats NULLs as distinct in a unique key and a replayed row would then duplicate.
"""

from __future__ import annotations

from storage.migrations import Migration, SchemaSpec

#: ``FXJN`` in ASCII: marks the file as a trade journal (``PRAGMA application_id``).
JOURNAL_APPLICATION_ID = 0x46584A4E

_V1 = Migration(
    version=1,
    description="first journal layout",
    statements=(
        """CREATE TABLE runs (
            run_id TEXT NOT NULL PRIMARY KEY,
            mode TEXT NOT NULL,
            config_hash TEXT NOT NULL,
            versions TEXT NOT NULL DEFAULT '{}',
            started_at TEXT NOT NULL,
            ended_at TEXT,
            end_reason TEXT
        )""",
        """CREATE TABLE tdi_snapshots (
            run_id TEXT NOT NULL,
            cluster TEXT NOT NULL,
            bar_time TEXT NOT NULL,
            tdi REAL,
            phi REAL,
            eigengap REAL,
            explained REAL,
            decision TEXT NOT NULL,
            reason TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (run_id, cluster, bar_time)
        )""",
        """CREATE TABLE baskets (
            basket_id TEXT NOT NULL PRIMARY KEY,
            run_id TEXT,
            cluster TEXT,
            direction TEXT,
            opened_at TEXT,
            entry_tdi REAL,
            magic INTEGER,
            closed_at TEXT,
            exit_tdi REAL,
            exit_code TEXT,
            pnl REAL
        )""",
        """CREATE TABLE legs (
            basket_id TEXT NOT NULL,
            symbol TEXT NOT NULL,
            side TEXT NOT NULL,
            volume REAL NOT NULL,
            PRIMARY KEY (basket_id, symbol)
        )""",
        """CREATE TABLE orders (
            request_id TEXT NOT NULL PRIMARY KEY,
            basket_id TEXT,
            symbol TEXT,
            side TEXT,
            volume REAL,
            price REAL,
            deviation INTEGER,
            magic INTEGER,
            comment TEXT,
            filling INTEGER,
            request_json TEXT,
            sent_at TEXT,
            retcode INTEGER,
            deal INTEGER,
            order_ticket INTEGER,
            filled_volume REAL,
            fill_price REAL,
            result_comment TEXT,
            received_at TEXT
        )""",
        """CREATE TABLE deals (
            ticket INTEGER NOT NULL PRIMARY KEY,
            order_ticket INTEGER,
            position_id INTEGER,
            symbol TEXT,
            type INTEGER,
            entry INTEGER,
            volume REAL,
            price REAL,
            commission REAL,
            swap REAL,
            profit REAL,
            time TEXT,
            magic INTEGER,
            comment TEXT,
            basket_id TEXT
        )""",
        """CREATE TABLE equity (
            run_id TEXT NOT NULL,
            time TEXT NOT NULL,
            balance REAL,
            equity REAL,
            margin REAL,
            free_margin REAL,
            margin_level REAL,
            PRIMARY KEY (run_id, time)
        )""",
        """CREATE TABLE cluster_locks (
            cluster TEXT NOT NULL,
            time TEXT NOT NULL,
            state TEXT NOT NULL,
            reason TEXT NOT NULL,
            expires_at TEXT,
            PRIMARY KEY (cluster, time)
        )""",
        "CREATE INDEX baskets_closed ON baskets (closed_at)",
        "CREATE INDEX orders_basket ON orders (basket_id)",
        "CREATE INDEX deals_basket ON deals (basket_id)",
    ),
)

_V2 = Migration(
    version=2,
    description="reconciliation and audit: purposes, costs, cluster states, news, refusals",
    statements=(
        "ALTER TABLE runs ADD COLUMN account TEXT NOT NULL DEFAULT ''",
        # The TDI timeframe joins the key (M30 decisions and M1 exit checks can share a
        # label), so the table is rebuilt; version 1 only journaled M30 decisions.
        """CREATE TABLE tdi_snapshots_v2 (
            run_id TEXT NOT NULL,
            cluster TEXT NOT NULL,
            timeframe TEXT NOT NULL DEFAULT 'M30',
            bar_time TEXT NOT NULL,
            tdi REAL,
            phi REAL,
            eigengap REAL,
            explained REAL,
            decision TEXT NOT NULL,
            reason TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (run_id, cluster, timeframe, bar_time)
        )""",
        """INSERT INTO tdi_snapshots_v2
            (run_id, cluster, timeframe, bar_time, tdi, phi, eigengap, explained, decision,
             reason)
            SELECT run_id, cluster, 'M30', bar_time, tdi, phi, eigengap, explained, decision,
                   reason
            FROM tdi_snapshots""",
        "DROP TABLE tdi_snapshots",
        "ALTER TABLE tdi_snapshots_v2 RENAME TO tdi_snapshots",
        "CREATE INDEX tdi_cluster_time ON tdi_snapshots (cluster, timeframe, bar_time)",
        "ALTER TABLE baskets ADD COLUMN risk_budget REAL",
        "ALTER TABLE baskets ADD COLUMN costs REAL",
        "ALTER TABLE baskets ADD COLUMN exit_detail TEXT",
        "CREATE INDEX baskets_cluster_closed ON baskets (cluster, closed_at)",
        "ALTER TABLE legs ADD COLUMN exposure REAL NOT NULL DEFAULT 0",
        "ALTER TABLE orders ADD COLUMN purpose TEXT NOT NULL DEFAULT 'UNKNOWN'",
        "ALTER TABLE orders ADD COLUMN result_json TEXT",
        "CREATE INDEX orders_pending ON orders (sent_at) WHERE received_at IS NULL",
        "ALTER TABLE deals ADD COLUMN fee REAL NOT NULL DEFAULT 0",
        "CREATE INDEX deals_position ON deals (position_id)",
        "ALTER TABLE equity ADD COLUMN open_risk REAL",
        "CREATE INDEX equity_time ON equity (time)",
        """CREATE TABLE cluster_states (
            cluster TEXT NOT NULL,
            time TEXT NOT NULL,
            state TEXT NOT NULL,
            side TEXT NOT NULL DEFAULT '',
            reason TEXT NOT NULL,
            who TEXT NOT NULL,
            expires_at TEXT,
            run_id TEXT,
            PRIMARY KEY (cluster, time, state, side, reason)
        )""",
        """INSERT INTO cluster_states (cluster, time, state, side, reason, who, expires_at)
            SELECT cluster, time, state, '', reason, 'unknown', expires_at FROM cluster_locks""",
        "DROP TABLE cluster_locks",
        """CREATE TABLE manual_commands (
            command_id TEXT NOT NULL PRIMARY KEY,
            time TEXT NOT NULL,
            source TEXT NOT NULL,
            command TEXT NOT NULL,
            arguments TEXT NOT NULL DEFAULT '{}',
            result TEXT
        )""",
        """CREATE TABLE news_actions (
            cluster TEXT NOT NULL,
            action TEXT NOT NULL,
            event_time TEXT NOT NULL,
            currency TEXT NOT NULL,
            title TEXT NOT NULL,
            impact TEXT NOT NULL,
            time TEXT NOT NULL,
            run_id TEXT,
            PRIMARY KEY (cluster, action, event_time, currency, title)
        )""",
        """CREATE TABLE refusals (
            run_id TEXT NOT NULL DEFAULT '',
            time TEXT NOT NULL,
            cluster TEXT NOT NULL,
            reason TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (run_id, time, cluster, reason)
        )""",
        "CREATE INDEX refusals_time ON refusals (time)",
        """CREATE TABLE errors (
            run_id TEXT NOT NULL DEFAULT '',
            time TEXT NOT NULL,
            component TEXT NOT NULL,
            message TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (run_id, time, component, message)
        )""",
    ),
)

_DEAL_COLUMNS = ("ticket, order_ticket, position_id, symbol, type, entry, volume, price, "
                 "commission, swap, profit, time, magic, comment, basket_id, fee")

#: The epoch of the run that opened a row's basket ('' when unknown).
_EPOCH_OF_BASKET = """COALESCE((SELECT r.epoch FROM baskets AS b JOIN runs AS r
                     ON r.run_id = b.run_id WHERE b.basket_id = {table}.basket_id), '')"""

_V3 = Migration(
    version=3,
    description="one account per journal; deals keyed by account, epoch and ticket",
    statements=(
        # One row: the account every run of this journal trades, written by the first run
        # that names one (a journal of an older release is bound by its next run).
        """CREATE TABLE journal_account (
            id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
            mode TEXT NOT NULL,
            server TEXT NOT NULL,
            login INTEGER NOT NULL,
            currency TEXT NOT NULL,
            bound_at TEXT NOT NULL
        )""",
        "ALTER TABLE runs ADD COLUMN server TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE runs ADD COLUMN login INTEGER",
        "ALTER TABLE runs ADD COLUMN currency TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE runs ADD COLUMN epoch TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE runs ADD COLUMN last_equity REAL",
        # Older releases ran every simulated account inside the engine's process, so each
        # simulated run was an epoch of its own; a broker's account has one epoch ('').
        "UPDATE runs SET epoch = run_id WHERE mode <> 'live'",
        """CREATE TABLE deals_v3 (
            ticket INTEGER NOT NULL,
            order_ticket INTEGER,
            position_id INTEGER,
            symbol TEXT,
            type INTEGER,
            entry INTEGER,
            volume REAL,
            price REAL,
            commission REAL,
            swap REAL,
            profit REAL,
            time TEXT,
            magic INTEGER,
            comment TEXT,
            basket_id TEXT,
            fee REAL NOT NULL DEFAULT 0,
            account TEXT NOT NULL DEFAULT '',
            epoch TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (account, epoch, ticket)
        )""",
        f"""INSERT INTO deals_v3 ({_DEAL_COLUMNS}, account, epoch)
            SELECT {_DEAL_COLUMNS}, '', {_EPOCH_OF_BASKET.format(table="deals")}
            FROM deals ORDER BY rowid""",
        "DROP TABLE deals",
        "ALTER TABLE deals_v3 RENAME TO deals",
        "CREATE INDEX deals_basket ON deals (basket_id)",
        "CREATE INDEX deals_position ON deals (epoch, position_id)",
        # An order's deal and order tickets are the terminal's of its epoch.
        "ALTER TABLE orders ADD COLUMN account TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE orders ADD COLUMN epoch TEXT NOT NULL DEFAULT ''",
        f"UPDATE orders SET epoch = {_EPOCH_OF_BASKET.format(table='orders')}",
        # Two runs over the same market act on the same events: the run joins the key.
        """CREATE TABLE news_actions_v3 (
            cluster TEXT NOT NULL,
            action TEXT NOT NULL,
            event_time TEXT NOT NULL,
            currency TEXT NOT NULL,
            title TEXT NOT NULL,
            impact TEXT NOT NULL,
            time TEXT NOT NULL,
            run_id TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (run_id, cluster, action, event_time, currency, title)
        )""",
        """INSERT INTO news_actions_v3
            (cluster, action, event_time, currency, title, impact, time, run_id)
            SELECT cluster, action, event_time, currency, title, impact, time,
                   COALESCE(run_id, '')
            FROM news_actions ORDER BY rowid""",
        "DROP TABLE news_actions",
        "ALTER TABLE news_actions_v3 RENAME TO news_actions",
    ),
)

_V4 = Migration(
    version=4,
    description="baskets: price space, numeraire and net numeraire exposure after rounding",
    statements=(
        # Baskets journaled before are left unknown ('' and NULL): their legs' base
        # notionals were not recorded (``legs.exposure`` stayed 0), so nothing can be derived.
        "ALTER TABLE baskets ADD COLUMN space TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE baskets ADD COLUMN numeraire TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE baskets ADD COLUMN net_numeraire_exposure REAL",
        "ALTER TABLE baskets ADD COLUMN gross_exposure REAL",
    ),
)

_V5 = Migration(
    version=5,
    description="strategy kinds: the signal's kind and its named diagnostics",
    statements=(
        # Every signal journaled before is a TDI's; its diagnostics are the columns it has.
        "ALTER TABLE tdi_snapshots ADD COLUMN kind TEXT NOT NULL DEFAULT 'tdi'",
        "ALTER TABLE tdi_snapshots ADD COLUMN diagnostics TEXT NOT NULL DEFAULT '{}'",
        # a basket's own time stop (a pair's multiple of its half-life); NULL: the cluster's
        "ALTER TABLE baskets ADD COLUMN time_stop_bars INTEGER",
    ),
)

# --- the EXTERNAL leg (a convertible held at another venue) and its hedger's marks --------
_EXTERNAL = Migration(
    version=6,
    description="external positions (convertible bonds held elsewhere) and their hedge marks",
    statements=(
        # One row per bond entered by hand: never sent to the terminal (engine.hedging_bond).
        # terms/inputs/settings are the entered figures as JSON; closed_* stay NULL while held.
        """CREATE TABLE external_positions (
            bond_id TEXT NOT NULL PRIMARY KEY,
            run_id TEXT NOT NULL DEFAULT '',
            kind TEXT NOT NULL DEFAULT 'CONVERTIBLE',
            symbol TEXT NOT NULL,
            bonds REAL NOT NULL,
            entry_price REAL NOT NULL,
            opened_at TEXT NOT NULL,
            magic INTEGER NOT NULL,
            terms TEXT NOT NULL DEFAULT '{}',
            note TEXT NOT NULL DEFAULT '',
            closed_at TEXT,
            close_price REAL,
            pnl REAL,
            close_detail TEXT,
            close_run_id TEXT
        )""",
        # The hedger's checks (engine.hedging_records.ExternalMark): split is the P&L split
        # since entry as a JSON object in its parts' order.
        """CREATE TABLE external_marks (
            bond_id TEXT NOT NULL,
            time TEXT NOT NULL,
            run_id TEXT NOT NULL DEFAULT '',
            spot REAL,
            price REAL,
            delta REAL,
            gamma REAL,
            target REAL,
            held REAL,
            split TEXT NOT NULL DEFAULT '{}',
            PRIMARY KEY (bond_id, time)
        )""",
    ),
)
# --- end of the EXTERNAL leg ------------------------------------------------------------------

_V7 = Migration(
    version=7,
    description="lock records under their run: two runs locking alike keep a row each",
    statements=(
        # The run joins the key: before, a second run (a replay again into the same
        # journal) that locked a cluster at the same moment for the same reason replaced
        # the first run's row.  Rows written before keep '' (their run is unknown).
        """CREATE TABLE cluster_states_v7 (
            cluster TEXT NOT NULL,
            time TEXT NOT NULL,
            state TEXT NOT NULL,
            side TEXT NOT NULL DEFAULT '',
            reason TEXT NOT NULL,
            who TEXT NOT NULL,
            expires_at TEXT,
            run_id TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (run_id, cluster, time, state, side, reason)
        )""",
        """INSERT INTO cluster_states_v7
            (cluster, time, state, side, reason, who, expires_at, run_id)
            SELECT cluster, time, state, side, reason, who, expires_at, COALESCE(run_id, '')
            FROM cluster_states ORDER BY rowid""",
        "DROP TABLE cluster_states",
        "ALTER TABLE cluster_states_v7 RENAME TO cluster_states",
    ),
)

JOURNAL_SCHEMA = SchemaSpec(
    name="trade journal",
    application_id=JOURNAL_APPLICATION_ID,
    migrations=(_V1, _V2, _V3, _V4, _V5, _EXTERNAL, _V7),
)

#: Tables in the order ``journal export`` writes them and ``journal summary`` counts them.
JOURNAL_TABLES: tuple[str, ...] = (
    "runs",
    "tdi_snapshots",
    "baskets",
    "legs",
    "orders",
    "deals",
    "equity",
    "cluster_states",
    "manual_commands",
    "news_actions",
    "refusals",
    "errors",
    "external_positions",
    "external_marks",
)
