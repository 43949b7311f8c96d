-- Trade journal, schema version 3 (frozen; see README.md).
PRAGMA application_id = 1180191310;
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
        , risk_budget REAL, costs REAL, exit_detail TEXT);
INSERT INTO "baskets" VALUES('USD_MAJORS-20240304T0900-001','live-5e1f0a2b','USD_MAJORS','LONG','2024-03-04T09:00:00.000+00:00',-1.31,710001,NULL,NULL,NULL,NULL,300.0,NULL,NULL);
INSERT INTO "baskets" VALUES('USD_MAJORS-20240108T1030-001','demo-0c4d9e71','USD_MAJORS','SHORT','2024-01-08T10:30:00.000+00:00',1.27,710001,'2024-01-08T15:00:00.000+00:00',0.1,'MR',52.5,300.0,-7.0,'');
INSERT INTO "baskets" VALUES('USD_MAJORS-20240108T1030-002','demo-8a3b6f20','USD_MAJORS','SHORT','2024-01-08T10:30:00.000+00:00',1.27,710001,NULL,NULL,NULL,NULL,300.0,NULL,NULL);
CREATE TABLE cluster_states (
            cluster TEXT NOT NULL,
            time TEXT NOT NULL,
            state TEXT NOT NULL,
            side TEXT NOT NULL DEFAULT '',
            reason TEXT NOT NULL,
            who TEXT NOT NULL,
            expires_at TEXT,
            run_id TEXT,
            PRIMARY KEY (cluster, time, state, side, reason)
        );
INSERT INTO "cluster_states" VALUES('GOLD_HAVENS','2024-03-04T12:00:00.000+00:00','CLOSE_ONLY','','cooldown after HS','engine','2024-03-04T14:00:00.000+00:00','live-5e1f0a2b');
CREATE TABLE "deals" (
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
        );
INSERT INTO "deals" VALUES(2,2,2,'EURUSD',1,0,0.5,1.0941,-3.5,0.0,0.0,'2024-01-08T10:30:00.080+00:00',710001,'USD_MAJORS-20240108T1030-002','USD_MAJORS-20240108T1030-002',0.0,'','demo-8a3b6f20');
INSERT INTO "deals" VALUES(811223344,811223300,811223300,'EURUSD',0,0,0.5,1.0852,-3.5,0.0,0.0,'2024-03-04T09:00:00.150+00:00',710001,'USD_MAJORS-20240304T0900-001','USD_MAJORS-20240304T0900-001',0.0,'','');
CREATE TABLE equity (
            run_id TEXT NOT NULL,
            time TEXT NOT NULL,
            balance REAL,
            equity REAL,
            margin REAL,
            free_margin REAL,
            margin_level REAL, open_risk REAL,
            PRIMARY KEY (run_id, time)
        );
INSERT INTO "equity" VALUES('live-5e1f0a2b','2024-03-04T21:00:00.000+00:00',25000.0,24987.2,540.0,24447.2,4627.3,300.0);
INSERT INTO "equity" VALUES('demo-0c4d9e71','2024-01-09T00:00:00.000+00:00',100052.5,100052.5,0.0,100052.5,0.0,0.0);
INSERT INTO "equity" VALUES('demo-8a3b6f20','2024-01-08T11:00:00.000+00:00',100000.0,99991.3,540.0,99451.3,18517.0,300.0);
CREATE TABLE errors (
            run_id TEXT NOT NULL DEFAULT '',
            time TEXT NOT NULL,
            component TEXT NOT NULL,
            message TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (run_id, time, component, message)
        );
INSERT INTO "errors" VALUES('live-5e1f0a2b','2024-03-04T10:00:00.000+00:00','execution','requote','EURUSD 10004');
CREATE TABLE journal_account (
            id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
            mode TEXT NOT NULL,
            server TEXT NOT NULL,
            login INTEGER NOT NULL,
            currency TEXT NOT NULL,
            bound_at TEXT NOT NULL
        );
CREATE TABLE legs (
            basket_id TEXT NOT NULL,
            symbol TEXT NOT NULL,
            side TEXT NOT NULL,
            volume REAL NOT NULL, exposure REAL NOT NULL DEFAULT 0,
            PRIMARY KEY (basket_id, symbol)
        );
INSERT INTO "legs" VALUES('USD_MAJORS-20240304T0900-001','EURUSD','BUY',0.5,54000.0);
INSERT INTO "legs" VALUES('USD_MAJORS-20240108T1030-001','EURUSD','SELL',0.5,-54000.0);
INSERT INTO "legs" VALUES('USD_MAJORS-20240108T1030-002','EURUSD','SELL',0.5,-54000.0);
CREATE TABLE manual_commands (
            command_id TEXT NOT NULL PRIMARY KEY,
            time TEXT NOT NULL,
            source TEXT NOT NULL,
            command TEXT NOT NULL,
            arguments TEXT NOT NULL DEFAULT '{}',
            result TEXT
        );
INSERT INTO "manual_commands" VALUES('cmd-1','2024-03-04T12:30:00.000+00:00','gui','pause','{"cluster":"GOLD_HAVENS"}','ok: paused');
CREATE TABLE "news_actions" (
            cluster TEXT NOT NULL,
            action TEXT NOT NULL,
            event_time TEXT NOT NULL,
            currency TEXT NOT NULL,
            title TEXT NOT NULL,
            impact TEXT NOT NULL,
            time TEXT NOT NULL,
            run_id TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (run_id, cluster, action, event_time, currency, title)
        );
INSERT INTO "news_actions" VALUES('USD_MAJORS','BLOCK_ENTRY','2024-01-08T13:30:00.000+00:00','USD','CPI m/m','HIGH','2024-01-08T13:00:00.000+00:00','demo-8a3b6f20');
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
        , purpose TEXT NOT NULL DEFAULT 'UNKNOWN', result_json TEXT, account TEXT NOT NULL DEFAULT '', epoch TEXT NOT NULL DEFAULT '');
INSERT INTO "orders" VALUES('live-5e1f0a2b:000001','USD_MAJORS-20240304T0900-001','EURUSD','BUY',0.5,1.0851,10,710001,'USD_MAJORS-20240304T0900-001',1,'{"action":1,"symbol":"EURUSD","type":0,"volume":0.5}','2024-03-04T09:00:00.120+00:00',10009,811223344,811223300,0.5,1.0852,'Request executed','2024-03-04T09:00:00.180+00:00','ENTRY','{"retcode":10009}','','');
INSERT INTO "orders" VALUES('demo-0c4d9e71:000001','USD_MAJORS-20240108T1030-001','EURUSD','SELL',0.5,1.0941,10,710001,'USD_MAJORS-20240108T1030-001',1,'{"action":1,"symbol":"EURUSD","type":1,"volume":0.5}','2024-01-08T10:30:00.050+00:00',10009,2,2,0.5,1.0941,'Request executed','2024-01-08T10:30:00.100+00:00','ENTRY','{"retcode":10009}','','demo-0c4d9e71');
INSERT INTO "orders" VALUES('demo-8a3b6f20:000001','USD_MAJORS-20240108T1030-002','EURUSD','SELL',0.5,1.0941,10,710001,'USD_MAJORS-20240108T1030-002',1,'{"action":1,"symbol":"EURUSD","type":1,"volume":0.5}','2024-01-08T10:30:00.050+00:00',10009,2,2,0.5,1.0941,'Request executed','2024-01-08T10:30:00.100+00:00','ENTRY','{"retcode":10009}','','demo-8a3b6f20');
CREATE TABLE refusals (
            run_id TEXT NOT NULL DEFAULT '',
            time TEXT NOT NULL,
            cluster TEXT NOT NULL,
            reason TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (run_id, time, cluster, reason)
        );
INSERT INTO "refusals" VALUES('demo-0c4d9e71','2024-01-08T13:00:00.000+00:00','USD_MAJORS','news blackout','CPI m/m');
CREATE TABLE runs (
            run_id TEXT NOT NULL PRIMARY KEY,
            mode TEXT NOT NULL,
            config_hash TEXT NOT NULL,
            versions TEXT NOT NULL DEFAULT '{}',
            started_at TEXT NOT NULL,
            ended_at TEXT,
            end_reason TEXT
        , account TEXT NOT NULL DEFAULT '', server TEXT NOT NULL DEFAULT '', login INTEGER, currency TEXT NOT NULL DEFAULT '', epoch TEXT NOT NULL DEFAULT '', last_equity REAL);
INSERT INTO "runs" VALUES('live-5e1f0a2b','live','cfg-7f3a','{"engine":"0.1.0"}','2024-03-04T07:00:00.000+00:00','2024-03-04T21:00:00.000+00:00','end of run','','',NULL,'','',NULL);
INSERT INTO "runs" VALUES('demo-0c4d9e71','demo','cfg-7f3a','{"engine":"0.1.0"}','2024-01-08T00:00:00.000+00:00','2024-01-09T00:00:00.000+00:00','end of run','','',NULL,'','demo-0c4d9e71',NULL);
INSERT INTO "runs" VALUES('demo-8a3b6f20','demo','cfg-7f3a','{"engine":"0.1.0"}','2024-01-08T00:00:00.000+00:00',NULL,NULL,'','',NULL,'','demo-8a3b6f20',NULL);
CREATE TABLE "tdi_snapshots" (
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
        );
INSERT INTO "tdi_snapshots" VALUES('live-5e1f0a2b','USD_MAJORS','M30','2024-03-04T09:00:00.000+00:00',-1.31,-2.9,3.4,0.58,'ENTER_LONG','TDI < -E');
INSERT INTO "tdi_snapshots" VALUES('demo-0c4d9e71','USD_MAJORS','M30','2024-01-08T10:30:00.000+00:00',1.27,2.5,2.9,0.52,'ENTER_SHORT','TDI > E');
INSERT INTO "tdi_snapshots" VALUES('demo-8a3b6f20','USD_MAJORS','M30','2024-01-08T10:30:00.000+00:00',1.27,2.5,2.9,0.52,'ENTER_SHORT','TDI > E');
CREATE INDEX baskets_closed ON baskets (closed_at);
CREATE INDEX orders_basket ON orders (basket_id);
CREATE INDEX tdi_cluster_time ON tdi_snapshots (cluster, timeframe, bar_time);
CREATE INDEX baskets_cluster_closed ON baskets (cluster, closed_at);
CREATE INDEX orders_pending ON orders (sent_at) WHERE received_at IS NULL;
CREATE INDEX equity_time ON equity (time);
CREATE INDEX refusals_time ON refusals (time);
CREATE INDEX deals_basket ON deals (basket_id);
CREATE INDEX deals_position ON deals (epoch, position_id);
PRAGMA user_version = 3;
