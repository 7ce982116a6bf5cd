"""Deliver an event through a job's or an SLA's notification actions.

:func:`deliver` is what the scheduler and the SLA checker call. It never
raises because a notification could not be delivered: a dead webhook must
not stop the scheduler from running the next job. Each action's outcome is
returned and, when a history store is given, recorded in its
``notifications`` table, so a failed alert is itself visible.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from eltkit.errors import EltkitError
from eltkit.notify.command import run_command
from eltkit.notify.config import CommandAction, LogAction, NotifyAction, WebhookAction
from eltkit.notify.delivery import Delivery
from eltkit.notify.event import Event
from eltkit.notify.webhook import post_event, redact
from eltkit.state.notifications import record_notification
from eltkit.state.store import HistoryStore

logger = logging.getLogger("eltkit.notify")

_LEVELS = {"info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}

__all__ = ["Delivery", "Event", "deliver", "missing_secrets"]


def deliver(actions: Sequence[NotifyAction], event: Event, *, store: HistoryStore | None,
            cwd: Path, sleep: Callable[[float], None] = time.sleep) -> list[Delivery]:
    """Run each action in order for ``event``; return and record every outcome.

    ``cwd`` is the project root (where command actions run); ``sleep`` is how
    webhook retries wait, injectable so tests and callers control time.
    """
    payload = json.dumps(event.to_json(), default=str).encode()
    deliveries = []
    for action in actions:
        delivery = _deliver_one(action, event, payload, cwd=cwd, sleep=sleep)
        if not delivery.sent:
            logger.warning("%s %s: %s notification for %s failed: %s", event.source,
                           event.name, delivery.action, event.kind, delivery.detail)
        if store is not None:
            _record(store, event, delivery)
        deliveries.append(delivery)
    return deliveries


def missing_secrets(actions: Sequence[NotifyAction]) -> list[str]:
    """Names of the unset env vars the webhook actions need, each once, in order.

    Config loading calls this to fail early with a clear message, when it
    knows notifications will be sent (``eltkit schedule``), and not on every
    command that merely reads eltkit.yml.
    """
    names: list[str] = []
    for action in actions:
        if isinstance(action, WebhookAction):
            name = action.missing_secret()
            if name is not None and name not in names:
                names.append(name)
    return names


def _deliver_one(action: NotifyAction, event: Event, payload: bytes, *, cwd: Path,
                 sleep: Callable[[float], None]) -> Delivery:
    try:
        if isinstance(action, LogAction):
            return _log(action, event)
        if isinstance(action, WebhookAction):
            return post_event(action.webhook, payload, sleep=sleep)
        if isinstance(action, CommandAction):
            return run_command(action, event, payload, cwd=cwd)
        return Delivery(str(getattr(action, "kind", "unknown")), "failed", 0,
                        f"unknown notification action {type(action).__name__}")
    except Exception as exc:  # noqa: BLE001 - a notification bug must not stop the scheduler
        detail = f"{action.kind}: unexpected {type(exc).__name__}: {exc}"
        if isinstance(action, WebhookAction):
            detail = redact(detail, os.environ.get(action.webhook.url_env, "").strip())
        return Delivery(action.kind, "failed", 0, detail)


def _log(action: LogAction, event: Event) -> Delivery:
    """One line to the ``eltkit.notify`` logger and to stderr, where an operator looks."""
    line = f"[eltkit] {event.summary}"
    logger.log(_LEVELS[action.level], line)
    print(line, file=sys.stderr, flush=True)
    return Delivery("log", "sent", 1, f"logged at {action.level}: {event.summary}")


def _record(store: HistoryStore, event: Event, delivery: Delivery) -> None:
    """Store the outcome; a history that cannot be written loses a row, not the alert."""
    try:
        record_notification(store, source=event.source, name=event.name, event=event.kind,
                            action=delivery.action, status=delivery.status,
                            attempts=delivery.attempts, detail=delivery.detail)
    except (sqlite3.Error, EltkitError) as exc:
        logger.warning("could not record the %s notification for %s %s in %s: %s",
                       delivery.action, event.source, event.name, store.path, exc)
