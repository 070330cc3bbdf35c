/**
 * The Unix-socket gateway (PROTOCOL.md): length-prefixed JSON / MessagePack frames from programs in any language,
 * turned into the same calls and publications a Java peer makes. The gateway runs in the broker process on its own
 * thread as one peer of the data plane: a {@link io.switchboard.transport.Switchboard} client in invoker mode,
 * polled from the same duty cycle as a non-blocking selector over the socket connections.
 */
package io.switchboard.broker.gateway;
