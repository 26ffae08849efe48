"""Local storage: staging, atomic publish (overwrite/append), discard, recovery after crashes."""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from enterprise_data_engineering.errors import (
    ConfigError,
    DependencyError,
    EdeRuntimeError,
    EdeTimeoutError,
    PermissionDeniedError,
)
from enterprise_data_engineering.storage import (
    STAGING_DIR,
    LocalStorage,
    StagedSink,
    is_url,
    list_files,
    local_path,
    os_error,
    scheme,
    storage_for,
)

# ----------------------------------------------------------------------------- helpers


def snapshot(folder: Path) -> tuple[tuple[str, str], ...] | None:
    """Every file and folder below ``folder`` with a hash of its content; None if missing."""
    if not folder.exists():
        return None
    entries: list[tuple[str, str]] = []
    for root, dirs, files in os.walk(folder):
        for d in dirs:
            entries.append((str(Path(root, d).relative_to(folder)), "<dir>"))
        for f in files:
            path = Path(root, f)
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            entries.append((str(path.relative_to(folder)), digest))
    return tuple(sorted(entries))


def write_files(folder: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def stage_with(storage: LocalStorage, sink: Path, run_id: str, files: dict[str, str]) -> StagedSink:
    staged = storage.stage(str(sink), run_id, sink.name)
    assert Path(staged.path).is_dir()
    assert not any(Path(staged.path).iterdir())
    write_files(Path(staged.path), files)
    return staged


def publish_files(
    storage: LocalStorage, sink: Path, run_id: str, files: dict[str, str], mode: str = "overwrite"
) -> None:
    staged = stage_with(storage, sink, run_id, files)
    storage.publish(staged, mode)  # type: ignore[arg-type]


def assert_clean(parent: Path) -> None:
    assert not (parent / STAGING_DIR).exists(), sorted(
        str(p) for p in (parent / STAGING_DIR).rglob("*")
    )


@pytest.fixture(params=[None, False], ids=["exchange", "journaled"])
def storage(request: pytest.FixtureRequest) -> LocalStorage:
    return LocalStorage(use_exchange=request.param, lock_timeout=30)


OLD = {"region=eu/part-old-0.csv": "eu,1\n", "region=us/part-old-0.csv": "us,2\n", "x.txt": "x"}
NEW = {"region=eu/part-new-0.csv": "eu,3\n", "region=asia/part-new-0.csv": "asia,4\n"}


# ----------------------------------------------------------------------------- paths


def test_schemes_and_local_paths() -> None:
    assert scheme("data/orders.csv") == "file"
    assert scheme("/abs/orders") == "file"
    assert scheme("S3://bucket/key") == "s3"
    assert scheme("C:\\data\\x.csv") == "file"
    assert is_url("s3://b/k") and is_url("file:///tmp/x") and not is_url("data/x")
    assert local_path("file:///tmp/a%20b") == "/tmp/a b"
    assert local_path("rel/x") == "rel/x"
    with pytest.raises(ConfigError):
        local_path("s3://bucket/x")


def test_list_files_folder_glob_and_missing(tmp_path: Path) -> None:
    write_files(
        tmp_path / "orders",
        {
            "region=eu/a.csv": "1",
            "region=us/b.csv": "2",
            "c.csv": "3",
            "_SUCCESS": "",
            ".hidden/x.csv": "4",
            "region=eu/.a.csv.crc": "",
        },
    )
    folder = tmp_path / "orders"
    expected = [
        str(folder / "c.csv"),
        str(folder / "region=eu/a.csv"),
        str(folder / "region=us/b.csv"),
    ]
    assert list_files(str(folder)) == expected
    assert list_files(f"file://{folder}") == expected
    assert list_files(str(folder / "*.csv")) == [str(folder / "c.csv")]
    assert list_files(str(folder / "**" / "*.csv")) == expected
    assert list_files(str(folder / "region=*")) == expected[1:]
    assert list_files(str(folder / "c.csv")) == [str(folder / "c.csv")]
    with pytest.raises(DependencyError, match="no files match") as info:
        list_files(str(folder / "*.parquet"))
    assert info.value.exit_code == 3
    with pytest.raises(DependencyError, match="no files match"):
        list_files(str(tmp_path / "absent"))


def test_os_error_translation() -> None:
    denied = os_error(OSError(errno.EACCES, "Permission denied"), "reading", "/x/y")
    assert isinstance(denied, PermissionDeniedError) and denied.exit_code == 4
    assert "`/x/y`" in str(denied)
    missing = os_error(OSError(errno.ENOENT, "No such file"), "reading", "/x/y", is_input=True)
    assert isinstance(missing, DependencyError) and missing.exit_code == 3
    other = os_error(OSError(errno.ENOSPC, "No space left"), "writing", "/x/y")
    assert type(other) is EdeRuntimeError and "No space left" in str(other)


def test_storage_for_by_scheme() -> None:
    assert isinstance(storage_for("out/sink"), LocalStorage)
    assert storage_for("file:///tmp/x") is storage_for("/tmp/y")
    with pytest.raises(ConfigError, match="gs://"):
        storage_for("gs://bucket/x")


# ----------------------------------------------------------------------------- publish


def test_overwrite_creates_a_new_sink_and_leaves_only_the_sink(
    storage: LocalStorage, tmp_path: Path
) -> None:
    sink = tmp_path / "out" / "revenue"
    publish_files(storage, sink, "run1", NEW)
    assert snapshot(sink) == snapshot_of(tmp_path / "expected", NEW)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["revenue"]


def snapshot_of(folder: Path, files: dict[str, str]) -> tuple[tuple[str, str], ...] | None:
    write_files(folder, files)
    try:
        return snapshot(folder)
    finally:
        shutil.rmtree(folder)


def test_overwrite_replaces_every_file(storage: LocalStorage, tmp_path: Path) -> None:
    sink = tmp_path / "out" / "revenue"
    write_files(sink, OLD)
    publish_files(storage, sink, "run1", NEW)
    assert snapshot(sink) == snapshot_of(tmp_path / "expected", NEW)
    assert_clean(tmp_path / "out")


def test_append_merges_partitions_with_hard_links(storage: LocalStorage, tmp_path: Path) -> None:
    sink = tmp_path / "out" / "revenue"
    write_files(sink, OLD)
    inode = (sink / "region=eu/part-old-0.csv").stat().st_ino
    publish_files(storage, sink, "run2", NEW, mode="append")
    assert snapshot(sink) == snapshot_of(tmp_path / "expected", {**OLD, **NEW})
    assert (sink / "region=eu/part-old-0.csv").stat().st_ino == inode
    assert_clean(tmp_path / "out")


def test_append_to_a_missing_sink_creates_it(storage: LocalStorage, tmp_path: Path) -> None:
    sink = tmp_path / "out" / "revenue"
    publish_files(storage, sink, "run1", NEW, mode="append")
    assert snapshot(sink) == snapshot_of(tmp_path / "expected", NEW)


def test_append_clash_changes_nothing(storage: LocalStorage, tmp_path: Path) -> None:
    sink = tmp_path / "out" / "revenue"
    write_files(sink, OLD)
    before = snapshot(sink)
    staged = stage_with(storage, sink, "run3", {"region=us/part-old-0.csv": "clash"})
    with pytest.raises(EdeRuntimeError, match=re.escape("region=us/part-old-0.csv")) as info:
        storage.publish(staged, "append")
    assert info.value.exit_code == 2
    assert snapshot(sink) == before
    storage.discard(staged)
    assert snapshot(sink) == before
    assert_clean(tmp_path / "out")


def test_discard_leaves_the_sink_byte_identical(storage: LocalStorage, tmp_path: Path) -> None:
    sink = tmp_path / "out" / "revenue"
    write_files(sink, OLD)
    before = snapshot(sink)
    staged = stage_with(storage, sink, "run4", NEW)
    storage.discard(staged)
    storage.discard(staged)  # harmless
    assert snapshot(sink) == before
    assert_clean(tmp_path / "out")
    with pytest.raises(EdeRuntimeError, match="not staged"):
        storage.publish(staged)


def test_discard_removes_the_folders_stage_created(storage: LocalStorage, tmp_path: Path) -> None:
    a = stage_with(storage, tmp_path / "new" / "deep" / "a", "run5", NEW)
    b = stage_with(storage, tmp_path / "new" / "deep" / "b", "run5", NEW)
    storage.discard(b)
    storage.discard(a)
    assert list(tmp_path.iterdir()) == []


def test_sinks_sharing_a_parent(storage: LocalStorage, tmp_path: Path) -> None:
    out = tmp_path / "out"
    a = stage_with(storage, out / "a", "run6", {"a.txt": "a"})
    b = stage_with(storage, out / "b", "run6", {"b.txt": "b"})
    assert Path(a.path).parent == Path(b.path).parent
    storage.publish(a)
    assert (out / STAGING_DIR).exists()  # b is still staged
    storage.publish(b)
    assert (out / "a" / "a.txt").read_text() == "a"
    assert (out / "b" / "b.txt").read_text() == "b"
    assert sorted(p.name for p in out.iterdir()) == ["a", "b"]


def test_publish_twice_is_an_error(storage: LocalStorage, tmp_path: Path) -> None:
    sink = tmp_path / "sink"
    staged = stage_with(storage, sink, "run7", NEW)
    storage.publish(staged)
    with pytest.raises(EdeRuntimeError, match="not staged"):
        storage.publish(staged)
    with pytest.raises(ConfigError, match="mode"):
        storage.publish(staged, "upsert")  # type: ignore[arg-type]


def test_symlinked_sink_is_published_beside_its_target(
    storage: LocalStorage, tmp_path: Path
) -> None:
    target = tmp_path / "lake" / "revenue"
    write_files(target, OLD)
    (tmp_path / "out").mkdir()
    link = tmp_path / "out" / "revenue"
    link.symlink_to(target)
    publish_files(storage, link, "run8", NEW)
    assert link.is_symlink()
    assert snapshot(target) == snapshot_of(tmp_path / "expected", NEW)
    assert_clean(tmp_path / "lake")


def test_bad_sinks_and_run_ids(storage: LocalStorage, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(EdeRuntimeError, match="not a folder"):
        storage.stage(str(tmp_path / "file"), "run9", "s")
    with pytest.raises(ConfigError, match="reserved"):
        storage.stage(str(tmp_path / ".ede-staging"), "run9", "s")
    with pytest.raises(ConfigError, match="run id"):
        storage.stage(str(tmp_path / "ok"), "../evil", "s")
    staged = storage.stage(str(tmp_path / "ok"), "run9", "s")
    with pytest.raises(EdeRuntimeError, match="already staged"):
        storage.stage(str(tmp_path / "ok"), "run9", "s2")
    storage.discard(staged)


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores folder permissions")
def test_read_only_parent_is_a_permission_error(storage: LocalStorage, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o555)
    try:
        with pytest.raises(PermissionDeniedError, match="out") as info:
            storage.stage(str(out / "sink"), "run10", "sink")
        assert info.value.exit_code == 4
    finally:
        out.chmod(0o755)


# ----------------------------------------------------------------------------- locking


def test_publish_waits_for_the_sink_lock_then_times_out(tmp_path: Path) -> None:
    storage = LocalStorage(lock_timeout=0.2)
    sink = tmp_path / "out" / "sink"
    write_files(sink, OLD)
    before = snapshot(sink)
    staged = stage_with(storage, sink, "run11", NEW)
    lock_path = tmp_path / "out" / STAGING_DIR / "sink.sink.lock"
    with lock_path.open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(EdeTimeoutError, match="sink") as info:
            storage.publish(staged)
        assert info.value.exit_code == 6
        assert snapshot(sink) == before
    storage.publish(staged)  # released: now it goes through
    assert snapshot(sink) == snapshot_of(tmp_path / "expected", NEW)
    assert_clean(tmp_path / "out")


def test_concurrent_appends_keep_every_file(storage: LocalStorage, tmp_path: Path) -> None:
    sink = tmp_path / "out" / "sink"
    errors: list[BaseException] = []

    def append(n: int) -> None:
        try:
            for k in range(5):
                files = {f"p={n % 2}/run{n}-{k}.txt": f"{n}-{k}"}
                publish_files(storage, sink, f"run{n}-{k}", files, mode="append")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=append, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    names = sorted(p.name for p in sink.rglob("*.txt"))
    assert names == sorted(f"run{n}-{k}.txt" for n in range(4) for k in range(5))
    assert_clean(tmp_path / "out")


def test_recovery_survives_the_staging_folder_vanishing(
    storage: LocalStorage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another run removes an empty .ede-staging/ at any moment, e.g. right after this
    # recovery saw it: recovery then has nothing to do, and staging still works.
    sink = tmp_path / "out" / "sink"
    (sink.parent / STAGING_DIR).mkdir(parents=True)
    real_is_dir = Path.is_dir

    def is_dir_then_vanish(self: Path) -> bool:
        answer = real_is_dir(self)
        if self.name == STAGING_DIR and answer:
            self.rmdir()
        return answer

    monkeypatch.setattr(Path, "is_dir", is_dir_then_vanish)
    storage.recover(str(sink))
    monkeypatch.undo()
    publish_files(storage, sink, "run1", {"a.txt": "a"})
    assert snapshot(sink) == snapshot_of(tmp_path / "expected", {"a.txt": "a"})
    assert_clean(tmp_path / "out")


def test_recovery_leaves_a_live_run_alone(tmp_path: Path) -> None:
    live, other = LocalStorage(), LocalStorage()
    sink = tmp_path / "out" / "sink"
    staged = stage_with(live, sink, "live", NEW)
    other.recover(str(sink))
    other_staged = stage_with(other, tmp_path / "out" / "other", "other", NEW)
    other.publish(other_staged)
    assert snapshot(Path(staged.path)) == snapshot_of(tmp_path / "expected", NEW)
    live.publish(staged)
    assert snapshot(sink) == snapshot_of(tmp_path / "expected", NEW)
    assert_clean(tmp_path / "out")


# ----------------------------------------------------------------------------- crashes

CRASH_CHILD = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from enterprise_data_engineering.storage.local import LocalStorage

    sink, point, exchange, mode = sys.argv[1:5]
    storage = LocalStorage(use_exchange=None if exchange == "1" else False)
    staged = storage.stage(sink, "crashing", "sink")
    new = Path(staged.path)
    for rel in ("region=eu/part-new-0.csv", "region=asia/part-new-0.csv"):
        (new / rel).parent.mkdir(parents=True, exist_ok=True)
        (new / rel).write_text(rel)
    run = storage._runs[(Path(staged.sink_path).parent / ".ede-staging", "crashing")]
    sink = Path(staged.sink_path)
    root = run.root
    if point == "staged":
        pass
    elif point == "linked":
        storage._link_existing(staged, sink, new)
    elif point == "swapped":
        if mode == "append":
            storage._link_existing(staged, sink, new)
        storage._swap(new, sink, run.path)
    elif point == "journal":
        storage._write_journal(root, sink.name, "crashing")
    elif point == "aside":
        storage._write_journal(root, sink.name, "crashing")
        sink.rename(run.path / (".ede-old-" + sink.name))
    elif point == "renamed":
        storage._write_journal(root, sink.name, "crashing")
        sink.rename(run.path / (".ede-old-" + sink.name))
        new.rename(sink)
    else:
        raise SystemExit("unknown point " + point)
    os._exit(0)  # die without any clean-up, as a killed run would
    """
)

# (point, exchange, mode, sink afterwards: "old" or "new")
CRASH_POINTS = [
    ("staged", "1", "overwrite", "old"),
    ("linked", "1", "append", "old"),
    ("swapped", "1", "overwrite", "new"),
    ("swapped", "1", "append", "new+old"),
    ("swapped", "0", "overwrite", "new"),
    ("journal", "0", "overwrite", "old"),
    ("aside", "0", "overwrite", "old"),
    ("renamed", "0", "overwrite", "new"),
]


@pytest.mark.parametrize(("point", "exchange", "mode", "outcome"), CRASH_POINTS)
def test_recovery_after_a_crash_at_each_step(
    tmp_path: Path, point: str, exchange: str, mode: str, outcome: str
) -> None:
    sink = tmp_path / "out" / "sink"
    write_files(sink, OLD)
    files = {
        "old": OLD,
        "new": {rel: rel for rel in NEW},
        "new+old": {**OLD, **{rel: rel for rel in NEW}},
    }[outcome]
    expected = snapshot_of(tmp_path / "expected", files)
    result = subprocess.run(
        [sys.executable, "-c", CRASH_CHILD, str(sink), point, exchange, mode],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / STAGING_DIR).exists()  # the dead run left its staging behind

    LocalStorage().recover(str(sink))
    assert snapshot(sink) == expected
    assert_clean(tmp_path / "out")

    # and the next run works without any manual clean-up
    publish_files(LocalStorage(), sink, "next", {"z.txt": "z"}, mode="append")
    assert snapshot(sink) == snapshot_of(tmp_path / "expected", {**files, "z.txt": "z"})
    assert_clean(tmp_path / "out")


def test_a_journal_whose_backup_is_gone_says_what_to_do(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / STAGING_DIR).mkdir(parents=True)
    (out / STAGING_DIR / "sink.journal").write_text("ghost")
    with pytest.raises(EdeRuntimeError, match="restore the folder"):
        LocalStorage().recover(str(out / "sink"))
    # it does not block the other sinks of the folder
    publish_files(LocalStorage(), out / "other", "run12", {"a.txt": "a"})
    assert (out / "other" / "a.txt").read_text() == "a"
    assert (out / STAGING_DIR / "sink.journal").exists()


# ----------------------------------------------------------------------------- kill -9

KILL_CHILD = textwrap.dedent(
    """
    import itertools, os, sys
    from pathlib import Path
    from enterprise_data_engineering.storage.local import LocalStorage

    sink, mode, exchange, files = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    storage = LocalStorage(use_exchange=None if exchange == "1" else False)
    for gen in itertools.count():
        run_id = f"g{gen}-{os.getpid()}"
        staged = storage.stage(sink, run_id, "sink")
        for i in range(files):
            path = Path(staged.path, f"p={i % 3}", f"{run_id}-{i}.txt")
            path.parent.mkdir(exist_ok=True)
            path.write_text(run_id)
        storage.publish(staged, mode)
        if gen == 0:
            print("ready", flush=True)
    """
)


def generations(sink: Path, files: int) -> list[str]:
    """The generations making up the sink; fails unless each one is complete."""
    found: dict[str, set[str]] = {}
    for path in sink.rglob("*.txt"):
        found.setdefault(path.read_text(), set()).add(str(path.relative_to(sink)))
    for gen, names in found.items():
        expected = {f"p={i % 3}/{gen}-{i}.txt" for i in range(files)}
        assert names == expected, f"generation {gen} is partial or mixed"
    return sorted(found)


def kill_rounds(tmp_path: Path, mode: str, exchange: str, rounds: int) -> None:
    files = 8
    rng = random.Random(20240601)
    sink = tmp_path / "out" / "sink"
    child = [sys.executable, "-c", KILL_CHILD, str(sink), mode, exchange, str(files)]
    for _ in range(rounds):
        proc = subprocess.Popen(child, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line == "ready\n", proc.stderr.read() if proc.stderr else ""
        threading.Event().wait(rng.uniform(0.0, 0.15))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL, proc.stderr.read() if proc.stderr else ""
        proc.stdout.close()
        if proc.stderr:
            proc.stderr.close()

        if exchange == "1":  # with RENAME_EXCHANGE the sink is whole even before recovery
            before = generations(sink, files)
            assert before, "the sink went missing"
            if mode == "overwrite":
                assert len(before) == 1, f"mixed sink: {before}"
        LocalStorage().recover(str(sink))
        after = generations(sink, files)
        assert after
        if mode == "overwrite":
            assert len(after) == 1, f"mixed sink: {after}"
        if exchange == "1":
            assert after == before
        assert_clean(tmp_path / "out")
        if mode == "append":  # keep the sink small: start the next round afresh
            shutil.rmtree(sink)


@pytest.mark.parametrize(
    ("mode", "exchange"),
    [("overwrite", "1"), ("append", "1"), ("overwrite", "0")],
    ids=["overwrite-exchange", "append-exchange", "overwrite-journaled"],
)
def test_kill_9_during_publish_smoke(tmp_path: Path, mode: str, exchange: str) -> None:
    kill_rounds(tmp_path, mode, exchange, rounds=3)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("mode", "exchange"),
    [("overwrite", "1"), ("append", "1"), ("overwrite", "0")],
    ids=["overwrite-exchange", "append-exchange", "overwrite-journaled"],
)
def test_kill_9_at_random_moments(tmp_path: Path, mode: str, exchange: str) -> None:
    kill_rounds(tmp_path, mode, exchange, rounds=30)


def test_list_files_through_the_storage(tmp_path: Path) -> None:
    write_files(tmp_path / "src", {"a.csv": "1"})
    assert storage_for(str(tmp_path)).list_files(str(tmp_path / "src")) == [
        str(tmp_path / "src" / "a.csv")
    ]


def test_a_file_in_place_of_the_staging_folder_is_an_error_not_a_hang(
    storage: LocalStorage, tmp_path: Path
) -> None:
    sink = tmp_path / "out" / "sink"
    write_files(sink, OLD)
    (sink.parent / STAGING_DIR).write_text("x", encoding="utf-8")
    with pytest.raises(EdeRuntimeError, match=r"`\.ede-staging` is not a folder"):
        storage.stage(str(sink), "run1", "sink")
    assert snapshot(sink) == snapshot_of(tmp_path / "expected", OLD)
