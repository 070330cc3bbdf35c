/**
 * The Unix-socket gateway (PROTOCOL.md): length-prefixed JSON / MessagePack frames from programs in any language,
 * turned into the same calls and publications a Java peer makes. The gateway runs in the broker process on its own
 * thread as one peer of the data plane: a {@link io.switchboard.transport.Switchboard} client in invoker mode,
 * polled from the same duty cycle as a non-blocking selector over the socket connections.
 * <p>
 * Its roles are split as in Aeron's conductors: {@link io.switchboard.broker.gateway.GatewayConductor} (the agent:
 * sessions, socket I/O, shutdown), {@code FrameAdapter} (decoding and admission), {@code SessionProxy} (every
 * outbound frame), {@code RequestBridge} and {@code SocketServices} (calls both ways; with {@code SocketRegistration},
 * {@code SocketPayloads} and {@code SchemaReplies} a socket joins a name Java peers share with SBE), {@code SubjectBridge}
 * (publish-subscribe; retained values are the broker's, reached as any peer reaches them), {@code Discovery} and {@code GatewayStats}, which count instances through {@code ServiceInstances}. The bridges reach the Java
 * client through {@code GatewayClient}, so the unit tests drive them with a fake client and cached clocks.
 */
package io.switchboard.broker.gateway;
