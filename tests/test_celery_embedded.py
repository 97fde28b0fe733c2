"""With no broker configured, a real worker runs tasks from the filesystem queue under var/queue/."""

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from celery import Celery

ROOT = Path(__file__).resolve().parent.parent


def manage(env, *args):
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True)


@pytest.fixture
def worker_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL")}
    env.update(
        VAR_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        CELERY_TASK_ALWAYS_EAGER="false",
    )
    manage(env, "migrate", "--noinput")
    manage(env, "createcachetable")
    return env


def test_a_real_worker_runs_a_task_sent_through_the_filesystem_broker(worker_env, tmp_path):
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--loglevel=info"],
        cwd=ROOT,
        env=worker_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        queue = str(tmp_path / "queue")
        sender = Celery(
            broker="filesystem://",
            broker_transport_options={
                "data_folder_in": queue,
                "data_folder_out": queue,
                "store_processed": False,
                "control_folder": f"{queue}/control",
            },
        )
        sender.send_task("newsletter.tasks.record_heartbeat")
        deadline = time.monotonic() + 60
        found = []
        while time.monotonic() < deadline and not found:
            with sqlite3.connect(tmp_path / "db.sqlite3") as db:
                found = db.execute(
                    "select cache_key from newsletter_cache where cache_key like '%heartbeat'"
                ).fetchall()
            time.sleep(0.5)
        assert found, "the worker did not run the task within 60 s"
    finally:
        worker.terminate()
        output = worker.communicate(timeout=30)[0].decode(errors="replace")
    assert "newsletter.tasks.record_heartbeat" in output
