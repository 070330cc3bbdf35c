package io.switchboard.broker.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import io.switchboard.codec.frame.FrameFormat;
import io.switchboard.codec.frame.PayloadCodec;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * The last retained message of each subject published from a socket, bounded in bytes: over the bound a retain is
 * refused whole, and nothing already retained is evicted.
 * <p>
 * Not thread-safe: runs on the gateway's duty cycle.
 */
final class RetainedStore
{
    /** Heap a retained message costs besides its payload and subject (map entry, object, array headers). */
    static final int RETAINED_OVERHEAD = 96;

    /** The last retained message of a subject, kept as its JSON bytes (a tree would cost several times more). */
    static final class Retained
    {
        final byte[] json;
        final long timestampMs;
        final long size;

        Retained(final byte[] json, final long timestampMs, final long size)
        {
            this.json = json;
            this.timestampMs = timestampMs;
            this.size = size;
        }

        JsonNode payload(final PayloadCodec codec)
        {
            return codec.read(FrameFormat.JSON, json, 0, json.length);
        }
    }

    private final Map<String, Retained> bySubject = new HashMap<>();
    private final long maxBytes;
    private long bytes;

    /**
     * @param maxBytes bound on the bytes the store holds (0: nothing is retained).
     */
    RetainedStore(final long maxBytes)
    {
        this.maxBytes = maxBytes;
    }

    /**
     * The bytes a retained message is counted for.
     *
     * @param subject of the message.
     * @param json its payload.
     * @return payload, subject (two bytes a char) and overhead.
     */
    static long size(final String subject, final byte[] json)
    {
        return json.length + 2L * subject.length() + RETAINED_OVERHEAD;
    }

    /**
     * Keep (or replace) the last message of a subject, if the store stays within its bound.
     *
     * @param subject of the message.
     * @param json its payload.
     * @param timestampMs when it was published.
     * @return true if retained; false if over the bound (nothing changed).
     */
    boolean put(final String subject, final byte[] json, final long timestampMs)
    {
        final Retained old = bySubject.get(subject);
        final long size = size(subject, json);
        final long after = bytes - (null == old ? 0 : old.size) + size;
        if (after > maxBytes)
        {
            return false;
        }
        bySubject.put(subject, new Retained(json, timestampMs, size));
        bytes = after;
        return true;
    }

    Retained get(final String subject)
    {
        return bySubject.get(subject);
    }

    Set<String> subjects()
    {
        return bySubject.keySet();
    }

    boolean isEmpty()
    {
        return bySubject.isEmpty();
    }

    int size()
    {
        return bySubject.size();
    }

    long bytes()
    {
        return bytes;
    }

    long maxBytes()
    {
        return maxBytes;
    }
}
