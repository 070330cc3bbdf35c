package io.switchboard.examples;

import io.switchboard.transport.Switchboard;

import java.nio.ByteOrder;
import java.nio.file.Paths;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;

/**
 * A subscriber process that checks what it reads, per subject: every publication carries its own sequence number as
 * an 8-byte payload, sequences run without gaps from the first one seen, no loss is reported and the message type is
 * the expected one. Prints {@code seen <subject>} on a subject's first publication and one {@code report} line per
 * subject when a publication on {@code <prefix>.END} arrives.
 */
public final class SequenceCheckingSubscriber
{
    private static final class Tally
    {
        long count;
        long first;
        long last;
        long gaps;
        long lost;
        long badPayloads;
        long badTypes;
    }

    private SequenceCheckingSubscriber()
    {
    }

    /**
     * Entry point.
     *
     * @param args the broker's socket directory, a pattern such as {@code fast.*}, and the expected message type.
     * @throws InterruptedException never in practice.
     */
    public static void main(final String[] args) throws InterruptedException
    {
        final String pattern = args[1];
        final String messageType = args[2];
        final String end = pattern.substring(0, pattern.lastIndexOf('.')) + ".END";
        final Switchboard client = Switchboard.connect(new Switchboard.Context()
            .controlSocket(Paths.get(args[0], "control.sock"))
            .clientName("sequence-checker"));
        final Map<String, Tally> tallies = new TreeMap<>();
        client.subscribe(pattern, (push, buffer, offset, length) ->
        {
            final String subject = push.subject().toString();
            if (end.equals(subject))
            {
                tallies.forEach((s, t) -> System.out.println("report " + s + " count=" + t.count + " first=" +
                    t.first + " last=" + t.last + " gaps=" + t.gaps + " lost=" + t.lost + " badPayloads=" +
                    t.badPayloads + " badTypes=" + t.badTypes));
                System.out.println("reports done");
                System.out.flush();
                return;
            }
            final Tally t = tallies.computeIfAbsent(subject, (s) -> new Tally());
            if (0 == t.count)
            {
                System.out.println("seen " + subject);
                System.out.flush();
            }
            final long sequence = push.sequence();
            if (0 == t.count)
            {
                t.first = sequence;
            }
            else if (sequence != t.last + 1)
            {
                t.gaps++;
            }
            t.count++;
            t.last = sequence;
            t.lost += push.lostBefore();
            if (8 != length || buffer.getLong(offset, ByteOrder.LITTLE_ENDIAN) != sequence)
            {
                t.badPayloads++;
            }
            if (!messageType.contentEquals(push.messageType()))
            {
                t.badTypes++;
            }
        });
        System.out.println("subscriber ready");
        System.out.flush();
        new CountDownLatch(1).await();
    }
}
