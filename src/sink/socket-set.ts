// The sockets a sink created whose 'close' has not fired yet: closing waits for them all, or forces them.
import type net from "node:net";

export interface SocketSet {
  /** Keeps the socket until its 'close' fires. */
  track(socket: net.Socket): void;
  /** Settles when this socket has closed; undefined for one not tracked (or already closed). */
  closed(socket: net.Socket): Promise<void> | undefined;
  /** Settles when every tracked socket has closed. */
  allClosed(): Promise<void>;
  destroyAll(): void;
}

export function createSocketSet(): SocketSet {
  const sockets = new Map<net.Socket, Promise<void>>();
  return {
    track(socket) {
      sockets.set(
        socket,
        new Promise((resolve) =>
          socket.once("close", () => {
            sockets.delete(socket);
            resolve();
          }),
        ),
      );
    },
    closed: (socket) => sockets.get(socket),
    async allClosed() {
      await Promise.all(sockets.values());
    },
    destroyAll() {
      for (const socket of sockets.keys()) socket.destroy();
    },
  };
}
