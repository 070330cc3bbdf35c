/**
 * The broker: the {@link io.switchboard.broker.BrokerConductor} (single writer of the service registry, the subject
 * table, inbox stream ids, liveness and counters) with its roles: the control adapter and proxy
 * ({@link io.switchboard.broker.BrokerControlAdapter}, {@link io.switchboard.broker.BrokerControlProxy}), the
 * liveness and pause tracker ({@link io.switchboard.broker.PeerLiveness}) and the broker's own Aeron client for its
 * counters ({@link io.switchboard.broker.CountersClient}); the embedded media driver, and the daemon's {@code main}.
 * <p>
 * The broker is on the control path only: Java calls and publications go peer to peer over Aeron IPC.
 */
package io.switchboard.broker;
