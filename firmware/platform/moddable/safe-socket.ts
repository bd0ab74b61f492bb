/**
 * The socket the SDK's MQTT client opens, with `close()` put off to a fresh turn of the event loop.
 *
 * Why: in the SDK's Linux socket (modules/network/socket/lin/modSocket.c, 8.2.3), when the peer closes
 * a connection the runtime calls the socket's callback, and if that callback closes the socket — as the
 * SDK's own mqtt.js does on every socket error — the close drops the last use count and frees the
 * socket while the runtime is still inside its read handler, which then uses the freed memory: mcsim
 * dies with SIGSEGV on every broker disconnect (seen here on each outage). Closed from a timer, after the
 * callback has returned, the runtime has already marked it done; the close then throws "close on closed
 * socket" (ignored) and the socket is freed when collected. On the ESP32 (modLwipSafe) deferring the
 * close changes nothing but its timing.
 */
import { Socket, type TCPSocketOptions } from 'socket';
import Timer from 'timer';

/** A constructor for mqtt's `Socket` option: `new safeCloseSocket(options)` gives the SDK's socket. */
export function safeCloseSocket(options: TCPSocketOptions): InstanceType<typeof Socket> {
  const socket = new Socket({ ...options, kind: 'TCP' });
  const close = socket.close;
  // defineProperty, not assignment: the preloaded prototype is frozen, and assigning over a frozen
  // inherited method throws in strict code
  Object.defineProperty(socket, 'close', {
    value: () => {
      Timer.set(() => {
        try {
          close.call(socket);
        } catch {
          // the runtime closed it already (the peer went away): nothing to free now
        }
      }, 0);
    },
  });
  return socket;
}
