"""Sizes, offsets and constants of the uapi and kernel structures (SEMANTICS §8.3).

One place for every layout number the model, the layout calculator and the SMT
engine use. LP64 (x86-64) throughout.
"""

# --- include/uapi/linux/fuse.h ---------------------------------------------------
FUSE_URING_BUFRING = 1 << 0            # fuse_uring_cmd_req.flags, new in 7.46
VALID_INIT_FLAGS = FUSE_URING_BUFRING  # init_flags_valid(): the only accepted bit

FUSE_IO_URING_CMD_REGISTER = 1
FUSE_IO_URING_CMD_COMMIT_AND_FETCH = 2

# struct fuse_uring_req_header: in_out[128] @0, op_in[128] @128, ring_ent_in_out @256.
IN_OUT_HEADER_SZ = 128
OP_IN_SZ = 128
HEADER_OFFSET_IN_OUT = 0               # FUSE_URING_HEADER_IN_OUT
HEADER_OFFSET_OP = 128                 # FUSE_URING_HEADER_OP
HEADER_OFFSET_RING_ENT = 256           # FUSE_URING_HEADER_RING_ENT
RING_ENT_IN_OUT_SZ = 32                # struct fuse_uring_ent_in_out
REQ_HEADER_SZ = 288                    # sizeof(struct fuse_uring_req_header)
REQ_HEADER_ALIGN = 8                   # its alignment (u64 fields)
FUSE_IN_HEADER_SZ = 40                 # struct fuse_in_header

# struct fuse_uring_ent_in_out (32 bytes): field -> (offset, size)
ENT_IN_OUT_LAYOUT = {
    "flags": (0, 8),
    "commit_id": (8, 8),
    "payload_sz": (16, 4),
    "buf_id": (20, 2),                 # new: u16, id of the selected buffer
    "padding": (22, 2),
    "reserved": (24, 8),
}

# struct fuse_uring_cmd_req after the patch (32 bytes, in the SQE128 cmd area).
CMD_REQ_LAYOUT = {
    "flags": (0, 8),
    "commit_id": (8, 8),
    "qid": (16, 2),
    "padding": (18, 2),
    "init.buf_size": (20, 4),
    "init.queue_depth": (24, 2),
    "init.padding": (26, 2),
}
CMD_REQ_SZ = 32
SQE128_CMD_AREA_OFFSET = 48
SQE128_CMD_AREA_SZ = 80

# --- kernel-internal (fs/fuse/dev_uring_i.h) --------------------------------------
FUSE_BUFRING_BUF_SZ = 16               # struct fuse_bufring_buf {addr, len, id}
FUSE_BUFRING_HDR_SZ = 24               # struct fuse_bufring before bufs[]
NBUFS_MAX = 0xFFFF                     # U16_MAX: nr_bufs > U16_MAX -> -EINVAL
FUSE_URING_IOV_SEGS = 2                # iov[0] = headers, iov[1] = payload

# --- user-memory limits the REGISTER path meets (lib/iov_iter.c, x86-64) ----------
PAGE_SIZE = 4096                       # x86-64; MAX_RW_COUNT and TASK_SIZE_MAX build on it
MAX_RW_COUNT = 0x7FFFF000              # INT_MAX & PAGE_MASK
TASK_SIZE_MAX = (1 << 47) - 4096       # access_ok(): base + len must not exceed it

# --- fuse_conn defaults (SEMANTICS §9) --------------------------------------------
FUSE_MIN_READ_BUFFER = 8192
DEFAULT_MAX_PAYLOAD_SZ = 32 * 4096     # default max_pages x PAGE_SIZE
DEFAULT_MAX_BACKGROUND = 12            # FUSE_DEFAULT_MAX_BACKGROUND


def header_slot(headers: int, ent_id: int) -> int:
    """User address of header slot ``ent_id``: ``headers + 288 * id`` (§8.2 item 10)."""
    return headers + REQ_HEADER_SZ * ent_id
