/**
 * Why the server refused a client's message. Sent to that client only, as
 * `{"aid":"error","error":{code,message}}` (DIFF) or
 * `{"action":"error","error":{code,message}}` (action protocol), and counted
 * in `tickflow_websocket_client_errors_total{code}`; the connection stays open.
 */
export const ClientErrorCode = {
  /** The message is not JSON. */
  BAD_JSON: 'BAD_JSON',
  /** A DIFF message whose `aid` the server does not serve. */
  UNKNOWN_AID: 'UNKNOWN_AID',
  /** An action-protocol message whose `action` the server does not serve. */
  UNKNOWN_ACTION: 'UNKNOWN_ACTION',
  /** A field is missing or has the wrong type. */
  BAD_REQUEST: 'BAD_REQUEST',
  /** The client sent more messages per second than allowed; the message was ignored. */
  RATE_LIMITED: 'RATE_LIMITED',
  /** The subscription would exceed the per-client limit; it was not applied. */
  TOO_MANY_SUBSCRIPTIONS: 'TOO_MANY_SUBSCRIPTIONS',
  /** The message is nested deeper than a request can be; it was not read. */
  TOO_DEEP: 'TOO_DEEP',
  /** The answer would be larger than the sink's `max_reply_bytes` (e.g. listing every instrument); ask for less. */
  REPLY_TOO_LARGE: 'REPLY_TOO_LARGE',
  /** The server failed on this message; it was not applied. Logged on the server. */
  INTERNAL_ERROR: 'INTERNAL_ERROR',
} as const;

export type ClientErrorCode = (typeof ClientErrorCode)[keyof typeof ClientErrorCode];

/** Why a connection was refused or closed, counted in `tickflow_websocket_client_errors_total{code}` like the message codes. */
export const ConnectionErrorCode = {
  /** Connection: no or a wrong token. */
  UNAUTHORIZED: 'UNAUTHORIZED',
  /** Connection: the server or the client's address holds as many connections as allowed. */
  TOO_MANY_CONNECTIONS: 'TOO_MANY_CONNECTIONS',
  /** Connection: the upgrade request could not be read (a target that is no URL, say). */
  BAD_UPGRADE: 'BAD_UPGRADE',
  /** Connection: the client kept sending far past its byte rate; closed with 1008. */
  FLOODING: 'FLOODING',
  /** Connection: the client did not read what it was sent; disconnected. */
  SLOW_CONSUMER: 'SLOW_CONSUMER',
  /** Connection: a frame over `max_frame_bytes`; ws closed it with 1009. */
  FRAME_TOO_LARGE: 'FRAME_TOO_LARGE',
  /** Connection: a frame that breaks the WebSocket protocol; ws closed it. */
  PROTOCOL_ERROR: 'PROTOCOL_ERROR',
} as const;

/** A refusal: the code a program branches on and a message, naming the field and value, a person reads. */
export interface ClientError {
  readonly code: ClientErrorCode;
  readonly message: string;
}
