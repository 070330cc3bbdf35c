/**
 * The broker: the {@link io.switchboard.broker.BrokerConductor} (single writer of the service registry, the subject
 * table, inbox stream ids, liveness and counters), the embedded media driver, and the daemon's {@code main}.
 * <p>
 * The broker is on the control path only: Java calls and publications go peer to peer over Aeron IPC.
 */
package io.switchboard.broker;
