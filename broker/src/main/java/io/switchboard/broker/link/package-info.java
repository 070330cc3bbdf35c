/**
 * Links between brokers on different hosts, over Aeron UDP on the broker's embedded media driver (docs/LINKS.md).
 * <p>
 * A {@link io.switchboard.broker.link.LinkConductor} runs on its own thread in the broker process. For each configured
 * peer broker it holds one Aeron UDP publication to the peer's link endpoint and one ordinary Java client of its own
 * broker ({@link io.switchboard.broker.link.PeerLink}): that client serves, under their own names, the services the
 * peer has and this host lacks, and subscribes to the patterns the peer's subscribers hold. A call to such a name
 * arrives at the link's client, crosses the link as a LinkRequest and is made on the far side by the peer's link
 * client with an ordinary request, whose answer comes back the same way. Publications matching a peer's interest
 * cross as LinkPublication and are published again on the far side by the link client, whose own publications are
 * never sent back (no loops). The link is authenticated by an HMAC-SHA256 challenge with a shared secret
 * ({@link io.switchboard.broker.link.LinkSecret}) and watched by heartbeats: a silent link is taken down, its calls
 * in flight answered SERVICE_UNAVAILABLE, its routes and interest withdrawn, and brought up again by itself.
 */
package io.switchboard.broker.link;
