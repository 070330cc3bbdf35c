package io.switchboard.bench;

/**
 * Receives the stamp carried back by each reply of a {@link RequestRig}. Called on the thread that polls the rig.
 */
@FunctionalInterface
public interface ReplyHandler
{
    /**
     * A reply arrived.
     *
     * @param stamp carried by the request it answers.
     */
    void onReply(long stamp);
}
