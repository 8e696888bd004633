/*
 * QMP wire shapes (docs/interop/qmp-spec.rst). Everything on the wire is one
 * JSON object per line; these types name the four kinds the client cares about.
 */

/** Any JSON value as JSON.parse returns it. */
export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;

/** A JSON object: the only top-level shape QMP sends or accepts. */
export interface JsonObject {
  [key: string]: JsonValue;
}

/** `{"qemu": {"major", "minor", "micro"}, "package"}` as in the greeting and `query-version`. */
export interface QemuVersionInfo {
  qemu: { major: number; minor: number; micro: number };
  package: string;
}

/** The greeting QEMU sends first on every new connection. */
export interface QmpGreeting {
  QMP: { version: QemuVersionInfo; capabilities: string[] };
}

/** An asynchronous event, e.g. `{"event": "STOP", "timestamp": {...}}`. */
export interface QmpEvent {
  event: string;
  data?: JsonObject;
  timestamp: { seconds: number; microseconds: number };
}

/** A command's success reply. */
export interface QmpReturn {
  return: JsonValue;
  id?: JsonValue;
}

/** A command's failure reply. */
export interface QmpErrorReply {
  error: { class: string; desc: string };
  id?: JsonValue;
}

/** True for a JSON object (not an array, not null). */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** True when the message is a greeting with a version. */
export function isGreeting(message: JsonObject): message is JsonObject & QmpGreeting {
  const qmp = message.QMP;
  return isJsonObject(qmp) && isJsonObject(qmp.version) && isJsonObject(qmp.version.qemu) && Array.isArray(qmp.capabilities);
}

/** True when the message is an event. */
export function isEvent(message: JsonObject): message is JsonObject & QmpEvent {
  return typeof message.event === 'string';
}

/** True when the message answers a command (success or error). */
export function isReply(message: JsonObject): message is JsonObject & (QmpReturn | QmpErrorReply) {
  return 'return' in message || isJsonObject(message.error);
}

/** True when the reply is an error reply. */
export function isErrorReply(message: JsonObject): message is JsonObject & QmpErrorReply {
  return isJsonObject(message.error);
}
