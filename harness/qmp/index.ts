/** The QMP client: transports, protocol, errors and typed queries. */
export { QmpClient, EVENT_LOG_LIMIT, type ExecuteOptions, type QmpConnectOptions, type WaitForEventOptions } from './client.ts';
export { ConnectError, ConnectionLostError, ExecuteError, GreetingError, NegotiationError, QmpError, QmpTimeoutError, ServerParseError } from './errors.ts';
export { IothreadWaker } from './iothread-waker.ts';
export { JsonLineDecoder } from './line-decoder.ts';
export type { JsonObject, JsonValue, QemuVersionInfo, QmpEvent, QmpGreeting } from './messages.ts';
export { parseNumaText, type NumaNodeText, type NumaText } from './numa-text.ts';
export * from './queries.ts';
export type { QmpTransport, TransportHandlers } from './transport.ts';
export { UnixListener, UnixSocketTransport } from './unix-transport.ts';
export { connectWebSocket, WebSocketTransport, type OpenedSocket, type WebSocketConnectOptions } from './websocket-transport.ts';
