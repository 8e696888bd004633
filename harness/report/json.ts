import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { toJsonValue, type JsonValue } from '../parse/json.ts';
import type { RunProvenance, Verdict } from '../core/vocabulary.ts';
import { toExactJson } from '../util/exact-json.ts';
import { harnessVersion } from '../util/harness-version.ts';
import { hostInfo } from './host.ts';

/**
 * report.json's format version: 2 added the harness, host and per-case
 * provenance (QEMU identity and command line, accelerator, the case as it ran).
 */
export const REPORT_SCHEMA_VERSION = 2;

/**
 * The JSON report: the schema version, the harness (version, commit), the host,
 * and per case: name, status, the inputs (kernel and firmware packages with
 * sha256), the QEMU (version, build key, binary), its full command line and
 * accelerator, parsed e820 and srat (addresses as `0x…` strings), QEMU's own
 * tables as the guest read them (fwCfgE820, acpiSrat), what changed on their
 * way to the kernel (layerPassage), layers not available (layerNotes), the
 * first layer that left the model (divergence), findings (each with its layer),
 * durationMs with its phases (QEMU start, QMP, guest, stop), what the run observed
 * (QEMU's refusal, QMP's answers, the guest's view: `compare` diffs it), and the case data as it ran (bigints boxed) for `reproduce`.
 */
export function verdictsToJson(verdicts: Verdict[]): JsonValue {
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    createdAt: new Date().toISOString(),
    harness: toJsonValue(harnessVersion()),
    host: toJsonValue(hostInfo()),
    cases: verdicts.map(caseToJson),
  };
}

function caseToJson(v: Verdict): JsonValue {
  const { caseData, ...provenance } = v.provenance ?? ({} as Partial<RunProvenance>);
  const plain = toJsonValue({
    name: v.name,
    status: v.status,
    reason: v.reason,
    machine: v.machine,
    firmware: v.firmware,
    kernel: v.kernel,
    qemu: v.qemu,
    firmwareVariant: v.firmwareVariant,
    inputs: v.inputs,
    ...(v.provenance ? { run: provenance } : {}),
    durationMs: Math.round(v.durationMs),
    ...(v.phases ? { phasesMs: Object.fromEntries(Object.entries(v.phases).map(([k, ms]) => [k.replace(/Ms$/, ''), Math.round(ms)])) } : {}),
    e820: v.e820.map(({ start, end, type, label }) => ({ start, end, type, label })),
    srat: v.srat.map(({ node, pxm, start, end, hotplug }) => ({ node, pxm, start, end, ...(hotplug ? { hotplug } : {}) })),
    fwCfgE820: v.fwCfgE820,
    acpiSrat: v.acpiSrat,
    layerPassage: v.layerPassage,
    layerNotes: v.layerNotes,
    divergence: v.divergence,
    findings: v.findings,
    serialLog: v.serialLog,
    scratchDir: v.scratchDir,
    addedByHarness: v.addedByHarness,
    observed: v.observed,
  }) as { [key: string]: JsonValue };
  // The case must come back exactly (bigint rows and all), so it is boxed, not 0x-formatted.
  return caseData === undefined ? plain : { ...plain, caseData: toExactJson(caseData) as JsonValue };
}

/** Writes the JSON report to `path`. */
export async function writeJsonReport(path: string, verdicts: Verdict[]): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(verdictsToJson(verdicts), null, 2)}\n`);
}
