"""A one-line fix as a variant (built in as `flush-bg-after-end`, model/fixes.py): flush the queue's bg list again after
fuse_request_end() has dropped fc->active_background (docs/variants.md).

    bufring explore --variant docs/examples/variant_flush_bg_after_end.py:FLUSH_AFTER_END \
        --scope background-limit
"""
from bufring.model import kernel
from bufring.model.variant import V2


def req_end_then_flush(k, q, i, req):
    """fuse_uring_req_end() as v2, then (the fix) flush this queue's bg list again."""
    kernel.fuse_uring_req_end(k, q, i, req)
    if req.background:
        k.fn.fuse_uring_flush_bg(k, q)


FLUSH_AFTER_END = V2.derive("flush-bg-after-end", "flush the bg list again once "
                            "fuse_request_end() dropped fc->active_background",
                            fuse_uring_req_end=req_end_then_flush)
