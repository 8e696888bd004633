import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { toJsonValue, type JsonValue } from '../parse/json.ts';
import type { Verdict } from '../core/vocabulary.ts';

/** The JSON report: per case name, status, parsed e820 and srat (addresses as `0x…` strings), findings, durationMs, the QEMU arguments and what the harness added to them. */
export function verdictsToJson(verdicts: Verdict[]): JsonValue {
  return {
    cases: verdicts.map((v) =>
      toJsonValue({
        name: v.name,
        status: v.status,
        reason: v.reason,
        machine: v.machine,
        firmware: v.firmware,
        kernel: v.kernel,
        qemu: v.qemu,
        firmwareVariant: v.firmwareVariant,
        inputs: v.inputs,
        durationMs: Math.round(v.durationMs),
        e820: v.e820.map(({ start, end, type, label }) => ({ start, end, type, label })),
        srat: v.srat.map(({ node, pxm, start, end, hotplug }) => ({ node, pxm, start, end, ...(hotplug ? { hotplug } : {}) })),
        findings: v.findings,
        serialLog: v.serialLog,
        qemuArgs: v.qemuArgs,
        addedByHarness: v.addedByHarness,
      }),
    ),
  };
}

/** Writes the JSON report to `path`. */
export async function writeJsonReport(path: string, verdicts: Verdict[]): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(verdictsToJson(verdicts), null, 2)}\n`);
}
