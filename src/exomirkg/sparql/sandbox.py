"""Walls a query process puts up around itself before it answers anything.

The guard (``guard.verify``) refuses SERVICE on a real parse; this is the second, independent
wall: a query process cannot open a network socket at all, so even a future guard bug reaches
nothing. It is a seccomp filter (Linux's own syscall filter, no privilege needed): ``socket()``
is refused for every address family but AF_UNIX, and so is ``io_uring_setup`` (io_uring can
open sockets without the ``socket`` syscall). The process keeps the pipes it was started with,
which is all it needs. A memory limit (``RLIMIT_AS``) bounds what one query can allocate; the
parent also watches the process's resident memory (``engine``), so neither check stands alone.

libseccomp's Python bindings are not on PyPI (pyseccomp wraps the C library through ctypes and
has not been released since 2021), and the filter is eleven BPF instructions, so it is written
here with ctypes against ``prctl``.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import resource
import struct

__all__ = ["address_space", "deny_network", "limit_memory", "rss_bytes"]

#: Per architecture: the seccomp audit value and the numbers of socket() and io_uring_setup().
_ARCHES = {
    "x86_64": (0xC000003E, 41, 425),
    "aarch64": (0xC00000B7, 198, 425),
}
_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2
_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
_RET_KILL_PROCESS = 0x80000000
_LD_ABS_W = 0x20  # BPF_LD | BPF_W | BPF_ABS
_JEQ_K = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_JGE_K = 0x35  # BPF_JMP | BPF_JGE | BPF_K
_RET_K = 0x06  # BPF_RET | BPF_K
_X32_BIT = 0x40000000
_AF_UNIX = 1
_PAGE = os.sysconf("SC_PAGE_SIZE")


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _program(arch: int, nr_socket: int, nr_io_uring: int) -> bytes:
    # struct seccomp_data: int nr @0, u32 arch @4, u64 ip @8, u64 args[6] @16 (little endian).
    deny = _RET_ERRNO | errno.EACCES
    code = [
        (_LD_ABS_W, 0, 0, 4),             # 0: A = arch
        (_JEQ_K, 1, 0, arch),             # 1: native ABI? go on : kill
        (_RET_K, 0, 0, _RET_KILL_PROCESS),  # 2: another ABI (i386 int 0x80): never expected
        (_LD_ABS_W, 0, 0, 0),             # 3: A = syscall number
        (_JGE_K, 4, 0, _X32_BIT),         # 4: x32 numbering -> deny
        (_JEQ_K, 3, 0, nr_io_uring),      # 5: io_uring_setup -> deny
        (_JEQ_K, 0, 3, nr_socket),        # 6: socket -> check family, else allow
        (_LD_ABS_W, 0, 0, 16),            # 7: A = first argument (address family)
        (_JEQ_K, 1, 0, _AF_UNIX),         # 8: AF_UNIX -> allow
        (_RET_K, 0, 0, deny),             # 9: deny with EACCES
        (_RET_K, 0, 0, _RET_ALLOW),       # 10: allow
    ]
    return b"".join(struct.pack("=HBBI", *instruction) for instruction in code)


def deny_network() -> bool:
    """Forbid this process (and threads it starts later) to open network sockets.

    Call it before starting threads. Irreversible for the life of the process.

    :returns: whether the filter is in place (False on an architecture it does not know).
    :raises OSError: the kernel refused the filter.
    """
    numbers = _ARCHES.get(platform.machine())
    if numbers is None:
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    program = _program(*numbers)
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // 8, ctypes.addressof(buffer))
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 or libc.prctl(
            _PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"seccomp filter refused: {os.strerror(code)}")
    return True


def _statm(pid: int | str) -> tuple[int, int]:
    with open(f"/proc/{pid}/statm", encoding="ascii") as handle:
        size, resident = handle.read().split()[:2]
    return int(size) * _PAGE, int(resident) * _PAGE


def address_space() -> int:
    """This process's virtual memory size in bytes."""
    return _statm("self")[0]


def rss_bytes(pid: int) -> int:
    """Resident memory of process ``pid`` in bytes (0 once it is gone)."""
    try:
        return _statm(pid)[1]
    except (OSError, ValueError):
        return 0


def limit_memory(extra: int) -> int:
    """Cap this process's address space at its current size plus ``extra`` bytes.

    Allocation past the cap fails: Python raises MemoryError, Rust code aborts the process.

    :returns: the cap in bytes.
    """
    cap = address_space() + extra
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    return cap
