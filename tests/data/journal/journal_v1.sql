-- Trade journal, schema version 1 (frozen; see README.md).
PRAGMA application_id = 1180191310;
CREATE TABLE runs (
    run_id TEXT NOT NULL PRIMARY KEY,
    mode TEXT NOT NULL,
    config_hash TEXT NOT NULL,
    versions TEXT NOT NULL DEFAULT '{}',
    started_at TEXT NOT NULL,
    ended_at TEXT,
    end_reason TEXT
);
CREATE TABLE tdi_snapshots (
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
);
CREATE TABLE baskets (
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
);
CREATE TABLE legs (
    basket_id TEXT NOT NULL,
    symbol TEXT NOT NULL,
    side TEXT NOT NULL,
    volume REAL NOT NULL,
    PRIMARY KEY (basket_id, symbol)
);
CREATE TABLE orders (
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
);
CREATE TABLE deals (
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
);
CREATE TABLE equity (
    run_id TEXT NOT NULL,
    time TEXT NOT NULL,
    balance REAL,
    equity REAL,
    margin REAL,
    free_margin REAL,
    margin_level REAL,
    PRIMARY KEY (run_id, time)
);
CREATE TABLE cluster_locks (
    cluster TEXT NOT NULL,
    time TEXT NOT NULL,
    state TEXT NOT NULL,
    reason TEXT NOT NULL,
    expires_at TEXT,
    PRIMARY KEY (cluster, time)
);
CREATE INDEX baskets_closed ON baskets (closed_at);
CREATE INDEX orders_basket ON orders (basket_id);
CREATE INDEX deals_basket ON deals (basket_id);

INSERT INTO runs VALUES ('run-2019-02-04', 'replay', 'cfg-7f3a', '{"fxcluster":"0.0.9"}',
    '2019-02-04T00:00:00.000+00:00', '2019-02-05T23:59:00.000+00:00', 'end of data');

INSERT INTO tdi_snapshots VALUES
    ('run-2019-02-04', 'C3', '2019-02-04T14:00:00.000+00:00', -1.42, -3.1, 4.2, 0.61, 'ENTER_LONG', 'TDI < -E'),
    ('run-2019-02-04', 'C3', '2019-02-04T20:30:00.000+00:00', -0.08, -0.2, 3.9, 0.58, 'EXIT_MR', 'abs(TDI) < X'),
    ('run-2019-02-04', 'C1', '2019-02-05T09:00:00.000+00:00', 1.31, 2.6, 2.8, 0.49, 'ENTER_SHORT', 'TDI > E');

INSERT INTO baskets VALUES
    ('C3-20190204T1430-001', 'run-2019-02-04', 'C3', 'LONG', '2019-02-04T14:30:00.000+00:00',
     -1.42, 3003, '2019-02-04T21:00:00.000+00:00', -0.08, 'MR', 41.25),
    ('C1-20190205T0930-001', 'run-2019-02-04', 'C1', 'SHORT', '2019-02-05T09:30:00.000+00:00',
     1.31, 3001, NULL, NULL, NULL, NULL);

INSERT INTO legs VALUES
    ('C3-20190204T1430-001', 'EURUSD', 'BUY', 0.5),
    ('C3-20190204T1430-001', 'USDCHF', 'BUY', 0.3),
    ('C1-20190205T0930-001', 'GBPUSD', 'SELL', 0.2);

INSERT INTO orders VALUES
    ('req-0001', 'C3-20190204T1430-001', 'EURUSD', 'BUY', 0.5, 1.14488, 10, 3003,
     'C3-20190204T1430-001', 1, '{"action":1,"symbol":"EURUSD","type":0,"volume":0.5}',
     '2019-02-04T14:30:00.120+00:00', 10009, 4294967297, 4294967296, 0.5, 1.1449, 'done',
     '2019-02-04T14:30:00.180+00:00'),
    ('req-0002', 'C1-20190205T0930-001', 'GBPUSD', 'SELL', 0.2, 1.29874, 10, 3001,
     'C1-20190205T0930-001', 1, '{"action":1,"symbol":"GBPUSD","type":1,"volume":0.2}',
     '2019-02-05T09:30:00.050+00:00', NULL, NULL, NULL, NULL, NULL, NULL, NULL);

INSERT INTO deals VALUES
    (4294967297, 4294967296, 4294967296, 'EURUSD', 0, 0, 0.5, 1.1449, -3.5, 0.0, 0.0,
     '2019-02-04T14:30:00.150+00:00', 3003, 'C3-20190204T1430-001', 'C3-20190204T1430-001'),
    (4294967299, 4294967298, 4294967296, 'EURUSD', 1, 1, 0.5, 1.1461, -3.5, 0.0, 60.0,
     '2019-02-04T21:00:00.200+00:00', 3003, 'C3-20190204T1430-001', 'C3-20190204T1430-001');

INSERT INTO equity VALUES
    ('run-2019-02-04', '2019-02-04T14:30:00.000+00:00', 100000.0, 99996.5, 1200.0, 98796.5, 8333.0),
    ('run-2019-02-04', '2019-02-04T21:00:00.000+00:00', 100041.25, 100041.25, 0.0, 100041.25, 0.0);

INSERT INTO cluster_locks VALUES
    ('C2', '2019-02-04T16:00:00.000+00:00', 'CLOSE_ONLY', 'cooldown after HS', '2019-02-05T16:00:00.000+00:00');

PRAGMA user_version = 1;
