package io.switchboard.bench;

/**
 * Whether a peer system starts on this machine: {@code PeerCheck pubsub chronicle} builds that pub/sub rig with one
 * subscriber, moves a message through it and closes it. Exit status 0 if it worked, 1 (with the reason on standard
 * error) if not, 2 for bad usage; {@code scripts/bench} skips a peer that fails, with a note.
 */
public final class PeerCheck
{
    private PeerCheck()
    {
    }

    /**
     * Entry point.
     *
     * @param args {@code pubsub <system>} or {@code request <system>}.
     */
    public static void main(final String[] args)
    {
        if (args.length != 2 || !("pubsub".equals(args[0]) || "request".equals(args[0])))
        {
            System.err.println("usage: PeerCheck pubsub|request SYSTEM");
            System.exit(2);
        }
        try
        {
            if ("pubsub".equals(args[0]))
            {
                final PubSubRig rig = Rigs.pubSubRig(args[1], 1);
                rig.publishBatch(16);
                rig.close();
            }
            else
            {
                Rigs.requestRig(args[1]).close();
            }
            System.exit(0);
        }
        catch (final Throwable ex)
        {
            System.err.println(args[1] + " cannot run here: " + ex);
            System.exit(1);
        }
    }
}
