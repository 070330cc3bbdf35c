/**
 * The Java API of Switchboard ({@link io.switchboard.transport.Switchboard}) and the plumbing under it: the control
 * connection to the broker, the peer's inbox and publications over Aeron IPC, the route table, calls in flight.
 * <p>
 * A call travels caller inbox-publication to service inbox and back, never through the broker; the broker only
 * tells peers where services live (route updates) and who went away.
 */
package io.switchboard.transport;
