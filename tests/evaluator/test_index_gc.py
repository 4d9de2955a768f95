"""The per-PolicySet index survives garbage collection that runs while it is built."""

import threading

import netpolicy
from netpolicy.resolve import index as _index


def test_finalizer_inside_index_build_does_not_deadlock() -> None:
    # A collected PolicySet's finalizer may run in the thread that holds the lock to
    # build another index; it must not wait for itself.
    done = threading.Event()

    def forget_while_holding_the_lock() -> None:
        with _index._LOCK:
            _index._forget(-1, object())  # type: ignore[arg-type]
        done.set()

    worker = threading.Thread(target=forget_while_holding_the_lock, daemon=True)
    worker.start()
    worker.join(timeout=120)  # a bound on a deadlock, not on speed: the work is a few lines
    assert done.is_set()


def test_index_is_dropped_with_its_policy_set() -> None:
    import gc

    ps = netpolicy.loads("apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n")
    ps.evaluate(netpolicy.Flow(src="10.0.0.1", dst="10.0.0.2"))
    key = id(ps)
    assert key in _index._INDEXES
    del ps
    gc.collect()
    assert key not in _index._INDEXES
