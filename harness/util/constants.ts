/** Fixed numbers several stages share (util/ depends on nothing else in the harness). */

/** 1 KiB, 1 MiB, 1 GiB in bytes. */
export const KIB = 1n << 10n;
export const MIB = 1n << 20n;
export const GIB = 1n << 30n;

/** The 4 GiB boundary: where x86 RAM above the PCI hole starts, and where `above-4g` expectations begin. */
export const FOUR_GIB = 1n << 32n;

/** The line images/guest/init prints when the guest probe has printed everything (the parser reads every marker of that family). */
export const GUEST_DONE = '==== memmap-harness: probe done ====';
