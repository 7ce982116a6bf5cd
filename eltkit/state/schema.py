"""The history file's schema and its migrations.

The file is stamped with SQLite's ``application_id`` so eltkit can tell its
own history from any other SQLite file (and refuse to touch a foreign one),
and with ``user_version`` so an older eltkit refuses a newer schema instead
of misreading it.
"""

from __future__ import annotations

APPLICATION_ID = 0x454C544B  # "ELTK"

MIGRATIONS: list[str] = [
    # 1: runs, node results, logs
    """
    CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        command TEXT NOT NULL,
        selection TEXT NOT NULL,
        trigger TEXT NOT NULL,
        job TEXT,
        status TEXT NOT NULL,
        started_at REAL NOT NULL,
        finished_at REAL,
        heartbeat_at REAL NOT NULL,
        pid INTEGER NOT NULL,
        host TEXT NOT NULL,
        user TEXT NOT NULL,
        project_dir TEXT NOT NULL,
        target TEXT,
        threads INTEGER,
        vars TEXT NOT NULL DEFAULT '{}',
        retry_of TEXT,
        message TEXT
    );
    CREATE INDEX runs_started ON runs (started_at);
    CREATE TABLE node_results (
        run_id TEXT NOT NULL REFERENCES runs (id),
        unique_id TEXT NOT NULL,
        name TEXT NOT NULL,
        resource_type TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        started_at REAL,
        finished_at REAL,
        duration_s REAL,
        rows_affected INTEGER,
        message TEXT,
        PRIMARY KEY (run_id, unique_id)
    );
    CREATE INDEX node_results_history ON node_results (unique_id, status, finished_at);
    CREATE TABLE logs (
        id INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL,
        unique_id TEXT,
        at REAL NOT NULL,
        level TEXT NOT NULL,
        message TEXT NOT NULL
    );
    CREATE INDEX logs_run ON logs (run_id, unique_id);
    """,
    # 2: source freshness checks
    """
    CREATE TABLE freshness_checks (
        id INTEGER PRIMARY KEY,
        checked_at REAL NOT NULL,
        unique_id TEXT NOT NULL,
        source TEXT NOT NULL,
        status TEXT NOT NULL,
        max_loaded_at TEXT,
        age_s REAL,
        warn_after_s REAL,
        error_after_s REAL,
        message TEXT,
        run_id TEXT
    );
    CREATE INDEX freshness_by_source ON freshness_checks (unique_id, checked_at);
    """,
    # 3: jobs and the scheduler, notifications, SLAs
    """
    ALTER TABLE runs ADD COLUMN job_run_id TEXT;
    CREATE TABLE job_runs (
        id TEXT PRIMARY KEY,
        job TEXT NOT NULL,
        reason TEXT NOT NULL,
        interval_start REAL,
        interval_end REAL,
        status TEXT NOT NULL,
        attempt INTEGER NOT NULL DEFAULT 1,
        queued_at REAL NOT NULL,
        not_before REAL,
        started_at REAL,
        finished_at REAL,
        pid INTEGER,
        host TEXT,
        backfill_id TEXT,
        message TEXT
    );
    CREATE INDEX job_runs_by_job ON job_runs (job, interval_end);
    CREATE INDEX job_runs_by_status ON job_runs (status);
    CREATE TABLE job_state (
        job TEXT PRIMARY KEY,
        paused INTEGER NOT NULL DEFAULT 0,
        paused_reason TEXT,
        consecutive_failures INTEGER NOT NULL DEFAULT 0,
        cursor REAL,
        after_cursor REAL,
        file_cursor REAL,
        updated_at REAL NOT NULL
    );
    CREATE TABLE scheduler_lock (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        pid INTEGER NOT NULL,
        host TEXT NOT NULL,
        started_at REAL NOT NULL,
        heartbeat_at REAL NOT NULL
    );
    CREATE TABLE notifications (
        id INTEGER PRIMARY KEY,
        at REAL NOT NULL,
        source TEXT NOT NULL,
        name TEXT NOT NULL,
        event TEXT NOT NULL,
        action TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        detail TEXT
    );
    CREATE INDEX notifications_by_name ON notifications (source, name, at);
    CREATE TABLE sla_evaluations (
        id INTEGER PRIMARY KEY,
        sla TEXT NOT NULL,
        evaluated_at REAL NOT NULL,
        due_at REAL,
        state TEXT NOT NULL,
        reason TEXT,
        predicted_finish REAL
    );
    CREATE INDEX sla_evaluations_by_sla ON sla_evaluations (sla, evaluated_at);
    CREATE TABLE sla_escalations (
        sla TEXT NOT NULL,
        due_at REAL NOT NULL,
        step INTEGER NOT NULL,
        fired_at REAL NOT NULL,
        PRIMARY KEY (sla, due_at, step)
    );
    """,
    # 4: each built relation's columns, recorded when they change (schema-change health)
    """
    CREATE TABLE model_columns (
        run_id TEXT NOT NULL,
        unique_id TEXT NOT NULL,
        captured_at REAL NOT NULL,
        columns TEXT NOT NULL,
        PRIMARY KEY (run_id, unique_id)
    );
    CREATE INDEX model_columns_by_node ON model_columns (unique_id, captured_at);
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)
