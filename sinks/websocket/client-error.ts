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
} as const;

export type ClientErrorCode = (typeof ClientErrorCode)[keyof typeof ClientErrorCode];

/** A refusal: the code a program branches on and a message, naming the field and value, a person reads. */
export interface ClientError {
  readonly code: ClientErrorCode;
  readonly message: string;
}
