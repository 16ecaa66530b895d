// The part of syslog-client (a devDependency without types) the sink benchmark uses.
declare module "syslog-client" {
  import type { EventEmitter } from "node:events";

  export interface ClientOptions {
    transport?: number;
    port?: number;
    facility?: number;
    severity?: number;
    rfc3164?: boolean;
    appName?: string;
    syslogHostname?: string;
    tcpTimeout?: number;
  }

  export interface LogOptions {
    facility?: number;
    severity?: number;
    rfc3164?: boolean;
    appName?: string;
    syslogHostname?: string;
    msgid?: string;
    timestamp?: Date;
  }

  export interface Client extends EventEmitter {
    log(message: string, options: LogOptions, cb: (error?: Error) => void): Client;
    close(): Client;
  }

  const syslog: {
    createClient(target: string, options: ClientOptions): Client;
    Transport: { Tcp: number; Udp: number };
    Facility: Record<string, number>;
    Severity: Record<string, number>;
  };
  export default syslog;
}
