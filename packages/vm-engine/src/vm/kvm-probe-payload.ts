// A 174-byte multiboot (v1, a.out kludge) kernel that proves KVM really runs guest code: it
// enters long mode, counts 50,000,000 iterations, then writes 0x10 to an isa-debug-exit port, so
// QEMU exits with status (0x10 << 1) | 1 = 33. Real KVM does this in a few milliseconds; a KVM
// that opens and creates VMs but cannot run a guest at speed (nested setups, kvm-pvm) does not
// finish within the probe's deadline, and TCG is used instead.
//
// Source (GNU as, `as --64 probe.S && ld -m elf_x86_64 -Ttext 0x100000 --oformat binary`):
//     .code32
//   _start: .long 0x1BADB002, 0x00010000, -(0x1BADB002 + 0x00010000)
//           .long _start, _start, 0, 0, entry        # header, load, load_end, bss_end, entry
//   entry:  cli
//           mov $0x110000, %edi; xor %eax, %eax; mov $3072, %ecx; rep stosl   # 3 zeroed pages
//           movl $0x111003, 0x110000; movl $0x112003, 0x111000; movl $0x83, 0x112000  # PML4, PDPT, 2M page
//           mov $0x110000, %eax; mov %eax, %cr3
//           mov %cr4, %eax; or $0x20, %eax; mov %eax, %cr4                  # PAE
//           mov $0xC0000080, %ecx; rdmsr; or $0x100, %eax; wrmsr            # EFER.LME
//           lgdt gdtr
//           mov %cr0, %eax; or $0x80000001, %eax; mov %eax, %cr0            # PG | PE
//           ljmp $0x08, $long_entry
//     .code64
//   long_entry: mov $50000000, %ecx
//   1:      dec %ecx; jnz 1b
//           mov $0x10, %al; out %al, $0xf4
//   2:      hlt; jmp 2b
//     .align 8
//   gdt:    .quad 0, 0x00209A0000000000
//   gdtr:   .word gdtr - gdt - 1; .long gdt

/** The probe kernel, base64. */
export const KVM_PROBE_KERNEL_BASE64 =
  "ArCtGwAAAQD+T1HkAAAQAAAAEAAAAAAAAAAAACAAEAD6vwAAEQAxwLkADAAA86vHBQAAEQADEBEAxwUAEBEAAyARAMcFACARAIMAAAC4AAARAA8i2A8g4IPIIA8i4LmAAADADzINAAEAAA8wDwEVqAAQAA8gwA0BAACADyLA6oUAEAAIALmA8PoC/8l1/LAQ5vT06/0PHwAAAAAAAAAAAAAAAAAAmiAADwCYABAA";

/** QEMU's exit status when the probe kernel ran to its end. */
export const KVM_PROBE_SUCCESS_STATUS = 33;

/** The QEMU arguments that run the probe kernel at `kernelPath` under KVM. */
export function kvmProbeArgs(kernelPath: string): string[] {
  return [
    "-accel",
    "kvm",
    "-machine",
    "pc",
    "-cpu",
    "host",
    "-m",
    "16",
    "-nodefaults",
    "-no-user-config",
    "-display",
    "none",
    "-no-reboot",
    "-device",
    "isa-debug-exit,iobase=0xf4,iosize=0x04",
    "-kernel",
    kernelPath,
  ];
}
