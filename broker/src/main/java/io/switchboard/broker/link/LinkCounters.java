package io.switchboard.broker.link;

/**
 * What the links counted: refusals, links lost, conflicts, publications sent, received and dropped. Written by the
 * link conductor's thread; read by others only for the log line on close.
 */
final class LinkCounters
{
    long refusedUnconfigured;
    long refusedProofs;
    long unauthenticatedMessages;
    long linksDown;
    long conflicts;
    long sendFailures;
    long publicationsSent;
    long publicationsReceived;
    long publicationsDropped;

    @Override
    public String toString()
    {
        return "refused unconfigured=" + refusedUnconfigured + " refused proofs=" + refusedProofs +
            " unauthenticated messages=" + unauthenticatedMessages + " links down=" + linksDown +
            " name conflicts=" + conflicts + " send failures=" + sendFailures + " publications sent=" +
            publicationsSent + " received=" + publicationsReceived + " dropped=" + publicationsDropped;
    }
}
