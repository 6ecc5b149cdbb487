"""A small seccomp filter for the bubblewrap sandbox: the system calls no program under test needs and a hostile one
would use against the harness.

- `keyctl`, `add_key`, `request_key`: bubblewrap leaves the harness's session keyring joined, so a program could read
  the user's keys (Kerberos tickets, tokens added with `keyctl padd @s`) or plant its own for later runs.
- `ptrace`, `process_vm_readv`, `process_vm_writev`: with a non-root harness the program shares the uid of
  bubblewrap's init and could rewrite it (e.g. to outlive its run).

Denied calls fail with EPERM. System calls of an architecture the filter does not describe (x32 on x86_64, say) are
denied wholesale: no program here uses them, and their numbers would slip past the table. Docker's default profile
denies the same calls in the docker sandbox.

The filter is classic BPF, assembled here (the format is stable and tiny), and handed to `bwrap --seccomp FD`.
"""
from __future__ import annotations

import os
import platform
import struct

_LD_W_ABS, _JEQ, _JSET, _RET = 0x20, 0x15, 0x45, 0x06
_ARCH_OFFSET, _NR_OFFSET = 4, 0  # in struct seccomp_data
_ALLOW, _DENY = 0x7FFF0000, 0x00050000 | 1  # SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO | EPERM
_X32_BIT = 0x40000000

# audit arch -> (ptrace, add_key, request_key, keyctl, process_vm_readv, process_vm_writev)
_X86_64, _I386, _AARCH64, _ARM = 0xC000003E, 0x40000003, 0xC00000B7, 0x40000028
DENIED = {
    _X86_64: (101, 248, 249, 250, 310, 311),
    _I386: (26, 286, 287, 288, 347, 348),
    _AARCH64: (117, 217, 218, 219, 270, 271),
    _ARM: (26, 309, 310, 311, 376, 377),
}
NATIVE = {"x86_64": (_X86_64, _I386), "amd64": (_X86_64, _I386), "aarch64": (_AARCH64, _ARM), "arm64": (_AARCH64, _ARM)}


def filter_program(machine: str | None = None) -> bytes | None:
    """The compiled filter for this machine's architectures, or None where the table has no numbers for it."""
    arches = NATIVE.get((machine or platform.machine()).lower())
    if arches is None:
        return None
    code: list[tuple[int, object, object, int]] = [(_LD_W_ABS, 0, 0, _ARCH_OFFSET)]
    for index, arch in enumerate(arches):
        code.append((_JEQ, 0, f"arch{index + 1}", arch))
        code.append((_LD_W_ABS, 0, 0, _NR_OFFSET))
        if arch == _X86_64:
            code.append((_JSET, "deny", 0, _X32_BIT))
        code += [(_JEQ, "deny", 0, number) for number in DENIED[arch]]
        code.append((_RET, 0, 0, _ALLOW))
        code.append(("label", f"arch{index + 1}", None, 0))
    code += [(_RET, 0, 0, _DENY), ("label", "deny", None, 0), (_RET, 0, 0, _DENY)]
    return _assemble(code)


def _assemble(code: list[tuple[int, object, object, int]]) -> bytes:
    """Resolve the labels (jumps are forward offsets from the next instruction) and pack `struct sock_filter`s."""
    labels, program = {}, []
    for op in code:
        if op[0] == "label":
            labels[op[1]] = len(program)
        else:
            program.append(op)
    packed = []
    for position, (opcode, jt, jf, k) in enumerate(program):
        offset = lambda target: labels[target] - position - 1 if isinstance(target, str) else target  # noqa: E731
        packed.append(struct.pack("HBBI", opcode, offset(jt), offset(jf), k))
    return b"".join(packed)


def filter_fd() -> int | None:
    """A file descriptor positioned at the start of the filter, for one bwrap to read (None: no filter here)."""
    program = filter_program()
    if program is None:
        return None
    fd = os.memfd_create("bbe-seccomp", 0)
    os.write(fd, program)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd
