"""S3Storage against the moto server: listing, staging, publish, roll-back, recovery, locks."""

from __future__ import annotations

import json
from typing import Any

import pytest
from moto_helpers import etags, keys

from enterprise_data_engineering.errors import (
    ConfigError,
    DependencyError,
    EdeRuntimeError,
    EdeTimeoutError,
)
from enterprise_data_engineering.storage import list_files, storage_for
from enterprise_data_engineering.storage.base import StagedSink
from enterprise_data_engineering.storage.s3 import S3Storage, split_url

pytestmark = pytest.mark.aws


def put(s3: Any, bucket: str, *names: str, body: bytes = b"x") -> None:
    for name in names:
        s3.put_object(Bucket=bucket, Key=name, Body=body)


def write_staged(s3: Any, staged: StagedSink, *names: str) -> list[str]:
    """What an engine does: write objects under the staged prefix."""
    bucket, prefix = split_url(staged.path)
    put(s3, bucket, *(f"{prefix}/{n}" for n in names), body=staged.run_id.encode())
    return list(names)


def die(storage: S3Storage, s3: Any, bucket: str) -> None:
    """Simulate a SIGKILL of the process owning ``storage``: no heartbeat, lease expired."""
    with storage._mutex:
        storage._runs.clear()
    for key in keys(s3, bucket):
        if key.endswith(".lease"):
            s3.delete_object(Bucket=bucket, Key=key)


# ---------------------------------------------------------------------------------- listing


def test_list_files_globs_folders_and_hidden_names(s3: Any, bucket: str) -> None:
    put(
        s3,
        bucket,
        "raw/orders/2026-01.csv",
        "raw/orders/2026-02.csv",
        "raw/orders/notes.txt",
        "raw/orders/_SUCCESS",
        "raw/orders/.hidden.csv",
        "raw/orders/region=eu/part-0.csv",
        "raw/orders/.ede-staging/run/x/part-0.csv",
        "raw/ordersX/2026-03.csv",
        "raw/orders.csv",
    )
    url = f"s3://{bucket}/"
    assert list_files(f"{url}raw/orders/*.csv") == [
        f"{url}raw/orders/2026-01.csv",
        f"{url}raw/orders/2026-02.csv",
    ]
    assert list_files(f"{url}raw/orders/**/*.csv") == [
        f"{url}raw/orders/2026-01.csv",
        f"{url}raw/orders/2026-02.csv",
        f"{url}raw/orders/region=eu/part-0.csv",
    ]
    assert list_files(f"{url}raw/orders") == [  # a folder: everything below, but hidden
        f"{url}raw/orders/2026-01.csv",
        f"{url}raw/orders/2026-02.csv",
        f"{url}raw/orders/notes.txt",
        f"{url}raw/orders/region=eu/part-0.csv",
    ]
    assert list_files(f"{url}raw/orders.csv") == [f"{url}raw/orders.csv"]
    assert list_files(f"{url}raw/orders/2026-0[12].csv") == [
        f"{url}raw/orders/2026-01.csv",
        f"{url}raw/orders/2026-02.csv",
    ]
    assert list_files(f"{url}raw/*/2026-03.csv") == [f"{url}raw/ordersX/2026-03.csv"]
    with pytest.raises(DependencyError, match="no files match"):
        list_files(f"{url}raw/nothing/*.csv")
    with pytest.raises(DependencyError, match=r"does not exist|not found"):
        list_files("s3://ede-no-such-bucket-here/raw/*.csv")


def test_storage_is_registered_for_s3() -> None:
    assert isinstance(storage_for("s3://lake/x"), S3Storage)
    assert not S3Storage.atomic_publish


@pytest.mark.parametrize("bad", ["s3://lake", "s3://lake/", "s3://lake/.ede-staging", "s3://l/*"])
def test_invalid_sink_paths(bad: str) -> None:
    with pytest.raises(ConfigError):
        S3Storage().stage(bad, "run1", "sink")


# ---------------------------------------------------------------------------------- publish


def test_overwrite_publish_leaves_exactly_the_new_objects(s3: Any, bucket: str) -> None:
    put(s3, bucket, "lake/sales/part-old-0.parquet", "lake/sales/region=eu/part-old-1.parquet")
    put(s3, bucket, "lake/sales_archive/keep.parquet")  # a sibling that shares the prefix
    storage = S3Storage()
    staged = storage.stage(f"s3://{bucket}/lake/sales", "run1", "sales")
    assert staged.path == f"s3://{bucket}/lake/.ede-staging/run1/sales"
    assert keys(s3, bucket, "lake/.ede-staging/") == ["lake/.ede-staging/run1.lease"]
    write_staged(s3, staged, "region=eu/part-run1-0.parquet", "region=us/part-run1-0.parquet")
    # Before publish, readers of the sink see only the old objects.
    assert keys(s3, bucket, "lake/sales/") == [
        "lake/sales/part-old-0.parquet",
        "lake/sales/region=eu/part-old-1.parquet",
    ]
    storage.publish(staged, "overwrite")
    assert keys(s3, bucket, "lake/") == [
        "lake/sales/region=eu/part-run1-0.parquet",
        "lake/sales/region=us/part-run1-0.parquet",
        "lake/sales_archive/keep.parquet",
    ]


def test_append_adds_and_refuses_a_clash(s3: Any, bucket: str) -> None:
    put(s3, bucket, "q/orders/part-a-0.parquet")
    storage = S3Storage()
    staged = storage.stage(f"s3://{bucket}/q/orders", "run2", "orders")
    write_staged(s3, staged, "part-run2-0.parquet")
    storage.publish(staged, "append")
    assert keys(s3, bucket, "q/") == ["q/orders/part-a-0.parquet", "q/orders/part-run2-0.parquet"]

    before = etags(s3, bucket, "q/orders/")
    clash = storage.stage(f"s3://{bucket}/q/orders", "run3", "orders")
    write_staged(s3, clash, "part-a-0.parquet", "part-run3-0.parquet")
    with pytest.raises(EdeRuntimeError, match=r"part-a-0\.parquet"):
        storage.publish(clash, "append")
    storage.discard(clash)
    assert etags(s3, bucket, "q/orders/") == before
    assert keys(s3, bucket, "q/.ede-staging/") == []


def test_discard_leaves_the_sink_and_no_staging(s3: Any, bucket: str) -> None:
    put(s3, bucket, "d/sink/old.csv")
    before = etags(s3, bucket)
    storage = S3Storage()
    staged = storage.stage(f"s3://{bucket}/d/sink", "run4", "sink")
    write_staged(s3, staged, "part-run4-0.csv")
    storage.discard(staged)
    assert etags(s3, bucket) == before


def test_a_failed_copy_rolls_back(s3: Any, bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    put(s3, bucket, "f/sink/old-0.csv", "f/sink/old-1.csv")
    before = etags(s3, bucket)
    storage = S3Storage()
    staged = storage.stage(f"s3://{bucket}/f/sink", "run5", "sink")
    write_staged(s3, staged, "a.csv", "b.csv", "c.csv")
    real_copy = storage._copy_all

    def copy_some_then_fail(b: str, copies: list[Any], what: str) -> None:
        real_copy(b, copies[:2], what)
        raise EdeRuntimeError("copy failed")

    monkeypatch.setattr(storage, "_copy_all", copy_some_then_fail)
    with pytest.raises(EdeRuntimeError, match="copy failed"):
        storage.publish(staged)
    storage.discard(staged)
    assert etags(s3, bucket) == before  # old objects, no new ones, no journal, no staging


# --------------------------------------------------------------------- interrupted publish


def _publish_until(storage: S3Storage, staged: StagedSink, *, commit: bool) -> None:
    """Run publish's steps 1-4 (and 5 with ``commit``) by hand, then stop, as a kill would."""
    bucket, sink_key = split_url(staged.sink_path)
    _, staged_key = split_url(staged.path)
    root = storage._root(sink_key)
    journal = f"{root}{sink_key.rsplit('/', 1)[-1]}.publish.json"
    objs = list(storage._objects(bucket, staged_key + "/", "t"))
    copies = [(o["Key"], f"{sink_key}/{o['Key'][len(staged_key) + 1 :]}", o["Size"]) for o in objs]
    body: dict[str, Any] = {"run_id": staged.run_id, "state": "copying", "mode": "overwrite"}
    body["new"] = [dst for _, dst, _ in copies]
    etag = storage._lock_sink(bucket, journal, body, staged, "t")
    old = list(storage._keys(bucket, sink_key + "/", "t"))
    storage._copy_all(bucket, copies[:1] if not commit else copies, "t")
    if commit:
        body.update(state="committed", delete=old)
        storage._put_json(bucket, journal, body, "t", if_match=etag)


@pytest.mark.parametrize(
    "commit", [False, True], ids=["killed-while-copying", "killed-after-commit"]
)
def test_the_next_run_resolves_an_interrupted_publish(s3: Any, bucket: str, commit: bool) -> None:
    put(s3, bucket, "i/sink/old-0.csv", "i/sink/old-1.csv")
    old = keys(s3, bucket, "i/sink/")
    dead = S3Storage()
    staged = dead.stage(f"s3://{bucket}/i/sink", "deadrun", "sink")
    new = write_staged(s3, staged, "part-deadrun-0.csv", "part-deadrun-1.csv")
    _publish_until(dead, staged, commit=commit)
    mixed = keys(s3, bucket, "i/sink/")
    assert len(mixed) == (4 if commit else 3)  # what a concurrent reader could see now
    die(dead, s3, bucket)

    S3Storage().recover(f"s3://{bucket}/i/sink")
    expected = [f"i/sink/{n}" for n in new] if commit else old
    assert keys(s3, bucket, "i/") == expected  # whole old or whole new; nothing else left


def test_a_live_publisher_is_waited_for_then_times_out(s3: Any, bucket: str) -> None:
    put(s3, bucket, "l/sink/old.csv")
    first = S3Storage()
    holder = first.stage(f"s3://{bucket}/l/sink", "holder", "sink")
    write_staged(s3, holder, "h.csv")
    # The holder is between steps 2 and 5: it holds the journal and is alive.
    first._lock_sink(
        bucket, "l/.ede-staging/sink.publish.json", {"run_id": "holder", "new": []}, holder, "t"
    )
    second = S3Storage(lock_timeout=0.3, poll_interval=0.05)
    other = second.stage(f"s3://{bucket}/l/sink", "waiter", "sink")
    write_staged(s3, other, "w.csv")
    with pytest.raises(EdeTimeoutError, match="holder"):
        second.publish(other)
    assert keys(s3, bucket, "l/sink/") == ["l/sink/old.csv"]
    # Once the holder is dead, the waiter recovers its journal and publishes.
    die(first, s3, bucket)
    third = S3Storage(lock_timeout=5, poll_interval=0.05)
    again = third.stage(f"s3://{bucket}/l/sink", "waiter2", "sink")
    write_staged(s3, again, "w2.csv")
    third.publish(again)
    second.discard(other)
    assert keys(s3, bucket, "l/") == ["l/sink/w2.csv"]


def test_recover_removes_dead_staging_but_keeps_live_runs(s3: Any, bucket: str) -> None:
    put(s3, bucket, "r/.ede-staging/dead1/sink/part-0.csv")  # no lease at all
    s3.put_object(  # a lease whose own ttl has run out
        Bucket=bucket,
        Key="r/.ede-staging/dead2.lease",
        Body=b"{}",
        Metadata={"ede-lease-ttl": "-5"},
    )
    live = S3Storage()
    staged = live.stage(f"s3://{bucket}/r/sink", "alive", "sink")
    write_staged(s3, staged, "part-alive-0.csv")
    # A fresh lease written by another process (its heartbeat would keep it fresh).
    put(s3, bucket, "r/.ede-staging/other.lease", "r/.ede-staging/other/sink/p.csv")
    S3Storage().recover(f"s3://{bucket}/r/sink")
    assert keys(s3, bucket, "r/.ede-staging/") == [
        "r/.ede-staging/alive.lease",
        "r/.ede-staging/alive/sink/part-alive-0.csv",
        "r/.ede-staging/other.lease",
        "r/.ede-staging/other/sink/p.csv",
    ]
    live.discard(staged)


def test_an_expired_lease_is_dead(s3: Any, bucket: str) -> None:
    storage = S3Storage(lease_ttl=0.01)
    # A lease object whose own ttl says it expired long ago (server clock).
    s3.put_object(
        Bucket=bucket,
        Key="e/.ede-staging/old.lease",
        Body=json.dumps({"run_id": "old"}).encode(),
        Metadata={"ede-lease-ttl": "-10"},
    )
    put(s3, bucket, "e/.ede-staging/old/sink/part.csv")
    storage.recover(f"s3://{bucket}/e/sink")
    assert keys(s3, bucket, "e/") == []


def test_heartbeat_keeps_the_lease_and_never_resurrects_it(s3: Any, bucket: str) -> None:
    import time

    storage = S3Storage(lease_ttl=0.2)  # a heartbeat every 0.05 s
    staged = storage.stage(f"s3://{bucket}/h/sink", "beating", "sink")
    lease = "h/.ede-staging/beating.lease"
    s3.delete_object(Bucket=bucket, Key=lease)
    deadline = time.monotonic() + 10
    while lease not in keys(s3, bucket, "h/") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert lease in keys(s3, bucket, "h/")  # rewritten by the heartbeat
    storage.discard(staged)
    time.sleep(0.3)  # several heartbeat periods
    assert keys(s3, bucket, "h/") == []


def test_a_publish_that_lost_its_lock_does_not_commit(
    s3: Any, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    put(s3, bucket, "k/sink/old.csv")
    storage = S3Storage()
    staged = storage.stage(f"s3://{bucket}/k/sink", "slow", "sink")
    write_staged(s3, staged, "part-slow-0.csv")
    real_copy = storage._copy_all
    journal = "k/.ede-staging/sink.publish.json"

    def copy_while_taken_over(b: str, copies: list[Any], what: str) -> None:
        real_copy(b, copies, what)
        # Meanwhile another run found this run's lease expired and claimed the journal.
        body = json.loads(s3.get_object(Bucket=bucket, Key=journal)["Body"].read())
        body["claimed_by"] = "someone-else"
        s3.put_object(Bucket=bucket, Key=journal, Body=json.dumps(body).encode())

    monkeypatch.setattr(storage, "_copy_all", copy_while_taken_over)
    with pytest.raises(EdeRuntimeError, match="took over"):
        storage.publish(staged)
    storage.discard(staged)
    assert keys(s3, bucket, "k/sink/") == ["k/sink/old.csv"]  # its copies were removed
    assert journal in keys(s3, bucket, "k/")  # the other run's journal is left alone
