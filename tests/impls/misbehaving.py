#!/usr/bin/env python3
"""A faithful implementation that misbehaves on purpose, for the protocol's failure modes.

    python3 tests/impls/misbehaving.py MODE [N]

MODE: ``crash`` (a traceback on stderr, exit 1, at step N), ``exit`` (exit 0 at step N),
``garbage`` (a non-JSON line at step N), ``hang`` (no answer at step N), ``unsupported``
(declines every config whose counter_bits is not 32), ``unsupported-all`` (declines
every config), ``dead`` (exits before reading anything).
"""
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from faithful import Faithful  # noqa: E402


def main(argv):
    mode = argv[0]
    n = int(argv[1]) if len(argv) > 1 else 3
    if mode == "dead":
        print("misbehaving.py: giving up at once", file=sys.stderr)
        return 4
    impl = Faithful()
    ops = {"register": impl.register, "request": impl.request, "commit": impl.commit}
    step = 0
    for line in sys.stdin:
        obj = json.loads(line)
        if "trace" in obj:
            step = 0
            cfg = obj["config"]
            if mode == "unsupported-all" or (mode == "unsupported" and cfg["counter_bits"] != 32):
                answer = {"unsupported": "only 32-bit counters"}
            else:
                answer = impl.reset(cfg)
        else:
            step += 1
            if step == n:
                if mode == "crash":
                    raise RuntimeError(f"misbehaving.py: crashed on purpose at step {n}")
                if mode == "exit":
                    return 0
                if mode == "garbage":
                    print("this is not JSON", flush=True)
                    continue
                if mode == "hang":
                    time.sleep(3600)
            op = obj.pop("op")
            if op == "register":
                obj["headers"], obj["payload"] = tuple(obj["headers"]), tuple(obj["payload"])
            answer = ops[op](**obj)
        print(json.dumps(answer), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
